"""URL building: app.url_for and request.url_for."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import webtest

from framework import App


def make_app(**options):
    app = App(__name__, **options)

    @app.get("/")
    def index(request):
        return "home"

    @app.route("/users/<int:user_id>", methods=["GET", "POST"], name="user")
    def show_user(request, user_id):
        return "user"

    @app.get("/files/<path:name>")
    def files(request, name):
        return "file"

    @app.get("/tag/<tag>")
    def tag(request, tag):
        return "tag"

    @app.get("/build")
    def build(request):
        return {
            "relative": request.url_for("user", user_id=5),
            "external": request.url_for("user", user_id=5, _external=True),
        }

    return app


@pytest.fixture
def app():
    return make_app()


@pytest.mark.parametrize(
    ("name", "values", "url"),
    [
        pytest.param("index", {}, "/", id="index"),
        pytest.param("user", {"user_id": 5}, "/users/5", id="explicit-name"),
        pytest.param("files", {"name": "a/b.txt"}, "/files/a/b.txt", id="default-name-path"),
        pytest.param("tag", {"tag": "a b?#%"}, "/tag/a%20b%3F%23%25", id="quoted"),
        pytest.param("tag", {"tag": "café"}, "/tag/caf%C3%A9", id="utf8"),
        pytest.param("user", {"user_id": 5, "tab": "posts"}, "/users/5?tab=posts", id="query"),
    ],
)
def test_app_url_for(app, name, values, url):
    assert app.url_for(name, **values) == url


def test_default_name_is_the_function_name(app):
    assert app.url_for("files", name="x") == "/files/x"
    with pytest.raises(Exception, match="show_user"):
        app.url_for("show_user", user_id=1)  # it was named "user" explicitly


@pytest.mark.parametrize(
    ("name", "values"),
    [
        pytest.param("nope", {}, id="unknown-name"),
        pytest.param("user", {}, id="missing-value"),
    ],
)
def test_url_for_errors(app, name, values):
    with pytest.raises(Exception) as info:
        app.url_for(name, **values)
    assert name in str(info.value)


def test_app_url_for_external_uses_server_name():
    app = make_app(server_name="example.com")
    url = app.url_for("user", user_id=5, _external=True)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "example.com", "/users/5")


def test_request_url_for(app):
    res = webtest.TestApp(app).get("/build")
    assert res.json["relative"] == "/users/5"
    parts = urlsplit(res.json["external"])
    assert (parts.scheme, parts.hostname, parts.path) == ("http", "localhost", "/users/5")


def test_request_url_for_includes_script_name(app):
    res = webtest.TestApp(app).get("/build", extra_environ={"SCRIPT_NAME": "/blog"})
    assert res.json["relative"] == "/blog/users/5"
    parts = urlsplit(res.json["external"])
    assert (parts.scheme, parts.hostname, parts.path) == ("http", "localhost", "/blog/users/5")


def test_request_url_for_external_uses_the_host_and_scheme(app):
    res = webtest.TestApp(app).get(
        "/build",
        headers={"Host": "shop.example.org:8443"},
        extra_environ={"wsgi.url_scheme": "https", "SCRIPT_NAME": "/blog"},
    )
    assert res.json["external"] == "https://shop.example.org:8443/blog/users/5"


def test_request_url_for_when_mounted():
    outer = App(__name__)
    outer.mount("/blog", make_app())
    res = webtest.TestApp(outer).get("/blog/build")
    assert res.json["relative"] == "/blog/users/5"


def test_request_url_for_unknown_name_is_an_error():
    app = App(__name__)

    @app.get("/bad")
    def bad(request):
        return request.url_for("nope")

    webtest.TestApp(app).get("/bad", status=500)
