"""Proxy's header rules, both ways, against real upstream processes, through the validator.

Hop-by-hop fields, ``X-Forwarded-*``, ``Via``, ``Host``, ``Location``/``Content-Location``
and ``Set-Cookie``; the upstream is ``upstream.py`` under gunicorn, or its bare
``http.server`` mode for the hop-by-hop fields that WSGI servers drop themselves.
"""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import quote

import pytest
from test_proxy import RawUpstream, Upstream, client, make_environ
from urllib3.exceptions import HTTPError

from framework.testing import TestClient, validated
from middleware.proxy import Proxy


@pytest.fixture(scope="module")
def upstream():
    started = Upstream("one")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def raw():
    started = RawUpstream("raw")
    yield started
    started.stop()


HOP_BY_HOP_IN = {"Connection": "X-Secret, keep-alive", "X-Secret": "1", "Keep-Alive": "timeout=5",
                 "TE": "trailers", "Trailer": "X-Checksum", "Upgrade": "websocket",
                 "Proxy-Authorization": "Basic eDp5", "Proxy-Foo": "bar", "X-Kept": "yes"}


def test_hop_by_hop_request_headers_are_dropped(upstream):
    received = client([upstream.url]).get("/api/echo", headers=HOP_BY_HOP_IN).json["headers"]
    for name in ("Connection", "X-Secret", "Keep-Alive", "Te", "Trailer", "Upgrade", "Proxy-Authorization",
                 "Proxy-Foo"):
        assert name not in received
    assert received["X-Kept"] == "yes"


def test_hop_by_hop_response_headers_are_dropped(raw):
    sent = ["Connection:X-Secret", "X-Secret:1", "Keep-Alive:timeout=5", "Upgrade:h2c", "Trailer:X-Sum",
            "Proxy-Authenticate:Basic", "Proxy-Foo:bar", "X-Kept:yes"]
    query = "&".join("h=" + quote(header) for header in sent)
    response = client([raw.url]).get("/api/x?" + query)
    assert response.json["id"] == "raw"
    names = {name.lower() for name in response.headers.keys()}
    assert not names & {"connection", "x-secret", "keep-alive", "upgrade", "trailer", "proxy-authenticate",
                        "proxy-foo", "transfer-encoding"}
    assert response.headers["X-Kept"] == "yes"


def test_the_upstreams_date_and_server_are_not_passed_on(raw):
    # http.server writes both; the server answering the client writes its own (nginx's default)
    response = client([raw.url]).get("/api/x")
    assert response.json["id"] == "raw"
    assert "Date" not in response.headers and "Server" not in response.headers


@pytest.mark.parametrize(("headers", "environ", "expected"), [
    pytest.param({}, {"REMOTE_ADDR": "10.0.0.9"},
                 {"X-Forwarded-For": "10.0.0.9", "X-Forwarded-Proto": "http",
                  "X-Forwarded-Host": "localhost", "Via": "1.1 onion-wsgi"}, id="first-hop"),
    pytest.param({"X-Forwarded-For": "1.2.3.4, 5.6.7.8", "Via": "1.0 fred"}, {"REMOTE_ADDR": "10.0.0.9"},
                 {"X-Forwarded-For": "1.2.3.4, 5.6.7.8, 10.0.0.9", "Via": "1.0 fred, 1.1 onion-wsgi"},
                 id="appended"),
    pytest.param({"X-Forwarded-Proto": "spoofed", "X-Forwarded-Host": "evil", "X-Forwarded-Prefix": "/evil",
                  "Host": "shop.example:8080"},
                 {"wsgi.url_scheme": "https", "SERVER_PROTOCOL": "HTTP/1.0"},
                 {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.example:8080",
                  "X-Forwarded-Prefix": None, "Via": "1.0 onion-wsgi"}, id="set-not-trusted"),
])
def test_forwarded_headers_and_via(upstream, headers, environ, expected):
    received = client([upstream.url]).get("/api/echo", headers=headers, environ_overrides=environ).json
    for name, value in expected.items():
        assert received["headers"].get(name) == value, name


def test_the_host_is_the_upstreams_by_default_and_the_clients_with_preserve_host(upstream):
    netloc = upstream.url.removeprefix("http://")
    assert client([upstream.url]).get("/api/echo").json["headers"]["Host"] == netloc
    kept = client([upstream.url], preserve_host=True).get("/api/echo", headers={"Host": "shop.example"})
    assert kept.json["headers"]["Host"] == "shop.example"


def test_via_is_added_to_the_response_after_the_upstreams_own(upstream, raw):
    assert client([upstream.url]).get("/api/echo").headers["Via"] == "1.1 onion-wsgi"
    response = client([raw.url]).get("/api/x?h=Via:1.1%20inner")
    assert response.headers.getlist("Via") == ["1.1 inner, 1.1 onion-wsgi"]
    assert "Via" not in client([upstream.url], via=None).get("/api/echo").headers


def test_the_client_headers_reach_the_upstream_and_nothing_else(upstream):
    received = client([upstream.url]).get("/api/echo", headers={"Accept-Encoding": "gzip",
                                                                "Authorization": "Bearer t"}).json["headers"]
    assert received["Accept-Encoding"] == "gzip" and received["Authorization"] == "Bearer t"
    plain = client([upstream.url]).get("/api/echo").json["headers"]
    assert "User-Agent" not in plain and "Accept-Encoding" not in plain  # not urllib3's own


def test_the_body_is_never_decompressed(upstream):
    # The echo's JSON labelled gzip: decoding it would fail; it must arrive byte for byte.
    response = client([upstream.url]).get("/api/echo?h=Content-Encoding:gzip")
    assert response.headers["Content-Encoding"] == "gzip"
    assert json.loads(response.data)["id"] == "one"


