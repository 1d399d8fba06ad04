"""The Dispatcher as a router of plain WSGI apps, the rule syntax and matching semantics."""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlsplit

import pytest
import webtest
from werkzeug.routing import BaseConverter

from framework import App, Dispatcher


def echo_app(environ, start_response):
    """A plain WSGI app that answers with what routing handed to it."""
    params = {
        key: value if isinstance(value, (int, float, str)) else repr(value)
        for key, value in environ.get("framework.params", {}).items()
    }
    body = json.dumps(
        {
            "params": params,
            "types": {k: type(v).__name__ for k, v in environ["framework.params"].items()},
            "path_info": environ["PATH_INFO"],
            "script_name": environ["SCRIPT_NAME"],
            "method": environ["REQUEST_METHOD"],
        }
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("X-Echo", "1")])
    return [body]


def named_app(name):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [name.encode()]

    return app


@pytest.fixture
def dispatcher():
    d = Dispatcher()
    d.add("/", named_app("root"), methods=["GET"])
    d.add("/hi/<name>", echo_app, methods=["GET"])
    d.add("/int/<int:n>", echo_app, methods=["GET"])
    d.add("/float/<float:x>", echo_app, methods=["GET"])
    d.add("/path/<path:rest>", echo_app, methods=["GET"])
    d.add("/uuid/<uuid:u>", echo_app, methods=["GET"])
    d.add("/form", named_app("form"), methods=["POST", "PUT"])
    d.add("/dir/", named_app("dir"), methods=["GET"])
    return d


@pytest.fixture
def client(dispatcher):
    return webtest.TestApp(dispatcher)


# -- the Dispatcher routes plain WSGI apps ------------------------------------------------


def test_dispatcher_calls_the_target_with_params(client):
    res = client.get("/hi/ada")
    assert res.json["params"] == {"name": "ada"}
    assert res.headers["X-Echo"] == "1"


def test_dispatcher_leaves_path_info_and_script_name_unchanged(client):
    res = client.get("/hi/ada", extra_environ={"SCRIPT_NAME": "/mounted"})
    assert res.json["path_info"] == "/hi/ada"
    assert res.json["script_name"] == "/mounted"


def test_dispatcher_passes_pep3333(dispatcher, call):
    # call() wraps the dispatcher in wsgiref.validate.validator
    assert call(dispatcher, "/").body == b"root"
    assert call(dispatcher, "/nowhere").status_code == 404
    assert call(dispatcher, "/", method="DELETE").status_code == 405


def test_dispatcher_environ_params_for_a_static_rule_is_empty():
    seen = {}

    def app(environ, start_response):
        seen.update(params=environ["framework.params"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]

    d = Dispatcher()
    d.add("/static", app, methods=["GET"])
    webtest.TestApp(d).get("/static")
    assert seen["params"] == {}


# -- converters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "types"),
    [
        pytest.param("/hi/ada", {"name": "ada"}, {"name": "str"}, id="default"),
        pytest.param("/hi/caf%C3%A9", {"name": "café"}, {"name": "str"}, id="default-utf8"),
        pytest.param("/int/42", {"n": 42}, {"n": "int"}, id="int"),
        pytest.param("/float/1.5", {"x": 1.5}, {"x": "float"}, id="float"),
        pytest.param("/path/a/b/c.txt", {"rest": "a/b/c.txt"}, {"rest": "str"}, id="path"),
        pytest.param(
            "/uuid/12345678-1234-5678-1234-567812345678",
            {"u": repr(uuid.UUID("12345678-1234-5678-1234-567812345678"))},
            {"u": "UUID"},
            id="uuid",
        ),
    ],
)
def test_converters_match_and_convert(client, path, params, types):
    res = client.get(path)
    assert res.json["params"] == params
    assert res.json["types"] == types


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/hi/a/b", id="default-no-slash"),
        pytest.param("/hi/", id="default-empty"),
        pytest.param("/int/abc", id="int-letters"),
        pytest.param("/int/-1", id="int-negative"),
        pytest.param("/int/1.5", id="int-float"),
        pytest.param("/float/1", id="float-needs-dot"),
        pytest.param("/float/x.y", id="float-letters"),
        pytest.param("/uuid/not-a-uuid", id="uuid-garbage"),
        pytest.param("/path/", id="path-empty"),
    ],
)
def test_converters_reject(client, path):
    client.get(path, status=404)


