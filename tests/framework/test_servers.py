"""`run --server NAME`: the adapters' errors (the servers themselves run in tests/deploy)."""

from __future__ import annotations

import sys

import pytest

from framework import cli, servers


@pytest.fixture
def hello_module(tmp_path, monkeypatch):
    (tmp_path / "servers_probe_app.py").write_text(
        "from framework import App\napp = App(__name__)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return "servers_probe_app:app"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--server", "gunicorn", "--reload"], "--reload works only with the werkzeug",
                     id="reload-needs-werkzeug"),
        pytest.param(["--server", "waitress", "--debug"], "--debug (the interactive debugger) works only",
                     id="debug-needs-werkzeug"),
        pytest.param(["--server", "waitress", "--workers", "3"], "waitress runs one process",
                     id="waitress-one-process"),
        pytest.param(["--server", "gevent", "--workers", "2"], "gevent runs one process",
                     id="gevent-one-process"),
    ],
)
def test_refused_combinations_are_one_clear_line(hello_module, capsys, argv, message):
    assert cli.main(["run", hello_module, *argv]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


@pytest.mark.parametrize(
    ("server", "module", "extra"),
    [
        pytest.param("gunicorn", "gunicorn", "gunicorn", id="gunicorn"),
        pytest.param("waitress", "waitress", "waitress", id="waitress"),
        pytest.param("gevent", "gevent", "gevent", id="gevent"),
    ],
)
def test_a_missing_server_names_the_extra(hello_module, capsys, monkeypatch, server, module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    assert cli.main(["run", hello_module, "--server", server]) == 2
    assert f"pip install 'onion-wsgi[{extra}]'" in capsys.readouterr().err


def test_a_missing_uwsgi_program_names_the_extra(hello_module, capsys, monkeypatch):
    monkeypatch.setattr(servers.shutil, "which", lambda name: None)
    assert cli.main(["run", hello_module, "--server", "uwsgi"]) == 2
    assert "pip install 'onion-wsgi[uwsgi]'" in capsys.readouterr().err


def test_unknown_server_is_refused_by_the_parser(hello_module, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", hello_module, "--server", "nope"])
    assert exit_.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_default_workers_follow_gunicorns_advice():
    assert servers.default_workers() == 2 * (servers.os.cpu_count() or 1) + 1
