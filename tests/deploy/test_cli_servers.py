"""``python -m framework run --server NAME``, each server as a real process.

What a client sees must not depend on the server: one HTTP/1.1 connection carries
several requests (or the server says ``Connection: close`` first, and the client
reconnects, as a browser does), a streamed body of unknown length arrives whole, a
path with invalid UTF-8 is a 400, and a busy port is one line and exit status 2.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import textwrap

import pytest
from support import ROOT, Process, free_port, require_module, require_program

from framework.servers import SERVERS

APP = """
from framework import App

app = App(__name__)


@app.get("/")
def index(request):
    return "hello from every server"


@app.get("/hello/<name>")
def hello(request, name):
    return f"hello {name}"


@app.get("/stream")
def stream(request):
    def chunks():  # no Content-Length: the server chunks it or closes after it
        for number in range(200):
            yield f"chunk {number:03d}\\n"

    return chunks(), {"Content-Type": "text/plain; charset=utf-8"}
"""

STREAMED = "".join(f"chunk {number:03d}\n" for number in range(200)).encode()


def require_server(name: str) -> None:
    """Skip (fail in CI) when the server *name* is not installed."""
    if name == "uwsgi":
        require_program("uwsgi", "pip install 'onion-wsgi[uwsgi]'")
    elif name != "werkzeug":
        require_module(name, f"'onion-wsgi[{name}]'")


@pytest.fixture(params=sorted(SERVERS))
def server_name(request):
    require_server(request.param)
    return request.param


@pytest.fixture
def project(tmp_path):
    (tmp_path / "serversapp.py").write_text(textwrap.dedent(APP))
    return tmp_path


def command(name: str, port: int) -> list[str]:
    argv = [sys.executable, "-m", "framework", "run", "serversapp:app", "--server", name,
            "--port", str(port)]
    if name in ("gunicorn", "uwsgi"):
        argv += ["--workers", "2"]
    return argv


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture
def server(server_name, project):
    port = free_port()
    process = Process(command(server_name, port), cwd=project, env=environment(),
                      wait_for=("127.0.0.1", port))
    yield port
    process.stop()


def get(connection: http.client.HTTPConnection, path: str) -> tuple[int, bytes, bool]:
    """One request on *connection*: ``(status, body, whether the server closes after it)``."""
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.read(), response.will_close


def test_one_connection_carries_several_requests(server):
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    try:
        # http.client reopens the connection after a response that said it closes (as a
        # browser does); a server that drops it without saying so fails the next request.
        for path in ("/", "/stream", "/hello/again", "/"):
            status, body, _ = get(connection, path)
            assert status == 200, (path, body)
            if path == "/stream":
                assert body == STREAMED
    finally:
        connection.close()


def test_invalid_utf8_in_the_path_is_400(server):
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    try:
        status, _, _ = get(connection, "/hello/%ff")
        assert status == 400
        status, body, _ = get(connection, "/hello/caf%C3%A9")
        assert (status, body) == (200, "hello café".encode())
    finally:
        connection.close()


def test_a_busy_port_is_one_line_and_status_2(server_name, project):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(command(server_name, port), cwd=project, env=environment(),
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result
    assert result.stderr.splitlines() == [f"error: port {port} on 127.0.0.1 is busy "
                                          "(another server listens there; choose another --port)"]



RACE = """
import sys
from framework import cli, servers
servers.check_address = lambda host, port: None  # as if the port were taken just after the check
raise SystemExit(cli.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("name", ["waitress", "gevent"])
def test_a_port_taken_after_the_check_is_the_same_line(project, name):
    """waitress and gevent bind in this process: their own bind error is the same line."""
    require_server(name)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-c", RACE, *command(name, port)[3:]], cwd=project,
                                env=environment(), capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr.splitlines()) == (2, [
        f"error: port {port} on 127.0.0.1 is busy (another server listens there; choose another --port)"])
