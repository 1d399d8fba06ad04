"""Matrix rows 6 and 7: waitress, and Tornado's WSGIContainer (``examples/deploy/tornado_server.py``)."""

from __future__ import annotations

import pytest
from harness import DEPLOY, PYTHON, Process, free_port, probe, require_module

TARGET = "examples.deploy.wsgi:application"


@pytest.fixture
def port():
    return free_port()


def test_row06_waitress(port):
    require_module("waitress")
    server = Process([PYTHON, "-m", "waitress", f"--listen=127.0.0.1:{port}", "--threads=4", TARGET],
                     wait_for=("127.0.0.1", port))
    try:
        probe(f"http://127.0.0.1:{port}", file_wrapper=True)
    finally:
        output = server.stop()
    assert "Traceback" not in output, output


def test_row06_cli_adapter_waitress(port):
    require_module("waitress")
    server = Process([PYTHON, "-m", "framework", "run", TARGET, "--server", "waitress", "--threads", "4",
                      "--port", str(port)], wait_for=("127.0.0.1", port))
    try:
        probe(f"http://127.0.0.1:{port}", file_wrapper=True)
    finally:
        output = server.stop()
    assert "Traceback" not in output, output


def test_row07_tornado_wsgi_container(port):
    require_module("tornado")
    server = Process([PYTHON, DEPLOY / "tornado_server.py", "--port", str(port), "--threads", "4"],
                     wait_for=("127.0.0.1", port))
    try:
        probe(f"http://127.0.0.1:{port}", file_wrapper=False)
    finally:
        output = server.stop()
    assert "Traceback" not in output and "serving on" in output, output
