"""``python -m framework``: routes, stack, run, and clear errors for a wrong target."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from support import Process, free_port

from framework import cli

REPO = Path(__file__).resolve().parents[2]

MODULE = """
from framework import App

app = App(__name__)


@app.get("/")
def index(request):
    return "hello from the cli app"


@app.route("/users/<int:user_id>", methods=["GET", "POST"], name="user")
def show_user(request, user_id):
    return {"id": user_id}


@app.delete("/items/<name>")
def remove_item(request, name):
    return "", 204


class Outer:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


class Inner(Outer):
    pass


application = Outer(Inner(app))
NOT_CALLABLE = 42
"""


@pytest.fixture
def project(tmp_path):
    """A folder holding ``cliapp.py``, used as the current directory of the CLI."""
    (tmp_path / "cliapp.py").write_text(textwrap.dedent(MODULE))
    return tmp_path


def cli_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def framework_cli(project, *args, timeout=30):
    return subprocess.run(
        [sys.executable, "-m", "framework", *args],
        cwd=project,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_routes_prints_a_table(project):
    result = framework_cli(project, "routes", "cliapp:app")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = lines[0].lower()
    assert "rule" in header and "method" in header and "name" in header

    def line_for(rule):
        found = [line for line in lines if rule in line.split()]
        assert found, f"{rule} not in\n{result.stdout}"
        return found[0].split()

    user = line_for("/users/<int:user_id>")
    assert "user" in user
    assert any("GET" in cell for cell in user) and any("POST" in cell for cell in user)
    index = line_for("/")
    assert "index" in index and any("GET" in cell for cell in index)
    remove = line_for("/items/<name>")
    assert "remove_item" in remove and any("DELETE" in cell for cell in remove)


def test_stack_prints_the_app(project):
    result = framework_cli(project, "stack", "cliapp:app")
    assert result.returncode == 0, result.stderr
    assert "App" in result.stdout
    assert "cliapp" in result.stdout


def test_stack_prints_the_onion_outermost_first(project):
    result = framework_cli(project, "stack", "cliapp:application")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    outer = next(i for i, line in enumerate(lines) if "Outer" in line)
    inner = next(i for i, line in enumerate(lines) if "Inner" in line)
    app = next(i for i, line in enumerate(lines) if "App" in line)
    assert outer < inner < app
    assert app == len(lines) - 1


@pytest.mark.parametrize("command", ["routes", "stack", "run"])
@pytest.mark.parametrize(
    ("target", "mentions"),
    [
        pytest.param("nosuchmodule_xyz:app", "nosuchmodule_xyz", id="module-missing"),
        pytest.param("cliapp:nope", "nope", id="attribute-missing"),
        pytest.param("cliapp:NOT_CALLABLE", "NOT_CALLABLE", id="not-callable"),
    ],
)
def test_a_wrong_target_is_one_clear_line(project, command, target, mentions):
    result = framework_cli(project, command, target)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert mentions in lines[0]
    assert "Traceback" not in result.stderr


def test_run_serves_real_http(project):
    port = free_port()
    server = Process([sys.executable, "-m", "framework", "run", "cliapp:app", "--port", str(port)],
                     cwd=project, env=cli_env(), wait_for=("127.0.0.1", port), timeout=20)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/users/9", timeout=2) as res:
            assert res.status == 200
            assert json.loads(res.read()) == {"id": 9}
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/nowhere", timeout=2)
        assert info.value.code == 404
        info.value.close()
    finally:
        server.stop()


DEBUG_MODULE = """
from framework import App

app = App(__name__)


@app.get("/")
def index(request):
    return "up"


@app.get("/boom")
def boom(request):
    raise RuntimeError("kaboom from the debug app")
