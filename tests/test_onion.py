"""The whole onion in-process (WebTest): each layer does its work with all the others around it.

``tests/onion_app.py`` stacks every layer with ``wsgiref.validate`` between each pair; WebTest
adds its own lint outside. The same onion under a real gunicorn: ``test_onion_gunicorn.py``;
random requests through it: ``test_onion_fuzz.py``.
"""

from __future__ import annotations

import gzip
import hashlib
import json

import onion_app
import pytest
from support import ROOT, Process, free_port, require_module
from webtest import TestApp

from framework.testing import TestClient

ORIGIN = onion_app.ORIGIN


@pytest.fixture(scope="module")
def upstream():
    require_module("gunicorn")  # serves the upstream the Proxy layer forwards to
    port = free_port()
    process = Process(onion_app.upstream_command(port), cwd=ROOT, env={"ONION_ID": "up"},
                      wait_for=("127.0.0.1", port), timeout=30)
    yield f"http://127.0.0.1:{port}"
    process.stop()


@pytest.fixture
def client(upstream):
    return TestApp(onion_app.build([upstream]), extra_environ={"REMOTE_ADDR": "127.0.0.1"})


def log_in(client, username, password, next_value="/admin"):
    form = client.get("/login").forms[0]
    form["username"], form["password"], form["next"] = username, password, next_value
    return form.submit()


@pytest.mark.parametrize(
    ("path", "status", "expected"),
    [
        pytest.param("/", 200, "<h1>The whole onion</h1>", id="app"),
        pytest.param("/wsgi/x/y", 200, '"script_name": "/wsgi", "path_info": "/x/y"',
                     id="mounted-plain-wsgi"),
        pytest.param("/wsgix", 404, "Not Found", id="mount-segment-boundary"),
        pytest.param("/nowhere", 404, "Not Found", id="miss"),
    ],
)
def test_plain_requests_go_through_every_layer(client, path, status, expected):
    response = client.get(path, status=status)
    assert expected in response.text
    assert "RateLimit" in response.headers


def test_sessions_keep_a_counter(client):
    assert [client.get("/visits").json["visits"] for _ in range(3)] == [1, 2, 3]


def test_admin_redirects_to_login_then_lets_alice_in(client):
    response = client.get("/admin", status=303)
    assert response.location.endswith("/login?next=%2Fadmin")
    response = log_in(client, "alice", "alice-pw")
    assert response.status_int == 303 and response.location.endswith("/admin")
    assert "Welcome, alice." in client.get("/admin").text


def test_authorize_refuses_a_user_not_in_the_rule(client):
    log_in(client, "bob", "bob-pw")
    assert client.get("/admin", status=403).status_int == 403


def test_wrong_password_is_refused(client):
    response = log_in(client, "alice", "wrong")
    assert response.status_int in (200, 401)
    client.get("/admin", status=303)


def test_rate_limit_answers_429_with_retry_after(client):
    for _ in range(3):
        client.get("/limited", status=404)
    response = client.get("/limited", status=429)
    assert int(response.headers["Retry-After"]) >= 1


def test_streamed_response_arrives_whole(client):
    response = client.get("/stream?n=20")
    lines = response.text.splitlines()
    assert len(lines) == 20 and lines[-1].startswith("chunk 0019 ")


def test_post_body_reaches_the_app(client):
    body = bytes(range(256)) * 100
    response = client.post("/echo", body, content_type="application/octet-stream")
    assert response.json["length"] == len(body)


def test_json_error_bodies_carry_no_traceback(client):
    response = client.get("/nowhere", headers={"Accept": "application/json"}, status=404)
    assert json.loads(response.text)["error"]["status"] == 404
    assert "Traceback" not in response.text


# -- the layers that rewrite, answer for others, or forward ------------------------------------