class SlugConverter(BaseConverter):
    regex = r"[a-z0-9]+(?:-[a-z0-9]+)*"

    def to_python(self, value):
        return value.replace("-", " ")

    def to_url(self, value):
        return value.replace(" ", "-")


def _slug_app_class():
    app = App(__name__)
    app.converter("slug", SlugConverter)
    return app


def _slug_app_regex():
    app = App(__name__)
    app.converter(
        "slug",
        regex=r"[a-z0-9]+(?:-[a-z0-9]+)*",
        to_python=lambda value: value.replace("-", " "),
        to_url=lambda value: value.replace(" ", "-"),
    )
    return app


@pytest.mark.parametrize(
    "make_app",
    [
        pytest.param(_slug_app_class, id="converter-class"),
        pytest.param(_slug_app_regex, id="converter-regex"),
    ],
)
def test_custom_converter_both_ways(make_app):
    app = make_app()

    @app.get("/posts/<slug:title>")
    def post(request, title):
        return {"title": title}

    client = webtest.TestApp(app)
    assert client.get("/posts/hello-world").json == {"title": "hello world"}
    client.get("/posts/Hello_World", status=404)
    # to_url is used when building
    assert app.url_for("post", title="hello big world") == "/posts/hello-big-world"


def test_custom_converter_regex_with_default_functions():
    app = App(__name__)
    app.converter("hex", regex=r"[0-9a-f]+", to_python=lambda v: int(v, 16), to_url=str)

    @app.get("/colour/<hex:value>")
    def colour(request, value):
        return {"value": value}

    client = webtest.TestApp(app)
    assert client.get("/colour/ff").json == {"value": 255}
    client.get("/colour/zz", status=404)


# -- matching semantics -------------------------------------------------------------------


def test_no_rule_is_404(client):
    client.get("/nowhere", status=404)


def test_wrong_method_is_405_with_allow(client):
    res = client.delete("/form", status=405)
    allow = {m.strip() for m in res.headers["Allow"].split(",")}
    assert {"POST", "PUT"} <= allow
    assert "DELETE" not in allow
    assert "GET" not in allow


def test_405_allow_lists_get_and_head(client):
    res = client.post("/hi/ada", status=405)
    allow = {m.strip() for m in res.headers["Allow"].split(",")}
    assert {"GET", "HEAD"} <= allow


def test_head_is_answered_for_every_get_rule(dispatcher, call):
    for path in ["/", "/hi/ada", "/int/1", "/dir/"]:
        res = call(dispatcher, path, method="HEAD")
        assert res.status_code == 200, path
        assert res.body == b"", path


def test_head_keeps_the_get_headers(client):
    res = client.head("/hi/ada")
    assert res.status_int == 200
    assert res.headers["X-Echo"] == "1"
    assert res.body == b""


def test_head_on_app_route_has_no_body():
    app = App(__name__)

    @app.get("/page")
    def page(request):
        return "<p>hello</p>"

    res = webtest.TestApp(app).head("/page")
    assert res.status_int == 200
    assert res.content_type == "text/html"
    assert res.body == b""


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("/form", {"POST", "PUT"}, id="post-put"),
        pytest.param("/hi/ada", {"GET", "HEAD"}, id="get"),
    ],
)
def test_options_is_answered_with_allow(dispatcher, call, path, expected):
    res = call(dispatcher, path, method="OPTIONS", validate=False)
    assert res.status_code in (200, 204)
    allow = {m.strip() for m in res.header("Allow").split(",")}
    assert expected <= allow
    assert "OPTIONS" in allow
    assert res.body == b""