"""


@pytest.mark.parametrize(
    ("flags", "debugger"),
    [
        pytest.param([], False, id="plain"),
        pytest.param(["--debug"], True, id="debug"),
        pytest.param(["--reload"], False, id="reload"),
    ],
)
def test_run_debug_shows_werkzeugs_debugger_and_reload_serves(tmp_path, flags, debugger):
    (tmp_path / "debugapp.py").write_text(textwrap.dedent(DEBUG_MODULE))
    port = free_port()
    # Process stops the whole process group: the reloader runs the server in a child.
    server = Process([sys.executable, "-m", "framework", "run", "debugapp:app", "--port", str(port), *flags],
                     cwd=tmp_path, env=cli_env(), wait_for=("127.0.0.1", port), timeout=20)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as res:
            assert res.read() == b"up"
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/boom", timeout=5)
        page = info.value.read().decode()
        info.value.close()
        assert info.value.code == 500
        # The debugger shows the traceback (and its console); without it, no traceback leaks.
        assert ("kaboom from the debug app" in page and "Werkzeug Debugger" in page) is debugger, page[:300]
        assert ("Traceback" in page) is debugger
    finally:
        server.stop()


BROKEN_MODULES = {
    "syntax": "from framework import App\n\napp = App(__name__\nx = 1 +\n",
    "raises": "from framework import App\n\napp = App(__name__)\n\n\nraise RuntimeError('boom at import')\n",
    "needs": "import nonexistent_pkg_xyz\n\napp = None\n",
    "deep": "import helper_raises\n\napp = None\n",
    "sub": "from framework import App\nfrom nonexistent_pkg_xyz.sub import thing\n",
    "badjson": "import json\n\nSETTINGS = json.loads('{')\n",
}


@pytest.fixture
def broken(tmp_path):
    """A folder of modules that cannot be imported, each for its own reason."""
    for name, source in BROKEN_MODULES.items():
        (tmp_path / f"{name}.py").write_text(source)
    (tmp_path / "helper_raises.py").write_text("def f():\n    return 1 / 0\n\n\nf()\n")
    return tmp_path


@pytest.mark.parametrize("command", ["routes", "stack", "run"])
@pytest.mark.parametrize(
    ("target", "line"),
    [
        pytest.param("syntax:app", "error: importing 'syntax' failed: SyntaxError: '(' was never closed "
                     "(syntax.py, line 3)", id="syntax-error"),
        pytest.param("raises:app", "error: importing 'raises' raised RuntimeError: boom at import "
                     "(raises.py, line 6)", id="raises-at-import"),
        pytest.param("deep:app", "error: importing 'deep' raised ZeroDivisionError: division by zero "
                     "(helper_raises.py, line 2)", id="raises-in-a-module-it-imports"),
        pytest.param("badjson:app", "error: importing 'badjson' raised JSONDecodeError: Expecting property "
                     "name enclosed in double quotes: line 1 column 2 (char 1) (badjson.py, line 3)",
                     id="raises-in-the-standard-library"),
        pytest.param("needs:app", "error: importing 'needs' failed: it needs the module "
                     "'nonexistent_pkg_xyz', which is not installed", id="missing-dependency"),
        pytest.param("sub:app", "error: importing 'sub' failed: it needs the module "
                     "'nonexistent_pkg_xyz', which is not installed", id="missing-dependency-package"),
        pytest.param("nosuchmodule_xyz:app", "error: cannot import module 'nosuchmodule_xyz': no such module "
                     "(run from the folder that contains it)", id="missing-target"),
        pytest.param("syntax.inner:app", "error: importing 'syntax.inner' failed: SyntaxError: '(' was never "
                     "closed (syntax.py, line 3)", id="syntax-error-in-the-parent"),
    ],
)
def test_a_module_that_cannot_be_imported_is_one_line_and_status_2(broken, command, target, line):
    result = framework_cli(broken, command, target)
    assert (result.returncode, result.stderr.splitlines(), result.stdout) == (2, [line], "")


def test_the_place_is_the_users_line_wherever_the_module_lies(broken, tmp_path_factory, monkeypatch):
    """Not the line of Python's json module, nor of the CLI, even run from another folder."""
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    monkeypatch.syspath_prepend(str(broken))
    with pytest.raises(cli.TargetError) as error:
        cli.load_app("badjson:app")
    assert str(error.value).endswith(f"({broken / 'badjson.py'}, line 3)")


@pytest.mark.parametrize(
    ("port", "says"),
    [
        pytest.param("99999", "'99999'", id="too-large"),
        pytest.param("65536", "'65536'", id="just-too-large"),
        pytest.param("-1", "'-1'", id="negative"),
        pytest.param("0", "'0'", id="zero"),
        pytest.param("abc", "'abc'", id="not-a-number"),
        pytest.param("80.5", "'80.5'", id="not-an-integer"),
    ],
)
def test_a_port_out_of_range_is_refused_by_the_parser(capsys, port, says):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "anything:app", "--port", port])
    assert exit_.value.code == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert error == f"python -m framework run: error: argument --port: {says} is not a port: " \
                    "give a number from 1 to 65535"


@pytest.mark.parametrize("option", ["--workers", "--threads"])
@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_workers_and_threads_are_positive_numbers(capsys, option, value):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "anything:app", option, value])
    assert exit_.value.code == 2
    assert f"argument {option}: '{value}' is not a positive whole number" in capsys.readouterr().err


@pytest.mark.parametrize("flags", [pytest.param([], id="debug"),
                                   pytest.param(["--reload"], id="debug-reload")])
def test_run_debug_prints_the_debugger_pin(tmp_path, flags):
    """Werkzeug prints the PIN in its reloader's child only; without --reload, the CLI does."""
    (tmp_path / "debugapp.py").write_text(textwrap.dedent(DEBUG_MODULE))
    port = free_port()
    argv = [sys.executable, "-m", "framework", "run", "debugapp:app", "--port", str(port), "--debug", *flags]
    server = Process(argv, cwd=tmp_path, env={**cli_env(), "WERKZEUG_DEBUG_PIN": "", "WERKZEUG_RUN_MAIN": ""},
                     wait_for=("127.0.0.1", port), timeout=20)
    output = server.stop_after("Debugger PIN")
    assert len(re.findall(r"^ \* Debugger PIN: \d{3}-\d{3}-\d{3}$", output, re.MULTILINE)) == 1, output
    assert output.count(" * Debugger is active!") == 1, output