@pytest.mark.parametrize(
    ("path", "check"),
    [
        pytest.param("/big", lambda body: json.loads(body) == onion_app.BIG, id="app-json"),
        pytest.param("/feed", lambda body: b"<li>news item number 11</li>" in body, id="xslt-output"),
        pytest.param("/api/x", lambda body: json.loads(body)["upstream"] == "up", id="proxied"),
        pytest.param("/stream?n=40", lambda body: body.count(b"\n") == 40, id="streamed"),
    ],
)
def test_compress_gzips_every_kind_of_answer(upstream, path, check):
    client = TestClient(onion_app.build([upstream]))  # WebTest would decode the gzip itself
    response = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert check(gzip.decompress(response.data))
    plain = client.get(path)
    assert "Content-Encoding" not in plain.headers and check(plain.data)


def test_xslt_turns_the_feed_into_html(client):
    response = client.get("/feed")
    assert response.content_type == "text/html"
    assert "<li>news item number 0</li>" in response.text and "<feed>" not in response.text


def test_the_other_xml_is_left_alone(client, upstream):
    assert client.get("/", headers={"Accept": "application/xml"}).content_type == "text/html"


def test_proxy_forwards_api_requests_with_their_body(client):
    body = bytes(range(256)) * 300
    response = client.post("/api/upload?x=1", body, content_type="application/octet-stream")
    answer = response.json
    assert answer["upstream"] == "up" and answer["path"] == "/api/upload" and answer["query"] == "x=1"
    assert answer["sha256"] == hashlib.sha256(body).hexdigest()
    assert answer["forwarded_for"] == "127.0.0.1"
    assert response.headers["Via"] == "1.1 onion-wsgi"


def test_proxy_streams_the_upstream_answer(client):
    response = client.get("/api/stream")
    assert response.text.splitlines()[-1] == "upstream chunk 49"


@pytest.mark.parametrize("path", [pytest.param("/admin", id="login-protected"),
                                  pytest.param("/api/x", id="proxied"), pytest.param("/echo", id="app")])
def test_cors_answers_preflights_before_login_or_proxy(client, path):
    response = client.options(path, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "PUT",
                                             "Access-Control-Request-Headers": "content-type"}, status=204)
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "PUT" in response.headers["Access-Control-Allow-Methods"]


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [pytest.param(ORIGIN, True, id="allowed"), pytest.param("https://evil.example", False, id="other")],
)
def test_cors_headers_for_allowed_origins_only(client, origin, allowed):
    for path in ("/big", "/api/x", "/admin"):
        response = client.get(path, headers={"Origin": origin}, status="*")
        assert response.headers.get("Access-Control-Allow-Origin") == (origin if allowed else None)
        assert "Origin" in response.headers["Vary"]


# -- static files, in front of everything but CORS and Compress --------------------------------

STATIC = onion_app.STATIC


def test_static_file_hit_with_validators(client):
    response = client.get("/static/hello.txt")
    assert response.body == (STATIC / "hello.txt").read_bytes()
    assert "RateLimit" not in response.headers  # answered before the rate limit counts it
    again = client.get("/static/hello.txt", headers={"If-None-Match": response.headers["ETag"]}, status=304)
    assert again.body == b""


def test_static_range(client):
    response = client.get("/static/css/site.css", headers={"Range": "bytes=0-9"}, status=206)
    assert response.body == (STATIC / "css" / "site.css").read_bytes()[:10]
    assert "Content-Encoding" not in response.headers  # Compress leaves a 206 alone


def test_static_precompressed_sibling_is_not_compressed_again(upstream):
    client = TestClient(onion_app.build([upstream]))
    response = client.get("/static/css/site.css", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.data == (STATIC / "css" / "site.css.gz").read_bytes()  # the sibling, as is
    assert gzip.decompress(response.data) == (STATIC / "css" / "site.css").read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/static/../onion_app.py", id="dot-dot"),
        pytest.param("/static/%2e%2e/feed.xsl", id="encoded-dot-dot"),
        pytest.param("/static/css/..%2f..%2ffeed.xsl", id="encoded-slash"),
        pytest.param("/static/hello.txt%00.css", id="nul"),
    ],
)
def test_static_never_serves_outside_its_directory(client, path):
    response = client.get(path, status="*")
    assert response.status_int in (400, 403, 404)
    assert b"xsl:stylesheet" not in response.body and b"import" not in response.body


def test_cors_headers_on_static_files(client):
    response = client.get("/static/hello.txt", headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
