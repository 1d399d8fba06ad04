"""The whole onion (``tests/onion_app.py``) under a real gunicorn, queried over HTTP.

Every layer with ``wsgiref.validate`` between each pair: a layer that breaks PEP 3333
turns the request into a 500 here. Also: a streamed response arrives chunk by chunk,
and clients that hang up mid-stream leave the server answering the next requests.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import socket
import sys
import time
import zlib
from functools import partial
from urllib.parse import quote

import onion_app
import pytest
import test_onion_fuzz as fuzz
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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
    port = free_port()
    process = Process(onion_app.upstream_command(port), cwd=ROOT, env={"ONION_ID": "up"},
                      wait_for=("127.0.0.1", port), timeout=30)
    process.port = port
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
        pytest.param("/feed", 200, b"<li>news item number 0</li>", id="xml-transformed-by-xslt"),
        pytest.param("/static/hello.txt", 200, b"Hello from a static file", id="static-file"),
        pytest.param("/static/../onion_app.py", 404, b"Not Found", id="static-dot-dot"),
        pytest.param("/api/x?y=1", 200, b'"upstream": "up", "method": "GET", "path": "/api/x", '
                     b'"query": "y=1"', id="proxied-to-the-upstream"),
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


@pytest.mark.parametrize("path", [pytest.param("/echo", id="app"), pytest.param("/api/upload", id="proxied")])
def test_chunked_upload_goes_through_whole(server, path):
    blocks = [bytes([n]) * 50_000 for n in range(20)]
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("POST", path, body=iter(blocks), encode_chunked=True, headers={
            "Content-Type": "application/octet-stream", "Transfer-Encoding": "chunked"})
        response = connection.getresponse()
        answer = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 200
    assert answer["sha256"] == hashlib.sha256(b"".join(blocks)).hexdigest()


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
        head = b""
        while b"\r\n" not in head:  # the status line, however the bytes arrive
            chunk = sock.recv(1024)
            assert chunk, head
            head += chunk
        assert head.startswith(b"HTTP/1.1 200"), head
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def test_client_disconnects_mid_stream_and_the_server_goes_on(server):
    for _ in range(3):
        hang_up_mid_stream(server)
        hang_up_mid_stream(server, headers="Accept-Encoding: gzip\r\n")  # through Compress's stream
        hang_up_mid_stream(server, "/api/stream")  # through the Proxy's stream
    time.sleep(0.5)  # the streams notice the closed sockets
    for _ in range(8):
        assert request(server, "GET", "/")[0] == 200
        assert request(server, "GET", "/stream?n=3")[2].count(b"\n") == 3
        assert json.loads(request(server, "GET", "/api/x")[2])["upstream"] == "up"


@pytest.mark.parametrize(
    ("path", "check"),
    [
        pytest.param("/big", lambda body: json.loads(body) == onion_app.BIG, id="app-json"),
        pytest.param("/api/x", lambda body: json.loads(body)["upstream"] == "up", id="proxied"),
        pytest.param("/feed", lambda body: b"<li>news item number 11</li>" in body, id="xslt-output"),
        pytest.param("/static/css/site.css", lambda body: body.startswith(b".rule-0 {"),
                     id="static-gz-sibling"),
        pytest.param("/stream?n=30", lambda body: body.count(b"\n") == 30, id="streamed"),
    ],
)
def test_compressed_responses(server, path, check):
    status, headers, body = request(server, "GET", path, headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert check(gzip.decompress(body))


def test_cors_preflight_is_answered_in_front_of_the_login(server):
    status, headers, _ = request(server, "OPTIONS", "/admin", headers={
        "Origin": onion_app.ORIGIN, "Access-Control-Request-Method": "DELETE"})
    assert status == 204 and headers["Access-Control-Allow-Origin"] == onion_app.ORIGIN


def test_compressed_stream_arrives_chunk_by_chunk(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        started = time.monotonic()
        connection.request("GET", "/stream?n=4&pause=0.4", headers={"Accept-Encoding": "gzip"})
        response = connection.getresponse()
        assert response.headers["Content-Encoding"] == "gzip"
        decompressor = zlib.decompressobj(wbits=31)
        first = b""
        while b"\n" not in first:  # each chunk is flushed: it decompresses on its own
            first += decompressor.decompress(response.read1(65536))
        first_at = time.monotonic() - started
        rest = decompressor.decompress(response.read()) + decompressor.flush()
        total = time.monotonic() - started
    finally:
        connection.close()
    assert first.startswith(b"chunk 0000 ") and (first + rest).count(b"\n") == 4
    assert first_at < total - 0.8


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(method=st.sampled_from(fuzz.METHODS), raw_path=fuzz.raw_paths(), query=fuzz.QUERIES,
       headers=fuzz.HEADERS, body=st.binary(max_size=2000))
def test_random_requests_over_http_never_fail(server, method, raw_path, query, headers, body):
    """The fuzz test's requests, sent raw to gunicorn: its own environ (RAW_URI, ...) for every layer."""
    target = quote(raw_path, safe="/%:@!$&'()*+,;=-._~") + (f"?{quote(query, safe='=&%')}" if query else "")
    lines = [f"{method} {target} HTTP/1.1", "Host: x", "Connection: close", f"Content-Length: {len(body)}",
             *(f"{fuzz.HEADER_NAMES[key]}: {value.strip()}" for key, value in headers.items())]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall("\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body)
        answer = b"".join(iter(partial(sock.recv, 65536), b""))
    status = answer.split(b"\r\n", 1)[0]
    assert status.startswith(b"HTTP/1.1 ") and not status.startswith(b"HTTP/1.1 5"), answer[:500]
    assert b"Traceback" not in answer
