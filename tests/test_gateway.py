"""examples/gateway.py for real: two upstream processes and the gateway in front, over HTTP.

Load balancing across the two upstreams, static files, gzip and CORS, each as a browser
or ``curl`` would see it; and ``python -m examples.gateway``, which starts all three.
"""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import sys

import pytest
from support import ROOT, Process, free_port

from framework.testing import TestClient, validated

if str(ROOT) not in sys.path:  # `examples` is a namespace package at the repository root
    sys.path.insert(0, str(ROOT))

STATIC = ROOT / "examples" / "gateway_static"
ORIGIN = "https://app.example"


def run(target, port, env):
    return Process([sys.executable, "-m", "framework", "run", target, "--port", str(port)], cwd=ROOT,
                   env=env, wait_for=("127.0.0.1", port), timeout=30)


@pytest.fixture(scope="module")
def gateway():
    ports = [free_port(), free_port()]
    upstreams = [run("examples.gateway:upstream", port, {"GATEWAY_ID": str(number)})
                 for number, port in enumerate(ports, 1)]
    port = free_port()
    env = {"GATEWAY_UPSTREAMS": " ".join(f"http://127.0.0.1:{p}" for p in ports), "GATEWAY_ORIGINS": ORIGIN}
    process = run("examples.gateway:application", port, env)
    process.port = port
    yield process
    for server in (process, *upstreams):
        server.stop()


def request(port, method, path, headers=None, body=None):
    """``(status, headers, body)`` of one request."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def upstream_ids(port, count):
    return [json.loads(request(port, "GET", "/api/whoami")[2])["upstream"] for _ in range(count)]


def test_api_requests_alternate_between_the_two_upstreams(gateway):
    ids = upstream_ids(gateway.port, 6)
    assert sorted(ids) == ["1", "1", "1", "2", "2", "2"]
    assert all(first != second for first, second in zip(ids, ids[1:], strict=False)), ids  # round robin


def test_api_answers_carry_the_proxy_headers(gateway):
    answer = json.loads(request(gateway.port, "GET", "/api/whoami")[2])
    assert answer["path"] == "/api/whoami" and answer["forwarded_for"] == "127.0.0.1"
    assert answer["via"] == "1.1 onion-wsgi"
    status, _, body = request(gateway.port, "POST", "/api/echo", {"Content-Type": "application/json"},
                              json.dumps({"a": [1, 2]}))
    assert status == 200 and json.loads(body)["got"] == {"a": [1, 2]}


@pytest.mark.parametrize("name", [pytest.param(name, id=name)
                                  for name in ("style.css", "app.js", "index.html")])
def test_static_files_are_served_with_validators(gateway, name):
    status, headers, body = request(gateway.port, "GET", f"/static/{name}")
    assert status == 200 and body == (STATIC / name).read_bytes()
    again = request(gateway.port, "GET", f"/static/{name}", {"If-None-Match": headers["ETag"]})
    assert again[0] == 304 and again[2] == b""


def test_the_home_page_is_the_static_index(gateway):
    status, _, body = request(gateway.port, "GET", "/")
    assert status == 200 and body == (STATIC / "index.html").read_bytes()


@pytest.mark.parametrize(
    ("path", "content"),
    [
        pytest.param("/api/items", lambda body: json.loads(body)["items"], id="proxied-json"),
        pytest.param("/static/style.css", lambda body: body, id="static-file"),
    ],
)
def test_gzip_when_the_client_accepts_it(gateway, path, content):
    status, headers, body = request(gateway.port, "GET", path, {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert "accept-encoding" in headers["Vary"].lower()
    plain = request(gateway.port, "GET", path)
    assert "Content-Encoding" not in plain[1]
    assert content(gzip.decompress(body)) == content(plain[2])  # the upstream's id may differ
    assert len(body) < len(plain[2])


def test_cors_preflight_is_answered_by_the_gateway(gateway):
    status, headers, body = request(gateway.port, "OPTIONS", "/api/echo", {
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert (status, body) == (204, b"")
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert "content-type" in headers["Access-Control-Allow-Headers"].lower()
    assert headers["Access-Control-Max-Age"] == "600"


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [pytest.param(ORIGIN, True, id="allowed-origin"),
     pytest.param("https://evil.example", False, id="other-origin")],
)
def test_cors_headers_on_answers_for_allowed_origins_only(gateway, origin, allowed):
    for path in ("/api/whoami", "/static/app.js"):
        status, headers, _ = request(gateway.port, "GET", path, {"Origin": origin})
        assert status == 200
        assert headers.get("Access-Control-Allow-Origin") == (origin if allowed else None)
        assert "origin" in headers["Vary"].lower()


def test_make_gateway_defaults_to_a_local_development_origin():
    from examples.gateway import make_gateway

    client = TestClient(validated(make_gateway(["http://127.0.0.1:9"])))
    answer = client.options("/api/items", headers={"Origin": "http://localhost:3000",
                                                   "Access-Control-Request-Method": "DELETE"})
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert client.get("/static/app.js").data == (STATIC / "app.js").read_bytes()


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def test_python_m_examples_gateway_starts_the_upstreams_and_stops_them():
    port, ports = free_port(), [free_port(), free_port()]
    process = Process([sys.executable, "-m", "examples.gateway", "--port", str(port), "--upstream-ports",
                       *map(str, ports)], cwd=ROOT, wait_for=("127.0.0.1", port), timeout=30)
    try:
        assert sorted(upstream_ids(port, 4)) == ["1", "1", "2", "2"]
        assert request(port, "GET", "/health")[2] == b'{"status":"ok"}'
    finally:
        process.process.terminate()  # SIGTERM to the gateway alone: it stops its upstreams itself
        process.process.wait(timeout=15)
        log = process.stop()
    assert not listening(ports[0]) and not listening(ports[1]), log
    assert "Traceback" not in log
