"""Matrix rows 1 and 2: the standard library's wsgiref, and Werkzeug's development server."""

from __future__ import annotations

import pytest
from harness import PYTHON, Process, free_port, probe

WSGIREF = """
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server
from examples.deploy.wsgi import application

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

make_server("127.0.0.1", int(sys.argv[1]), application, handler_class=Quiet).serve_forever()
"""


@pytest.fixture
def port():
    return free_port()


def test_row01_wsgiref(port):
    server = Process([PYTHON, "-c", WSGIREF, str(port)], wait_for=("127.0.0.1", port))
    try:
        probe(f"http://127.0.0.1:{port}", file_wrapper=True)
    finally:
        server.stop()


def test_row02_werkzeug_dev_server(port):
    server = Process([PYTHON, "-m", "framework", "run", "examples.deploy.wsgi:application",
                      "--port", str(port)], wait_for=("127.0.0.1", port))
    try:
        probe(f"http://127.0.0.1:{port}", file_wrapper=False)
    finally:
        server.stop()
