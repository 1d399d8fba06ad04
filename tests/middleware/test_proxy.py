"""Proxy in-process (through the validator) against real upstream processes on free ports.

Each upstream is ``tests/middleware/upstream.py`` under gunicorn, answering with its own
id: round robin, failover, 502, 504, bodies, and every header rule. The tests that need
the proxy itself in a server process (memory, client disconnects) are in
``test_proxy_servers.py``.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import sys

import pytest
from servers import require
from support import ROOT, Process, free_port
from upstream import pattern

from framework.testing import TestClient, validated
from middleware.proxy import Proxy

require("gunicorn")


class Upstream(Process):
    """``upstream:app`` under gunicorn (gthread) on a free port, answering with *identity*."""

    def __init__(self, identity: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__([sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads", "8",
                          "--bind", f"127.0.0.1:{self.port}", "--graceful-timeout", "1",
                          "--pythonpath", str(ROOT / "tests" / "middleware"), "upstream:app"],
                         env={"UPSTREAM_ID": identity}, wait_for=("127.0.0.1", self.port), timeout=20)


class RawUpstream(Process):
    """``upstream.py raw``: sends any header, hop-by-hop ones too."""

    def __init__(self, identity: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__([sys.executable, str(ROOT / "tests" / "middleware" / "upstream.py"), "raw",
                          str(self.port), identity], wait_for=("127.0.0.1", self.port), timeout=20)


@pytest.fixture(scope="module")
def upstreams():
    started = [Upstream("one"), Upstream("two")]
    yield started
    for upstream in started:
        upstream.stop()


def not_proxied(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"local"]


def make_environ(path: str, query: str = "", **extra) -> dict:
    """A complete PEP 3333 environ, for calls that the test client cannot make (chunked input)."""
    return {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
            "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": False,
            "wsgi.run_once": False, **extra}


def client(urls, **options) -> TestClient:
    options.setdefault("timeout", 5.0)
    return TestClient(validated(Proxy(not_proxied, routes={"/api": list(urls)}, **options)))


def test_requests_alternate_between_the_upstreams(upstreams):
    proxy = client(u.url for u in upstreams)
    ids = [proxy.get("/api/echo").json["id"] for _ in range(6)]
    assert ids == ["one", "two"] * 3


def test_other_paths_go_to_the_app_untouched(upstreams):
    proxy = client(u.url for u in upstreams)
    for path in ("/", "/apix", "/other/api"):
        assert proxy.get(path).data == b"local"
    assert proxy.get("/api").json["path"] == "/api"


def test_one_upstream_stopped_every_request_still_succeeds(caplog):
    alive, stopped = Upstream("alive"), Upstream("stopped")
    try:
        stopped.stop()
        proxy = client([stopped.url, alive.url], backoff=60)
        with caplog.at_level(logging.WARNING, "middleware.proxy"):
            answers = [proxy.get("/api/echo") for _ in range(6)]
            posts = [proxy.post("/api/echo", data=b"payload") for _ in range(2)]
        assert [r.status_code for r in answers + posts] == [200] * 8
        assert {r.json["id"] for r in answers + posts} == {"alive"}
        assert all(r.json["sha256"] == hashlib.sha256(b"payload").hexdigest() for r in posts)
        # marked down once, then left alone for the back-off
        down = [record.getMessage() for record in caplog.records if "is down" in record.getMessage()]
        assert len(down) == 1 and down[0].startswith(f"Upstream {stopped.url} is down for 60.0 s: ")
    finally:
        alive.stop()


def test_a_stopped_upstream_is_tried_again_after_the_backoff():
    first = Upstream("first")
    port = first.port
    first.stop()
    proxy = client([f"http://127.0.0.1:{port}"], backoff=0)
    assert proxy.get("/api/echo").status_code == 502
    again = Process([sys.executable, "-m", "gunicorn", "-k", "gthread", "--bind", f"127.0.0.1:{port}",
                     "--pythonpath", str(ROOT / "tests" / "middleware"), "upstream:app"],
                    env={"UPSTREAM_ID": "again"}, wait_for=("127.0.0.1", port), timeout=20)
    try:
        assert proxy.get("/api/echo").json["id"] == "again"
    finally:
        again.stop()


@pytest.mark.parametrize("accept", [
    pytest.param("application/json", id="json"),
    pytest.param("text/html", id="html"),
])
def test_every_upstream_stopped_is_a_502_with_the_framework_error_body(accept, caplog):
    stopped = [Upstream("a"), Upstream("b")]
    for upstream in stopped:
        upstream.stop()
    proxy = client(u.url for u in stopped)
    with caplog.at_level(logging.WARNING, "middleware.proxy"):
        response = proxy.get("/api/echo", headers={"Accept": accept})
        again = proxy.get("/api/echo", headers={"Accept": accept})  # both marked down: no attempt
    assert response.status_code == again.status_code == 502
    if accept == "application/json":
        assert response.json["error"]["status"] == 502
    else:
        assert "502" in response.text and response.mimetype == "text/html"
    messages = [record.getMessage() for record in caplog.records]
    assert sum("is down" in m for m in messages) == 2
    assert sum(m.startswith("No upstream of /api answered GET /api/echo") for m in messages) == 2


def test_a_slow_upstream_is_a_504(upstreams, caplog):
    proxy = Proxy(not_proxied, routes={"/api": [upstreams[0].url]}, timeout=0.5)
    with caplog.at_level(logging.ERROR, "middleware.proxy"):
        response = TestClient(validated(proxy)).get("/api/slow?seconds=3",
                                                    headers={"Accept": "application/json"})
    assert response.status_code == 504
    assert response.json["error"]["status"] == 504
    assert "did not answer GET /api/slow within 0.5 s" in caplog.text
    # a slow answer is not a refused connection: the upstream is not marked down
    assert proxy.upstreams["/api"][0].down_until == 0.0


def test_request_and_response_bodies_are_passed_intact(upstreams):
    proxy = client([upstreams[0].url])
    data = bytes(range(256)) * 4000
    answer = proxy.put("/api/echo", data=data, content_type="application/octet-stream").json
    assert answer["sha256"] == hashlib.sha256(data).hexdigest()
    assert answer["headers"]["Content-Length"] == str(len(data))
    response = proxy.get("/api/download?size=300000")
    assert response.headers["Content-Length"] == "300000"
    assert response.data == b"".join(pattern(300000))
    chunked = proxy.get("/api/download?size=300000&chunked=1")
    assert "Content-Length" not in chunked.headers and "Transfer-Encoding" not in chunked.headers
    assert chunked.data == b"".join(pattern(300000))


def test_a_request_body_of_unknown_length_goes_out_chunked(upstreams):
    proxy = validated(Proxy(not_proxied, routes={"/api": [upstreams[0].url]}))
    data = b"chunk" * 50000
    environ = make_environ("/api/echo", REQUEST_METHOD="POST", HTTP_TRANSFER_ENCODING="chunked",
                           **{"wsgi.input": io.BytesIO(data), "wsgi.input_terminated": True})
    statuses = []
    body = proxy(environ, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        answer = json.loads(b"".join(body))
    finally:
        body.close()
    assert statuses == ["200 OK"]
    assert answer["headers"]["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in answer["headers"]
    assert answer["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(("path", "environ", "strip", "expected"), [
    pytest.param("/api/a%20b/%C3%A9/echo", {}, False, "/api/a%20b/%C3%A9/echo", id="escapes"),
    pytest.param("/api/a%2Fb/echo", {}, False, "/api/a%2Fb/echo", id="raw-slash-kept"),
    pytest.param("/api/a%2Fb/echo", {}, True, "/a%2Fb/echo", id="raw-slash-stripped"),
    pytest.param("/api/a%2Fb/echo", {"SCRIPT_NAME": "/m", "RAW_URI": "/m/api/a%2Fb/echo"}, True,
                 "/a%2Fb/echo", id="raw-under-script-name"),
    pytest.param("/api/a%2Fb/echo", {"RAW_URI": "/elsewhere", "REQUEST_URI": "/elsewhere"}, False,
                 "/api/a/b/echo", id="raw-that-does-not-match-is-ignored"),
    pytest.param("/api/%C3%A9t%C3%A9/echo", {"RAW_URI": "", "REQUEST_URI": ""}, False,
                 "/api/%C3%A9t%C3%A9/echo", id="no-raw-path-info-quoted"),
])
def test_path_and_query_are_preserved(upstreams, path, environ, strip, expected):
    proxy = client([upstreams[0].url], strip_prefix=strip)
    answer = proxy.get(path + "?x=1&y=%2F&z", environ_overrides=environ).json
    assert answer["path"] == expected
    assert answer["query"] == "x=1&y=%2F&z"


@pytest.mark.parametrize("path", ["/api/../admin", "/api/x/./y", "/api/x/..", "/api/%2e%2e/admin"])
def test_dot_segments_are_refused(upstreams, path, caplog):
    with caplog.at_level(logging.WARNING, "middleware.proxy"):
        response = client([upstreams[0].url]).get(path)
    assert response.status_code == 400
    assert "segment; it is not forwarded" in caplog.text


@pytest.mark.parametrize(("strip", "base", "script", "expected"), [
    pytest.param(False, "", "", "/api/x/echo", id="kept"),
    pytest.param(True, "", "", "/x/echo", id="stripped"),
    pytest.param(True, "/base", "", "/base/x/echo", id="stripped-under-base"),
    pytest.param(False, "/base", "/mount", "/base/api/x/echo", id="kept-under-base-and-script"),
])
def test_upstream_path(upstreams, strip, base, script, expected):
    proxy = client([upstreams[0].url + base], strip_prefix=strip)
    answer = proxy.get("/api/x/echo", environ_overrides={"SCRIPT_NAME": script}).json
    assert answer["path"] == expected
    prefix = script + ("/api" if strip else "")
    assert answer["headers"].get("X-Forwarded-Prefix") == (prefix or None)


def test_bad_content_length_is_a_400(upstreams, caplog):
    # wsgiref.validate refuses such an environ itself: the validator goes inside only
    proxy = TestClient(Proxy(validated(not_proxied), routes={"/api": [upstreams[0].url]}))
    with caplog.at_level(logging.WARNING, "middleware.proxy"):
        response = proxy.post("/api/echo", data=b"x", environ_overrides={"CONTENT_LENGTH": "x"})
    assert response.status_code == 400
    assert "is not a number of bytes" in caplog.text


def test_a_body_shorter_than_its_content_length_is_a_400(upstreams, caplog):
    app = validated(Proxy(not_proxied, routes={"/api": [upstreams[0].url]}))
    environ = make_environ("/api/echo", REQUEST_METHOD="POST", CONTENT_LENGTH="100000",
                           **{"wsgi.input": io.BytesIO(b"x" * 70000)})
    statuses = []
    with caplog.at_level(logging.WARNING, "middleware.proxy"):
        body = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
        body.close()
    assert statuses == ["400 Bad Request"]
    assert "the client sent 30000 bytes fewer than its Content-Length" in caplog.text
    # the half-sent request's connection is not reused: the next request on the pool works
    assert TestClient(app).get("/api/echo").json["id"] == "one"


def test_a_chunked_body_without_input_terminated_is_a_411(upstreams):
    app = validated(Proxy(not_proxied, routes={"/api": [upstreams[0].url]}))
    environ = make_environ("/api/echo", REQUEST_METHOD="POST", HTTP_TRANSFER_ENCODING="chunked",
                           **{"wsgi.input": io.BytesIO(b"5\r\nhello\r\n0\r\n\r\n")})
    statuses = []
    body = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
    body.close()
    assert statuses == ["411 Length Required"]


def test_describe_names_the_routes():
    proxy = Proxy(not_proxied, routes={"/api": ["http://127.0.0.1:9001", "http://127.0.0.1:9002/v1"]})
    assert proxy.describe() == ("Proxy(routes={'/api': ['http://127.0.0.1:9001', "
                                "'http://127.0.0.1:9002/v1']}, timeout=10.0, strip_prefix=False, "
                                "preserve_host=False, backoff=5.0)")
    assert proxy.app is not_proxied


@pytest.mark.parametrize(("options", "error", "message"), [
    pytest.param({"routes": {}}, ValueError, "Proxy needs routes", id="no-routes"),
    pytest.param({"routes": {"/api": []}}, ValueError, "has no upstream", id="empty-list"),
    pytest.param({"routes": {"/api": "http://a"}}, TypeError, "must be a list of URLs", id="lone-string"),
    pytest.param({"routes": {"api": ["http://a"]}}, ValueError, "must start with '/'", id="prefix"),
    pytest.param({"routes": {"/api": ["ftp://a"]}}, ValueError, "must start with http:// or https://",
                 id="scheme"),
    pytest.param({"routes": {"/api": ["http://"]}}, ValueError, "must name a host", id="no-host"),
    pytest.param({"routes": {"/api": ["http://a?x=1"]}}, ValueError, "no user, query", id="query"),
    pytest.param({"routes": {"/api": ["http://a:99999"]}}, ValueError, "port", id="port"),
    pytest.param({"routes": {"/api": ["http://a"]}, "timeout": 0}, ValueError, "timeout must be",
                 id="timeout"),
    pytest.param({"routes": {"/api": ["http://a"]}, "backoff": -1}, ValueError, "backoff must be",
                 id="backoff"),
    pytest.param({"routes": {"/api": ["http://a"]}, "pool_size": 0}, ValueError, "pool_size", id="pool"),
    pytest.param({"routes": {"/api": ["http://a"]}, "via": "a b"}, ValueError, "via must be", id="via"),
    pytest.param({"routes": {"/api": ["http://a"], "/api/": ["http://b"]}}, ValueError, "given twice",
                 id="prefix-twice"),
])
def test_bad_options_are_refused_with_a_sentence(options, error, message):
    with pytest.raises(error, match=message):
        Proxy(not_proxied, **options)



def test_close_closes_the_pools_and_later_requests_get_a_502(upstreams):
    proxy = Proxy(not_proxied, routes={"/api": [upstreams[0].url]})
    client_ = TestClient(validated(proxy))
    assert client_.get("/api/echo").status_code == 200
    pool = proxy.upstreams["/api"][0].pool
    proxy.close()
    assert pool.pool is None
    assert client_.get("/api/echo").status_code == 502
    assert client_.get("/").data == b"local"


def test_a_head_request_gives_the_connection_back(upstreams):
    proxy = Proxy(not_proxied, routes={"/api": [upstreams[0].url]})
    client_ = TestClient(validated(proxy))
    for _ in range(3):
        response = client_.head("/api/download?size=100000")
        assert response.status_code == 200 and response.data == b""
        assert response.headers["Content-Length"] == "100000"
    pool = proxy.upstreams["/api"][0].pool
    assert pool.num_connections == 1
    assert [conn.sock is not None for conn in pool.pool.queue if conn is not None] == [True]
