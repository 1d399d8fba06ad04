"""``python -m framework stack module:app``: the onion, outermost layer first, secrets never shown."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from framework import App

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


PROXY = "ProxyFix(x_for=1, x_proto=1, x_host=0, x_port=0, x_prefix=0)"
MOUNT = "Mount(mounts={'/api': onion.api})"
SITE = "<App 'site': 0 routes>"
# secret_key, password and tokens never shown; of a dict, only the keys
SIGNER = "Signer(cookie_name='session', options={'api_key'})"
SIGNED = "Signer(app, secret_key='s3cr3t-VALUE')"
INNER_STACK = f"Stack({PROXY} > onion.api)"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("Stack(app, partial(ProxyFix, x_for=1), partial(Mount, mounts={'/api': api}))",
                     [PROXY, MOUNT, SITE], id="stack"),
        pytest.param("ProxyFix(Mount(app, mounts={'/api': api}), x_for=1)", [PROXY, MOUNT, SITE],
                     id="hand-nested"),
        pytest.param("Stack(ProxyFix(Mount(app, mounts={'/api': api}), x_for=1))", [PROXY, MOUNT, SITE],
                     id="stack-without-layers-around-a-chain"),
        pytest.param("app", [SITE], id="bare-app"),
        pytest.param("Stack(app, partial(Signer, secret_key='s3cr3t-VALUE'), partial(ProxyFix, x_for=1))",
                     [SIGNER, PROXY, SITE], id="secrets-in-a-stack"),
        pytest.param(f"ProxyFix({SIGNED}, x_for=1)", [PROXY, SIGNER, SITE], id="secrets-hand-nested"),
        pytest.param(f"Mount(app, mounts={{'/admin': {SIGNED}}})", [f"Mount(mounts={{'/admin': {SIGNER}}})",
                                                                      SITE], id="secrets-in-a-mounted-layer"),
        pytest.param("Mount(None, mounts={'/api': Stack(api, partial(ProxyFix, x_for=1))})",
                     [f"Mount(mounts={{'/api': {INNER_STACK}}})", "None (404 for everything else)"],
                     id="stack-mounted-in-one-line"),
    ],
)
def test_stack_prints_the_onion_outermost_first(tmp_path, source, expected):
    lines = run_stack(tmp_path, f"application = {source}\n")
    assert lines == expected
    for secret in ("s3cr3t-VALUE", "hunter2-VALUE", "tok-VALUE", "apikey-VALUE"):
        assert secret not in "\n".join(lines)


# The whole onion of tests/onion_app.py: every layer, in the order of docs/middleware.md.
ONION_ORDER = ["CORS", "Compress", "StaticFiles", "RateLimit", "Sessions", "FormLogin", "Authorize", "XSLT",
               "Proxy", "Mount"]


def api(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"api"]


def test_stack_shows_every_layer_of_the_whole_onion_in_order(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    onion_app = importlib.import_module("tests.onion_app")  # the module name the command line sees
    result = subprocess.run(
        [sys.executable, "-m", "framework", "stack", "tests.onion_app:application"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    expected, layer = [], onion_app.build().app
    while not isinstance(layer, App):  # each layer's own describe(), the validators listed through
        if not isinstance(layer, onion_app.Checked):
            expected.append(layer.describe())
        layer = layer.app
    assert lines == [*expected, "<App 'onion': 7 routes>"]
    assert len(lines) == len(ONION_ORDER) + 1
    assert [line.partition("(")[0] for line in lines[:-1]] == ONION_ORDER
    assert onion_app.SECRET not in result.stdout and "pbkdf2" not in result.stdout