def test_options_answer_passes_pep3333(dispatcher, call):
    # wsgiref.validate wants a Content-Type on every answer but a 204 or 304
    res = call(dispatcher, "/form", method="OPTIONS")
    assert res.status_code in (200, 204)


def test_options_on_an_app_route():
    app = App(__name__)

    @app.post("/things")
    def things(request):
        return "made"

    res = webtest.TestApp(app).options("/things")
    assert res.status_int in (200, 204)
    assert "POST" in res.headers["Allow"]


@pytest.mark.parametrize(
    ("path", "query", "script_name", "location"),
    [
        pytest.param("/dir", "", "", "/dir/", id="plain"),
        pytest.param("/dir", "a=1&b=%C3%A9", "", "/dir/?a=1&b=%C3%A9", id="keeps-query"),
        pytest.param("/dir", "", "/mounted", "/mounted/dir/", id="script-name"),
    ],
)
def test_missing_trailing_slash_redirects_308(dispatcher, call, path, query, script_name, location):
    res = call(dispatcher, path, query=query, script_name=script_name)
    assert res.status_code == 308
    got = urlsplit(res.header("Location"))
    want = urlsplit(location)
    assert (got.path, got.query) == (want.path, want.query)


def test_slash_redirect_keeps_the_method_for_post():
    d = Dispatcher()
    d.add("/submit/", named_app("submit"), methods=["POST"])
    res = webtest.TestApp(d).post("/submit", {"a": "1"}, status=308)
    assert urlsplit(res.headers["Location"]).path == "/submit/"


def test_static_beats_dynamic_whatever_the_order():
    d = Dispatcher()
    d.add("/users/<name>", named_app("dynamic"), methods=["GET"])
    d.add("/users/new", named_app("static"), methods=["GET"])
    d.add("/files/<path:rest>", named_app("path"), methods=["GET"])
    d.add("/files/index", named_app("index"), methods=["GET"])
    client = webtest.TestApp(d)
    assert client.get("/users/new").text == "static"
    assert client.get("/users/ada").text == "dynamic"
    assert client.get("/files/index").text == "index"
    assert client.get("/files/a/b").text == "path"


def test_rules_match_the_whole_path():
    d = Dispatcher()
    d.add("/a", named_app("a"), methods=["GET"])
    client = webtest.TestApp(d)
    assert client.get("/a").text == "a"
    client.get("/a/b", status=404)
    client.get("/ab", status=404)
    client.get("/x/a", status=404)


def test_routing_with_200_rules():
    d = Dispatcher()
    for i in range(100):
        d.add(f"/static{i}/page", named_app(f"static{i}"), methods=["GET"])
        d.add(f"/dyn{i}/<int:n>", echo_app, methods=["GET"])
    client = webtest.TestApp(d)
    for i in (0, 1, 50, 98, 99):
        assert client.get(f"/static{i}/page").text == f"static{i}"
        assert client.get(f"/dyn{i}/{i * 7}").json["params"] == {"n": i * 7}
    client.get("/static100/page", status=404)
    client.get("/dyn100/1", status=404)
    client.get("/dyn5/x", status=404)


def test_a_bare_dispatcher_answers_errors_like_an_app():
    from webtest import TestApp

    from framework import Dispatcher
    from framework.testing import validated

    def hello(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hi"]

    dispatcher = Dispatcher()
    dispatcher.add("/hi", hello, methods=["GET"])
    client = TestApp(validated(dispatcher))
    missing = client.get("/nope", headers={"Accept": "application/json"}, status=404)
    assert missing.json == {"error": {"status": 404, "message": missing.json["error"]["message"]}}
    wrong = client.post("/hi", status=405)
    assert wrong.headers["Allow"] == "GET, HEAD, OPTIONS" and "405" in wrong.text
