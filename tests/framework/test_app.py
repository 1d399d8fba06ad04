"""App: route decorators, handler calling convention, return values, hooks, mounting."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlsplit

import flask
import pytest
import webtest

from framework import App, Request, Response, redirect


@pytest.fixture
def app():
    return App(__name__)


@pytest.fixture
def client(app):
    return webtest.TestApp(app)


# -- route decorators ---------------------------------------------------------------------


@pytest.mark.parametrize("method", [pytest.param(m, id=m) for m in ["get", "post", "put", "patch", "delete"]])
def test_method_decorators(app, client, method):
    decorator = getattr(app, method)

    @decorator("/thing")
    def thing(request):
        return request.method

    res = getattr(client, method)("/thing")
    assert res.status_int == 200
    assert res.text == method.upper()
    other = "post" if method != "post" else "put"
    res = getattr(client, other)("/thing", status=405)
    assert method.upper() in res.headers["Allow"]


def test_route_with_methods_and_name(app, client):
    @app.route("/users/<int:user_id>", methods=["GET", "POST"], name="user")
    def show_user(request, user_id):
        return {"id": user_id, "method": request.method}

    assert client.get("/users/7").json == {"id": 7, "method": "GET"}
    assert client.post("/users/7").json == {"id": 7, "method": "POST"}
    client.delete("/users/7", status=405)
    assert app.url_for("user", user_id=7) == "/users/7"


def test_route_default_methods_is_get(app, client):
    @app.route("/only-get")
    def only_get(request):
        return "ok"

    assert client.get("/only-get").text == "ok"
    client.post("/only-get", status=405)


def test_decorator_returns_the_function(app):
    def handler(request):
        return "x"

    assert app.get("/x")(handler) is handler


def test_handler_gets_request_first_and_params_as_kwargs(app, client):
    seen = {}

    @app.get("/a/<name>/<int:n>")
    def handler(request, *, name, n):
        seen["request"] = request
        return {"name": name, "n": n}

    assert client.get("/a/bob/3").json == {"name": "bob", "n": 3}
    assert isinstance(seen["request"], Request)
    assert seen["request"].path == "/a/bob/3"


# -- return-value coercion ----------------------------------------------------------------


def test_response_is_returned_as_is(app, client):
    @app.get("/r")
    def r(request):
        return Response("made", status=201, headers={"X-Custom": "yes"}, mimetype="text/plain")

    res = client.get("/r")
    assert res.status_int == 201
    assert res.headers["X-Custom"] == "yes"
    assert res.content_type == "text/plain"
    assert res.text == "made"


@pytest.mark.parametrize(
    ("value", "body"),
    [
        pytest.param("<p>héllo</p>", "<p>héllo</p>".encode(), id="str"),
        pytest.param("<p>héllo</p>".encode(), "<p>héllo</p>".encode(), id="bytes"),
        pytest.param("", b"", id="empty-str"),
    ],
)
def test_str_and_bytes_are_html(app, client, value, body):
    @app.get("/s")
    def s(request):
        return value

    res = client.get("/s")
    assert res.status_int == 200
    assert res.headers["Content-Type"] == "text/html; charset=utf-8"
    assert res.body == body


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"a": 1, "b": [1, 2], "c": "é"}, id="dict"),
        pytest.param([1, "two", {"three": 3}], id="list"),
        pytest.param({}, id="empty-dict"),
        pytest.param([], id="empty-list"),
    ],
)
def test_dict_and_list_are_json(app, client, value):
    @app.get("/j")
    def j(request):
        return value

    res = client.get("/j")
    assert res.status_int == 200
    assert res.content_type == "application/json"
    assert json.loads(res.body) == value


def _streaming_app(consumed, closed):
    app = App(__name__)

    @app.get("/stream")
    def stream(request):
        def generate():
            try:
                for i in range(3):
                    consumed.append(i)
                    yield f"chunk{i};".encode()
            finally:
                closed.append(True)

        return generate()

    return app


def test_generator_is_streamed_not_buffered(make_environ):
    consumed, closed = [], []
    app = _streaming_app(consumed, closed)
    statuses = []
    iterable = app(make_environ("/stream"), lambda s, h, e=None: statuses.append(s))
    try:
        iterator = iter(iterable)
        first = next(iterator)
        while first == b"":  # an empty leading chunk is allowed, but no buffering
            first = next(iterator)
        assert first == b"chunk0;"
        assert consumed == [0], "the body was read ahead of the client"
        assert statuses and statuses[0].startswith("200")
        rest = b"".join(iterator)
    finally:
        if hasattr(iterable, "close"):
            iterable.close()
    assert rest == b"chunk1;chunk2;"
    assert consumed == [0, 1, 2]


def test_generator_is_closed_when_the_server_stops_early(make_environ):
    consumed, closed = [], []
    app = _streaming_app(consumed, closed)
    iterable = app(make_environ("/stream"), lambda s, h, e=None: None)
    iterator = iter(iterable)
    next(iterator)
    iterable.close()
    assert closed == [True]
    assert len(consumed) < 3


def test_head_on_a_streamed_route_sends_no_body(make_environ):
    consumed, closed = [], []
    app = _streaming_app(consumed, closed)
    statuses = []
    iterable = app(make_environ("/stream", method="HEAD"), lambda s, h, e=None: statuses.append(s))
    try:
        body = b"".join(iterable)
    finally:
        if hasattr(iterable, "close"):
            iterable.close()
    assert statuses[0].startswith("200")
    assert body == b""
    assert consumed == [] or closed == [True]


@pytest.mark.parametrize(
    "make_body",
    [
        pytest.param(lambda: (s for s in ["a", "b", "é"]), id="generator-of-str"),
        pytest.param(lambda: (s.encode() for s in ["a", "b", "é"]), id="generator-of-bytes"),
        pytest.param(lambda: iter(["a", "b", "é"]), id="iterator"),
    ],
)
def test_iterators_give_the_whole_body(app, call, make_body):
    @app.get("/it")
    def it(request):
        return make_body()

    res = call(app, "/it")
    assert res.status_code == 200
    assert res.body == "abé".encode()


@pytest.mark.parametrize(
    ("value", "status", "headers", "body"),
    [
        pytest.param(("created", 201), 201, {}, b"created", id="body-status"),
        pytest.param(("x", {"X-A": "1"}), 200, {"X-A": "1"}, b"x", id="body-headers-dict"),
        pytest.param(("x", [("X-A", "1")]), 200, {"X-A": "1"}, b"x", id="body-headers-list"),
        pytest.param(
            ({"a": 1}, 202, [("X-A", "1")]),
            202,
            {"X-A": "1", "Content-Type": "application/json"},
            b'{"a": 1}',
            id="json-status-headers",
        ),
        pytest.param(
            ("<b>gone</b>", 410, {"X-B": "2"}),
            410,
            {"X-B": "2", "Content-Type": "text/html; charset=utf-8"},
            b"<b>gone</b>",
            id="str-status-headers",
        ),
        pytest.param(
            (Response("r", mimetype="text/plain"), 418),
            418,
            {"Content-Type": "text/plain; charset=utf-8"},
            b"r",
            id="response-status",
        ),
    ],
)
def test_tuples(app, client, value, status, headers, body):
    @app.get("/t")
    def t(request):
        return value

    res = client.get("/t", status=status)
    for key, expected in headers.items():
        assert res.headers[key] == expected
    if body.startswith(b"{"):
        assert json.loads(res.body) == json.loads(body)
    else:
        assert res.body == body


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        pytest.param({}, 302, id="default-302"),
        pytest.param({"code": 301}, 301, id="301"),
        pytest.param({"code": 303}, 303, id="303"),
    ],
)
def test_redirect(app, client, kwargs, status):
    @app.get("/old")
    def old(request):
        return redirect("/new?x=1", **kwargs)

    res = client.get("/old", status=status)
    assert urlsplit(res.headers["Location"])[2:4] == ("/new", "x=1")


class Widget:
    def __repr__(self):
        return "<Widget 42>"


@pytest.mark.parametrize(
    ("value", "names"),
    [
        pytest.param(None, ["None"], id="none"),
        pytest.param(12345, ["int", "12345"], id="int"),
        pytest.param(1.5, ["float", "1.5"], id="float"),
        pytest.param(Widget(), ["Widget"], id="object"),
        pytest.param(("a", 200, {}, "extra"), ["tuple"], id="tuple-of-four"),
    ],
)
def test_anything_else_is_a_logged_500(app, client, caplog, value, names):
    @app.get("/bad")
    def bad(request):
        return value

    with caplog.at_level(logging.ERROR, logger="framework"):
        client.get("/bad", status=500)
    records = [r for r in caplog.records if r.name.startswith("framework")]
    assert records, "nothing was logged on the 'framework' logger"
    assert any(r.levelno >= logging.ERROR for r in records)
    logged = "\n".join(r.getMessage() for r in records) + caplog.text
    assert any(name in logged for name in names), logged


def test_app_options_are_keyword_only():
    with pytest.raises(TypeError):
        App(__name__, True)
    app = App(__name__, debug=True, max_content_length=5, template_folder="views", server_name="x.org")
    assert callable(app)


# -- hooks --------------------------------------------------------------------------------


def test_before_request_short_circuits(app, client):
    calls = []

    @app.before_request
    def gate(request):
        calls.append("before")
        if request.args.get("stop"):
            return Response("stopped", status=403, mimetype="text/plain")
        return None

    @app.get("/h")
    def h(request):
        calls.append("handler")
        return "handled"

    res = client.get("/h?stop=1", status=403)
    assert res.text == "stopped"
    assert calls == ["before"]
    calls.clear()
    assert client.get("/h").text == "handled"
    assert calls == ["before", "handler"]


def test_before_request_hooks_run_in_order_and_get_the_request(app, client):
    calls = []

    @app.before_request
    def one(request):
        assert isinstance(request, Request)
        calls.append("one")

    @app.before_request
    def two(request):
        calls.append("two")

    @app.get("/h")
    def h(request):
        return "ok"

    client.get("/h")
    assert calls == ["one", "two"]


def test_after_request_modifies_the_response(app, client):
    @app.after_request
    def add_header(request, response):
        assert isinstance(request, Request)
        assert isinstance(response, Response)
        response.headers["X-After"] = request.path
        return response

    @app.get("/h")
    def h(request):
        return {"ok": True}

    res = client.get("/h")
    assert res.headers["X-After"] == "/h"
    assert res.json == {"ok": True}


def test_after_request_can_replace_the_response(app, client):
    @app.after_request
    def replace(request, response):
        return Response("replaced", status=202, mimetype="text/plain")

    @app.get("/h")
    def h(request):
        return "original"

    res = client.get("/h", status=202)
    assert res.text == "replaced"


def test_after_request_hooks_run_in_reverse_registration_order(app, client):
    @app.after_request
    def first(request, response):
        response.headers.add("X-Order", "first")
        return response

    @app.after_request
    def second(request, response):
        response.headers.add("X-Order", "second")
        return response

    @app.get("/h")
    def h(request):
        return "ok"

    res = client.get("/h")
    assert res.headers.getall("X-Order") == ["second", "first"]


def test_after_request_sees_a_short_circuit_from_before_request(app, client):
    @app.before_request
    def gate(request):
        return Response("stopped", status=403)

    @app.after_request
    def tag(request, response):
        response.headers["X-Tagged"] = "1"
        return response

    @app.get("/h")
    def h(request):
        return "ok"

    res = client.get("/h", status=403)
    assert res.headers["X-Tagged"] == "1"


# -- max_content_length -------------------------------------------------------------------


@pytest.mark.parametrize(
    "read",
    [
        pytest.param(lambda request: request.get_data(), id="get_data"),
        pytest.param(lambda request: request.form, id="form"),
        pytest.param(lambda request: request.stream.read(), id="stream"),
    ],
)
def test_max_content_length_is_413(read):
    app = App(__name__, max_content_length=10)

    @app.post("/upload")
    def upload(request):
        read(request)
        return "ok"

    client = webtest.TestApp(app)
    client.post("/upload", {"data": "x" * 100}, status=413)
    assert client.post("/upload", {"d": "x"}).text == "ok"


def test_max_content_length_allows_an_exact_fit():
    app = App(__name__, max_content_length=10)

    @app.post("/upload")
    def upload(request):
        return {"size": len(request.get_data())}

    client = webtest.TestApp(app)
    res = client.post("/upload", b"0123456789", content_type="application/octet-stream")
    assert res.json == {"size": 10}


# -- mounting -----------------------------------------------------------------------------


def where_app(environ, start_response):
    body = json.dumps({"script_name": environ["SCRIPT_NAME"], "path_info": environ["PATH_INFO"]})
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body.encode()]


@pytest.fixture
def mounted():
    outer = App(__name__)

    @outer.get("/")
    def home(request):
        return "outer home"

    @outer.get("/apix")
    def apix(request):
        return "outer apix"

    inner = App(__name__)

    @inner.get("/items/<int:item_id>", name="item")
    def item(request, item_id):
        return {
            "item": item_id,
            "script_root": request.script_root,
            "path": request.path,
            "url": request.url_for("item", item_id=item_id),
        }

    outer.mount("/api", inner)
    outer.mount("/wsgi", where_app)
    return outer


@pytest.mark.parametrize(
    ("path", "script_name", "root", "expected"),
    [
        pytest.param("/wsgi/x/y", "/wsgi", "", "/x/y", id="deep"),
        pytest.param("/wsgi/", "/wsgi", "", "/", id="prefix-slash"),
        pytest.param("/wsgi", "/wsgi", "", "", id="prefix-exact"),
        pytest.param("/wsgi/x", "/root/wsgi", "/root", "/x", id="under-script-name"),
    ],
)
def test_mount_plain_wsgi_shifts_script_name(mounted, call, path, script_name, root, expected):
    res = call(mounted, path, script_name=root)
    assert res.status_code == 200
    assert json.loads(res.body) == {"script_name": script_name, "path_info": expected}


def test_mount_another_app(mounted):
    client = webtest.TestApp(mounted)
    res = client.get("/api/items/3")
    assert res.json == {
        "item": 3,
        "script_root": "/api",
        "path": "/items/3",
        "url": "/api/items/3",
    }
    assert client.get("/").text == "outer home"


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        pytest.param("/apix", 200, "outer apix", id="apix-is-not-api"),
        pytest.param("/apiary", 404, None, id="apiary"),
        pytest.param("/wsgix", 404, None, id="wsgix"),
        pytest.param("/api/nope", 404, None, id="inner-404"),
    ],
)
def test_mount_matches_at_segment_boundaries(mounted, path, status, text):
    res = webtest.TestApp(mounted).get(path, status=status)
    if text is not None:
        assert res.text == text


def test_mount_a_flask_app():
    outer = App(__name__)
    flask_app = flask.Flask("mounted_flask")

    @flask_app.get("/hello/<name>")
    def hello(name):
        return {"hello": name, "url": flask.url_for("hello", name=name)}

    outer.mount("/blog", flask_app)
    res = webtest.TestApp(outer).get("/blog/hello/ada")
    assert res.json == {"hello": "ada", "url": "/blog/hello/ada"}
