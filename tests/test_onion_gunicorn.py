"""The whole onion (``tests/onion_app.py``) under a real gunicorn, queried over HTTP.

Every layer with ``wsgiref.validate`` between each pair: a layer that breaks PEP 3333
turns the request into a 500 here. Also: a streamed response arrives chunk by chunk,
and clients that hang up mid-stream leave the server answering the next requests.
"""

from __future__ import annotations

import http.client
import json
import socket
import sys
import time

import pytest
from support import ROOT, Process, free_port, require_module

require_module("gunicorn")


def gunicorn(target, env=None, workers=2):
    port = free_port()
    process = Process([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers",
                       str(workers), "--worker-class", "gthread", "--threads", "4",
                       "--graceful-timeout", "3", target],
                      cwd=ROOT, env=env, wait_for=("127.0.0.1", port), timeout=30)
    process.port = port
    return process


@pytest.fixture(scope="module")
def upstream():
    process = gunicorn("tests.onion_app:upstream", env={"ONION_ID": "up"}, workers=1)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def server(upstream):
    process = gunicorn("tests.onion_app:application",
                       env={"ONION_UPSTREAM": f"http://127.0.0.1:{upstream.port}"})
    yield process
    log = process.stop()
    assert "Traceback" not in log and "AssertionError" not in log, log


def request(server, method, path, body=None, headers=None):
    """``(status, headers, body)`` of one request on a fresh connection."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("path", "status", "expected"),
    [
        pytest.param("/", 200, b"<h1>The whole onion</h1>", id="app"),
        pytest.param("/wsgi/a", 200, b'"path_info": "/a"', id="mounted-plain-wsgi"),
        pytest.param("/admin", 303, b"", id="login-required"),
        pytest.param("/nowhere", 404, b"Not Found", id="miss"),
    ],
)
def test_each_layer_answers_under_gunicorn(server, path, status, expected):
    answer = request(server, "GET", path)
    assert answer[0] == status
    assert expected in answer[2]


def log_in(server, username, password):
    """The cookie header of a logged-in client, after the login form's round trip."""
    status, headers, page = request(server, "GET", "/login")
    assert status == 200
    token = page.split(b'name="csrf_token" value="', 1)[1].split(b'"', 1)[0].decode()
    cookie = "; ".join(value.split(";", 1)[0] for value in headers.get_all("Set-Cookie") or [])
    body = f"username={username}&password={password}&csrf_token={token}&next=/admin"
    status, headers, _ = request(server, "POST", "/login", body, {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    assert status == 303, (status, headers)
    return "; ".join(value.split(";", 1)[0] for value in headers.get_all("Set-Cookie"))


def test_login_flow_and_authorized_page(server):
    cookie = log_in(server, "alice", "alice-pw")
    status, _, body = request(server, "GET", "/admin", headers={"Cookie": cookie})
    assert (status, b"Welcome, alice." in body) == (200, True)
    cookie = log_in(server, "bob", "bob-pw")
    assert request(server, "GET", "/admin", headers={"Cookie": cookie})[0] == 403


def test_post_body_goes_through(server):
    body = bytes(range(256)) * 400
    status, _, answer = request(server, "POST", "/echo", body, {"Content-Type": "application/octet-stream"})
    assert status == 200 and json.loads(answer)["length"] == len(body)


def test_streamed_response_arrives_before_the_app_finishes(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        started = time.monotonic()
        connection.request("GET", "/stream?n=4&pause=0.4")
        response = connection.getresponse()
        first = response.readline()
        first_at = time.monotonic() - started
        rest = response.read()
        total = time.monotonic() - started
    finally:
        connection.close()
    assert first.startswith(b"chunk 0000 ") and rest.count(b"\n") == 3
    assert first_at < total - 0.8  # the first chunk did not wait for the last


def hang_up_mid_stream(server, path="/stream?n=400&pause=0.01", headers=""):
    """Ask for a long stream, read its first bytes, close the socket."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def test_client_disconnects_mid_stream_and_the_server_goes_on(server):
    for _ in range(6):
        hang_up_mid_stream(server)
    time.sleep(0.5)  # the streams notice the closed sockets
    for _ in range(8):
        assert request(server, "GET", "/")[0] == 200
        assert request(server, "GET", "/stream?n=3")[2].count(b"\n") == 3
