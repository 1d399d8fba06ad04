"""``python -m framework stack module:app``: the onion, outermost layer first, secrets never shown."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PREAMBLE = """\
from functools import partial

from framework import App
from middleware import Mount, ProxyFix, Stack

app = App("site")


def api(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"api"]


class Signer:
    def __init__(self, app, *, secret_key, cookie_name="session", password="hunter2-VALUE",
                 tokens=None, options=None):
        self.app = app
        self.secret_key = secret_key
        self.cookie_name = cookie_name
        self.password = password
        self.tokens = tokens or {"tok-VALUE": "alice"}
        self.options = options or {"api_key": "apikey-VALUE"}

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)
"""


def run_stack(tmp_path, source, target="onion:application"):
    (tmp_path / "onion.py").write_text(PREAMBLE + textwrap.dedent(source))
    path = os.pathsep.join(filter(None, [str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-m", "framework", "stack", target],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": path},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout.splitlines()


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("application = Stack(app, partial(ProxyFix, x_for=1),\n"
                     "                    partial(Mount, mounts={'/api': api}))\n", id="stack"),
        pytest.param("application = ProxyFix(Mount(app, mounts={'/api': api}), x_for=1)\n", id="hand-nested"),
        pytest.param("application = Stack(ProxyFix(Mount(app, mounts={'/api': api}), x_for=1))\n",
                     id="stack-without-layers-around-a-chain"),
    ],
)
def test_stack_prints_the_onion_outermost_first(tmp_path, source):
    lines = run_stack(tmp_path, source)
    assert len(lines) == 3, lines
    assert lines[0].startswith("ProxyFix(")
    assert "x_for=1" in lines[0]
    assert lines[1].startswith("Mount(")
    assert "'/api'" in lines[1] and "onion.api" in lines[1]
    assert lines[2] == "<App 'site': 0 routes>"


def test_stack_of_a_bare_app_is_one_line(tmp_path):
    assert run_stack(tmp_path, "", target="onion:app") == ["<App 'site': 0 routes>"]


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("application = Stack(app, partial(Signer, secret_key='s3cr3t-VALUE'),\n"
                     "                    partial(ProxyFix))\n", id="stack"),
        pytest.param("application = ProxyFix(Signer(app, secret_key='s3cr3t-VALUE'))\n", id="hand-nested"),
        pytest.param("application = Mount(app, mounts={'/admin': Signer(api, secret_key='s3cr3t-VALUE')})\n",
                     id="mounted-layer"),
    ],
)
def test_stack_never_prints_secrets(tmp_path, source):
    output = "\n".join(run_stack(tmp_path, source))
    assert "Signer(" in output
    assert "cookie_name='session'" in output
    for secret in ("s3cr3t-VALUE", "hunter2-VALUE", "tok-VALUE", "apikey-VALUE"):
        assert secret not in output
