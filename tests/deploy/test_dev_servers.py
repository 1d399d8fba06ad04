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


def test_every_deploy_file_is_used_by_the_matrix():
    """examples/deploy holds no untested copy: each file is started by a test of tests/deploy."""
    from harness import DEPLOY

    tests = "".join(path.read_text() for path in DEPLOY.parents[1].joinpath("tests", "deploy").glob("*.py"))
    used_by_others = {"probe.py": "wsgi.py", "probe-file.txt": "probe.py"}  # imported / read, not named
    for path in sorted(DEPLOY.iterdir()):
        if path.name == "__pycache__":
            continue
        name = path.name
        assert name in tests or used_by_others.get(name, "") in tests, f"no matrix test uses {name}"
