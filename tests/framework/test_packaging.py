"""The distribution: wheel and sdist carry the built-in templates, and the wheel works."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
IGNORE = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", ".venv", ".*_cache", "*.pyc"
)


def clean_env():
    """The environment without anything that would put the source tree on sys.path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def run(*args, cwd, timeout=300):
    result = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """Build the sdist and the wheel once, from a copy of the source tree."""
    source = tmp_path_factory.mktemp("source") / "onion-wsgi"
    shutil.copytree(REPO, source, ignore=IGNORE)
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", out, source, cwd=source)
    wheels = list(out.glob("*.whl"))
    sdists = list(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, list(out.iterdir())
    return wheels[0], sdists[0]


@pytest.fixture(scope="module")
def venv_python(dist, tmp_path_factory):
    """A fresh venv (seeing the system's site-packages) with the wheel installed."""
    wheel, _ = dist
    venv = tmp_path_factory.mktemp("venv") / "env"
    run(sys.executable, "-m", "venv", "--system-site-packages", venv, cwd=venv.parent)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    run(python, "-m", "pip", "install", "--no-deps", "--ignore-installed", wheel, cwd=venv.parent)
    return python


def test_names(dist):
    wheel, sdist = dist
    assert wheel.name.startswith("onion_wsgi-")
    assert sdist.name.startswith("onion_wsgi-")


def test_wheel_contains_the_builtin_templates(dist):
    wheel, _ = dist
    names = zipfile.ZipFile(wheel).namelist()
    assert any(name.endswith("templates/error.html") for name in names), names
    assert "framework/__init__.py" in names
    assert "middleware/__init__.py" in names
    assert not any(name.startswith("tests/") for name in names)


def test_sdist_contains_the_builtin_templates(dist):
    _, sdist = dist
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    assert any(name.endswith("templates/error.html") for name in names), names
    assert any(name.endswith("/setup.py") for name in names)


def test_the_wheel_imports_from_the_install(venv_python, tmp_path):
    result = run(
        venv_python,
        "-c",
        "import framework, middleware; print(framework.__file__); print(middleware.__file__)",
        cwd=tmp_path,
    )
    venv = venv_python.parent.parent
    for line in result.stdout.split():
        assert Path(line).resolve().is_relative_to(venv.resolve()), result.stdout


def test_the_wheel_serves_the_builtin_404_page(venv_python, tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(
        textwrap.dedent(
            """
            from werkzeug.test import Client

            from framework import App

            app = App(__name__)
            response = Client(app).get("/no/such/page", headers={"Accept": "text/html"})
            print(response.status_code)
            print(response.headers["Content-Type"])
            print(response.get_data(as_text=True))
            """
        )
    )
    result = run(venv_python, script, cwd=tmp_path)
    status, content_type, body = result.stdout.split("\n", 2)
    assert status == "404"
    assert content_type.startswith("text/html")
    assert "<html" in body.lower()
    assert "404" in body and "Not Found" in body
