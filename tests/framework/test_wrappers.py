"""Request and Response: the Werkzeug wrappers with the framework's extras."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import webtest
import werkzeug
from werkzeug.datastructures import ImmutableMultiDict

import framework.wrappers
from framework import App, Request, Response
from framework.parsing import parse_urlencoded
from framework.wrappers import URLBuilder


@pytest.fixture
def app():
    return App(__name__)


@pytest.fixture
def client(app):
    return webtest.TestApp(app)


def test_request_and_response_extend_werkzeug():
    assert issubclass(Request, werkzeug.Request)
    assert issubclass(Response, werkzeug.Response)


def test_response_defaults_to_html():
    response = Response("<p>x</p>")
    assert response.status_code == 200
    assert response.mimetype == "text/html"


def test_request_from_an_environ(make_environ):
    request = Request(make_environ("/a/b", query="x=1&x=2&y=%C3%A9"))
    assert request.path == "/a/b"
    assert request.args.getlist("x") == ["1", "2"]
    assert request.args["y"] == "é"
    assert request.method == "GET"


def test_args(app, client):
    @app.get("/q")
    def q(request):
        return {"a": request.args.getlist("a"), "b": request.args.get("b"), "c": request.args["c"]}

    res = client.get("/q?a=1&a=2&b=caf%C3%A9&c=")
    assert res.json == {"a": ["1", "2"], "b": "café", "c": ""}


def test_form(app, client):
    @app.post("/f")
    def f(request):
        return {"name": request.form["name"], "tags": request.form.getlist("tag")}

    res = client.post("/f", [("name", "Zoë"), ("tag", "a"), ("tag", "b")])
    assert res.json == {"name": "Zoë", "tags": ["a", "b"]}


def test_files(app, client):
    @app.post("/upload")
    def upload(request):
        stored = request.files["doc"]
        try:
            return {
                "filename": stored.filename,
                "content": stored.read().decode(),
                "title": request.form["title"],
            }
        finally:
            stored.close()

    res = client.post(
        "/upload",
        {"title": "report"},
        upload_files=[("doc", "report.txt", b"hello file")],
    )
    assert res.json == {"filename": "report.txt", "content": "hello file", "title": "report"}


def test_uploaded_files_are_closed_after_the_request(app, client):
    streams = []

    @app.post("/upload")
    def upload(request):
        streams.append(request.files["doc"].stream)
        return "ok"

    client.post("/upload", upload_files=[("doc", "a.txt", b"data")])
    stream = streams.pop()
    was_closed = stream.closed
    stream.close()  # so that a failure here leaves no ResourceWarning for later tests
    assert was_closed, "the App did not close request.files after the request"


def test_cookies(app, client):
    @app.get("/c")
    def c(request):
        return dict(request.cookies)

    res = client.get("/c", headers={"Cookie": "theme=dark; lang=fr"})
    assert res.json == {"theme": "dark", "lang": "fr"}


def test_headers(app, client):
    @app.get("/h")
    def h(request):
        return {"custom": request.headers["X-Custom"], "lower": request.headers.get("x-custom")}

    res = client.get("/h", headers={"X-Custom": "value"})
    assert res.json == {"custom": "value", "lower": "value"}


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        pytest.param(b'{"a": [1, 2]}', "application/json", {"a": [1, 2]}, id="object"),
        pytest.param(b"[1, 2]", "application/json", [1, 2], id="array"),
        pytest.param(
            '{"name": "Zoë"}'.encode(),
            "application/json; charset=utf-8",
            {"name": "Zoë"},
            id="utf8",
        ),
        pytest.param(b'{"x": 1}', "application/vnd.api+json", {"x": 1}, id="plus-json"),
    ],
)
def test_json(app, client, body, content_type, expected):
    @app.post("/j")
    def j(request):
        return {"got": request.json}

    res = client.post("/j", body, content_type=content_type)
    assert res.json == {"got": expected}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{", id="truncated"),
        pytest.param(b"{'a': 1}", id="single-quotes"),
        pytest.param(b"not json", id="garbage"),
        pytest.param(b"", id="empty"),
        pytest.param(b'{"a": "\xff"}', id="invalid-utf8"),
        pytest.param(b"\x00\x01", id="binary"),
    ],
)
def test_malformed_json_is_400(app, client, body):
    @app.post("/j")
    def j(request):
        return {"got": request.json}

    res = client.post("/j", body, content_type="application/json", status=400)
    assert "Traceback" not in res.text


def test_malformed_json_is_400_in_json_too(app, client):
    @app.post("/j")
    def j(request):
        return {"got": request.json}

    res = client.post(
        "/j",
        b"{",
        content_type="application/json",
        headers={"Accept": "application/json"},
        status=400,
    )
    assert res.json["error"]["status"] == 400


def test_params(app, client):
    @app.get("/users/<int:user_id>/posts/<slug>")
    def post(request, user_id, slug):
        return {"params": request.params}

    assert client.get("/users/5/posts/hello").json == {"params": {"user_id": 5, "slug": "hello"}}


def test_params_is_empty_for_a_static_route(app, client):
    @app.get("/plain")
    def plain(request):
        return {"params": request.params}

    assert client.get("/plain").json == {"params": {}}


def test_remote_user(app, client):
    @app.get("/me")
    def me(request):
        return {"user": request.remote_user}

    assert client.get("/me", extra_environ={"REMOTE_USER": "alice"}).json == {"user": "alice"}
    assert client.get("/me").json == {"user": None}


def test_session_comes_from_the_environ(app, client):
    session = {"cart": [1]}
    seen = {}

    @app.get("/s")
    def s(request):
        seen["session"] = request.session
        request.session["visited"] = True
        return "ok"

    client.get("/s", extra_environ={"framework.session": session})
    assert seen["session"] is session
    assert session == {"cart": [1], "visited": True}


def test_session_without_a_sessions_layer_says_what_is_missing(make_environ):
    with pytest.raises(RuntimeError) as raised:
        _ = Request(make_environ("/")).session
    message = str(raised.value)
    assert "environ['framework.session']" in message
    assert "middleware.Sessions(app, secret_key=" in message and "docs/auth.md" in message


def test_request_app_is_typed_without_importing_the_app_module():
    """``wrappers`` sits below ``app``: a Protocol types ``Request.app`` (no import circle)."""
    source = (Path(framework.wrappers.__file__)).read_text()
    assert "from .app" not in source and "framework.app" not in source
    assert isinstance(App(__name__), URLBuilder)


@pytest.mark.parametrize(("query", "expected"), [
    pytest.param("a=1&a=2&b=", [("a", "1"), ("a", "2"), ("b", "")], id="repeats-and-blank"),
    pytest.param("x+y=%C3%A9+%2B", [("x y", "é +")], id="plus-and-escapes"),
    pytest.param("&&a&", [("a", "")], id="empty-fields"),
    pytest.param("", [], id="empty"),
])
def test_parse_urlencoded_matches_parse_qsl(query, expected):
    fields = parse_urlencoded(query)
    assert list(fields.items(multi=True)) == expected == parse_qsl(query, keep_blank_values=True)
    assert isinstance(fields, ImmutableMultiDict)
