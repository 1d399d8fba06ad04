"""Random requests through the whole onion (hypothesis): never a 500, never a traceback, no fd leaked.

Methods, raw paths (``%``-escapes, ``..``, NUL, backslashes, unicode), headers (``Accept``,
``Accept-Encoding``, ``Range``, ``If-None-Match``, ``Origin``, ``Cookie``, ``Authorization``,
preflight headers) and bodies go through ``tests/onion_app.py`` with ``wsgiref.validate``
between every pair of layers, as a server would hand them over (PEP 3333 environ).
"""

from __future__ import annotations

import base64
import gc
import io
import os
from urllib.parse import unquote_to_bytes

import onion_app
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import ROOT, Process, free_port, require_module

from framework.testing import TestClient

# Methods wsgiref.validate knows (it warns, an error here, on any other).
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"]
SEGMENTS = ["", ".", "..", "%2e%2e", "%2E.", "%00", "%2f", "%5c", "\\", "~", ".hidden", "static", "css",
            "site.css", "site.css.gz", "hello.txt", "admin", "api", "feed", "wsgi", "login", "logout",
            "stream", "echo", "visits", "big", "limited", "%C3%A9t%C3%A9", "été", "日本", "%ff", "%",
            "a%20b", "index.html"]
# Latin-1 text without control characters: what a server lets through in a header value.
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
                      max_size=40)


ALICE = "<alice's login cookie>"  # replaced by the real cookie of a logged-in alice


def pick(*values):
    """One of *values*, or random header text."""
    return st.one_of(st.sampled_from(values), HEADER_TEXT)


HEADERS = st.fixed_dictionaries({}, optional={
    "HTTP_ACCEPT": pick("application/json", "text/html", "application/xml", "*/*",
                        "text/html;q=0.9, application/xml;q=1", "application/json;q=abc"),
    "HTTP_ACCEPT_ENCODING": pick("gzip", "br", "gzip;q=0, br;q=1", "identity;q=0", "*", "deflate, gzip;q=0.5",
                                 "gzip;q=nan"),
    "HTTP_RANGE": pick("bytes=0-10", "bytes=-5", "bytes=100-", "bytes=5-1", "bytes=0-1,3-4", "bytes=0-0",
                       "bytes=99999999999999999999-", "items=0-1"),
    "HTTP_IF_NONE_MATCH": pick('"abc"', "*", 'W/"x", "y"', '"'),
    "HTTP_IF_MODIFIED_SINCE": pick("Tue, 01 Dec 2099 00:00:00 GMT", "yesterday",
                                   "Thu, 01 Jan 1970 00:00:00 GMT"),
    "HTTP_ORIGIN": pick(onion_app.ORIGIN, "https://evil.example", "null", ""),
    "HTTP_ACCESS_CONTROL_REQUEST_METHOD": pick("GET", "POST", "DELETE", ""),
    "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": pick("content-type", "x-custom, authorization", ""),
    "HTTP_COOKIE": pick("session=abc", "login=x.y.z", "session=; login=", "a=b; session=\"quoted\"",
                        ALICE, f"{ALICE}; session=abc"),
    "HTTP_AUTHORIZATION": st.one_of(
        st.builds(lambda raw: "Basic " + base64.b64encode(raw).decode(), st.binary(max_size=30)),
        pick("Bearer token", "Basic", "Basic !!!", "Digest x")),
    "CONTENT_TYPE": pick("application/json", "application/x-www-form-urlencoded", "multipart/form-data",
                         "multipart/form-data; boundary=x", "text/plain"),
})
#: The header name of each environ key HEADERS may set, for sending them over HTTP.
HEADER_NAMES = {
    "CONTENT_TYPE": "Content-Type",
    "HTTP_ACCEPT": "Accept",
    "HTTP_ACCEPT_ENCODING": "Accept-Encoding",
    "HTTP_RANGE": "Range",
    "HTTP_IF_NONE_MATCH": "If-None-Match",
    "HTTP_IF_MODIFIED_SINCE": "If-Modified-Since",
    "HTTP_ORIGIN": "Origin",
    "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "Access-Control-Request-Method",
    "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "Access-Control-Request-Headers",
    "HTTP_COOKIE": "Cookie",
    "HTTP_AUTHORIZATION": "Authorization",
}
QUERIES = st.sampled_from(["", "n=3", "next=/admin", "next=//evil.example", "n=-1", "n=abc", "a=%zz&b",
                           "x=é"])