LOCATIONS = [
    # strip, base path, SCRIPT_NAME, Location from the upstream, Location for the client
    pytest.param(False, "", "", "{upstream}/api/next?a=1", "http://localhost/api/next?a=1",
                 id="kept-absolute"),
    pytest.param(False, "", "", "/api/next", "/api/next", id="kept-relative"),
    pytest.param(True, "", "", "{upstream}/next", "http://localhost/api/next", id="stripped-absolute"),
    pytest.param(True, "", "", "/next", "/api/next", id="stripped-relative"),
    pytest.param(True, "", "", "/", "/api/", id="stripped-root"),
    pytest.param(True, "/base", "", "{upstream}/base/next", "http://localhost/api/next", id="base"),
    pytest.param(True, "/base", "", "/elsewhere", "/elsewhere", id="outside-the-base"),
    pytest.param(False, "", "/mount", "/api/next", "/mount/api/next", id="under-script-name"),
    pytest.param(True, "", "", "https://example.com/x", "https://example.com/x", id="other-host"),
    pytest.param(True, "", "", "next", "next", id="relative-reference"),
]


@pytest.mark.parametrize(("strip", "base", "script", "location", "expected"), LOCATIONS)
def test_location_pointing_at_the_upstream_points_back_at_the_client(upstream, strip, base, script,
                                                                     location, expected):
    proxy = client([upstream.url + base], strip_prefix=strip)
    target = quote(location.format(upstream=upstream.url), safe="")
    response = proxy.get(f"/api/redirect?to={target}&h=Content-Location:{target}",
                         environ_overrides={"SCRIPT_NAME": script})
    assert response.status_code == 302
    assert response.headers["Location"] == expected
    assert response.headers["Content-Location"] == expected


def test_location_with_preserve_host_keeps_the_clients_host(upstream):
    proxy = client([upstream.url], strip_prefix=True, preserve_host=True)
    target = quote("http://shop.example/next", safe="")
    response = proxy.get(f"/api/redirect?to={target}", headers={"Host": "shop.example"})
    assert response.headers["Location"] == "http://shop.example/api/next"


COOKIES = [
    pytest.param(True, "a=1; Path=/", "a=1; Path=/api", id="root"),
    pytest.param(True, "b=2; Path=/sub; HttpOnly", "b=2; Path=/api/sub; HttpOnly", id="sub"),
    pytest.param(True, "c=3; Domain=127.0.0.1; Path=/", "c=3; Path=/api", id="upstream-domain-dropped"),
    pytest.param(True, "d=4; Domain=example.com", "d=4; Domain=example.com", id="other-domain-kept"),
    pytest.param(False, "e=5; Path=/api", "e=5; Path=/api", id="kept-prefix"),
    pytest.param(False, "f=6; Path=/", "f=6; Path=/", id="kept-prefix-root"),
]


@pytest.mark.parametrize(("strip", "cookie", "expected"), COOKIES)
def test_set_cookie_paths_move_under_the_prefix(upstream, strip, cookie, expected):
    response = client([upstream.url], strip_prefix=strip).get(f"/api/cookie?set={quote(cookie)}")
    assert response.headers.getlist("Set-Cookie") == [expected]


def test_several_set_cookie_headers_stay_apart(upstream):
    cookies = "set=a%3D1&set=b%3D2%3B%20Path%3D%2F"
    response = client([upstream.url], strip_prefix=True).get("/api/cookie?" + cookies)
    assert response.headers.getlist("Set-Cookie") == ["a=1", "b=2; Path=/api"]


def test_a_body_read_to_its_end_gives_the_connection_back_to_the_pool(upstream):
    proxy = Proxy(lambda environ, start_response: [], routes={"/api": [upstream.url]})
    test = TestClient(validated(proxy))
    for _ in range(5):
        assert test.get("/api/download?size=200000").status_code == 200
    pool = proxy.upstreams["/api"][0].pool
    assert pool.num_connections == 1
    assert [conn.sock is not None for conn in pool.pool.queue if conn is not None] == [True]


def test_closing_the_body_early_closes_the_upstream_response(upstream):
    proxy = Proxy(lambda environ, start_response: [], routes={"/api": [upstream.url]})
    app = validated(proxy)
    environ = make_environ("/api/stream", "delay=0.01")
    closed_before = upstream.output().count("one: closed after")
    body = app(environ, lambda status, headers, exc_info=None: None)
    chunks = iter(body)
    assert len(next(chunks)) > 0 and len(next(chunks)) > 0
    body.close()
    pool = proxy.upstreams["/api"][0].pool
    # back in the pool, closed: the next request connects again instead of reading leftovers
    assert [conn.sock for conn in pool.pool.queue if conn is not None] == [None]
    deadline = time.monotonic() + 10
    while upstream.output().count("one: closed after") == closed_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert upstream.output().count("one: closed after") == closed_before + 1
    assert TestClient(app).get("/api/echo").json["id"] == "one"


def test_an_upstream_failing_mid_body_is_an_error_never_a_short_body(raw, caplog):
    app = validated(Proxy(lambda environ, start_response: [], routes={"/api": [raw.url]}))
    statuses = []
    body = app(make_environ("/api/x", "short"),
               lambda status, headers, exc_info=None: statuses.append(status))
    received = b""
    with caplog.at_level(logging.ERROR, "middleware.proxy"), pytest.raises(HTTPError):
        for chunk in body:
            received += chunk
    body.close()
    assert statuses == ["200 OK"] and received == b"0123456789"
    assert f"Upstream {raw.url} failed while sending its body" in caplog.text