# Paths each layer acts on, so that half the requests reach a layer's own work.
KNOWN = ["/static/hello.txt", "/static/css/site.css", "/static/css/", "/static", "/api/x", "/api/stream",
         "/api", "/feed", "/big", "/visits", "/admin", "/login", "/logout", "/echo", "/stream", "/wsgi/a",
         "/limited", "/"]


def raw_paths():
    """A raw request path: a known one, a known one with random segments after it, or random segments."""
    segment = st.one_of(st.sampled_from(SEGMENTS), st.text(max_size=8).filter(lambda s: "/" not in s))
    segments = st.lists(segment, min_size=0, max_size=5).map("/".join)
    return st.one_of(st.sampled_from(KNOWN), st.tuples(st.sampled_from(KNOWN), segments).map("/".join),
                     segments.map(lambda path: "/" + path))


def environ_for(method, raw_path, query, headers, body):
    """The PEP 3333 environ a server builds: PATH_INFO is the unquoted path, bytes as latin-1."""
    path = unquote_to_bytes(raw_path.encode("utf-8")).decode("latin-1")
    if "HTTP_COOKIE" in headers:
        headers = {**headers, "HTTP_COOKIE": headers["HTTP_COOKIE"].replace(ALICE, ALICE_COOKIE.get("", ""))}
    environ = {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(), "wsgi.multithread": False, "wsgi.multiprocess": False,
        "wsgi.run_once": False, **headers,
    }
    if body or method in ("POST", "PUT", "PATCH"):
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


def call(application, environ):
    """``(status, body)``: the response read to the end and closed, as a server does."""
    seen = []

    def start_response(status, headers, exc_info=None):
        seen.append(status)
        return lambda data: None

    iterable = application(environ, start_response)
    try:
        body = b"".join(iterable)
    finally:
        if hasattr(iterable, "close"):
            iterable.close()
    return seen[-1], body


def open_fds():
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture(scope="module")
def upstream():
    require_module("gunicorn")  # serves the upstream the Proxy layer forwards to
    port = free_port()
    process = Process(onion_app.upstream_command(port), cwd=ROOT, env={"ONION_ID": "fuzz"},
                      wait_for=("127.0.0.1", port), timeout=30)
    yield f"http://127.0.0.1:{port}"
    process.stop()


ALICE_COOKIE: dict[str, str] = {}


@pytest.fixture(scope="module")
def onion(upstream):
    application = onion_app.build([upstream])
    client = TestClient(application)
    page = client.get("/login").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/login", data={"username": "alice", "password": "alice-pw", "csrf_token": token,
                                "next": "/"})
    ALICE_COOKIE[""] = f"login={client.get_cookie('login').value}"
    assert client.get("/admin").status_code == 200
    return application


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(method=st.sampled_from(METHODS), raw_path=raw_paths(), query=QUERIES, headers=HEADERS,
       body=st.binary(max_size=2000))
def test_random_requests_never_fail_the_server(onion, method, raw_path, query, headers, body):
    status, text = call(onion, environ_for(method, raw_path, query, headers, body))
    assert not status.startswith("5"), (status, text[:500])
    assert b"Traceback" not in text and b'File "' not in text


def test_random_requests_leak_no_file_descriptor(onion):
    warm = [("GET", "/static/hello.txt"), ("GET", "/api/x"), ("GET", "/"), ("GET", "/feed")]
    for method, path in warm:  # the Proxy's connection pool opens its connection now
        call(onion, environ_for(method, path, "", {}, b""))
    gc.collect()
    before = open_fds()

    @settings(max_examples=60, deadline=None, database=None)
    @given(method=st.sampled_from(METHODS), raw_path=raw_paths(), headers=HEADERS,
           body=st.binary(max_size=500))
    def run(method, raw_path, headers, body):
        call(onion, environ_for(method, raw_path, "", headers, body))

    run()
    for method, path in warm:
        call(onion, environ_for(method, path, "", {}, b""))
    gc.collect()
    assert open_fds() <= before
