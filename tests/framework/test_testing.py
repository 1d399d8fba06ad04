"""framework/testing.py: the framework's own test client (``app.test_client()``)."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from werkzeug.wrappers import Response as WerkzeugResponse

from framework import App, Response, redirect
from framework.testing import TestClient, TestResponse, validated

ROOT = Path(__file__).resolve().parents[2]
JSON = {"Accept": "application/json"}


@pytest.fixture
def app():
    app = App(__name__)

    @app.route("/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def echo(request):
        return {
            "method": request.method,
            "args": request.args.to_dict(),
            "form": request.form.to_dict(),
            "json": request.get_json(silent=True),
            "header": request.headers.get("X-Test"),
        }

    @app.get("/hello")
    def hello(request):
        return "Hello, <b>World</b>!"

    @app.get("/remember/<value>")
    def remember(request, value):
        response = Response("stored")
        response.set_cookie("remembered", value)
        return response

    @app.get("/recall")
    def recall(request):
        return {"remembered": request.cookies.get("remembered")}

    @app.get("/away")
    def away(request):
        return redirect(request.url_for("hello"), 303)

    @app.get("/stream")
    def stream(request):
        yield "one,"
        yield "two"

    return app


@pytest.fixture
def client(app):
    return app.test_client()


def test_app_test_client_is_a_framework_test_client(app):
    client = app.test_client(use_cookies=False)
    assert isinstance(client, TestClient)
    assert client.application is app


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_every_method_reaches_the_handler(client, method):
    response = getattr(client, method)("/echo?q=1")
    assert response.status_code == 200
    assert isinstance(response, TestResponse)
    assert response.json["method"] == method.upper()
    assert response.json["args"] == {"q": "1"}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_json_body(client, method):
    response = getattr(client, method)("/echo", json={"title": "milk", "n": [1, 2]})
    assert response.json["json"] == {"title": "milk", "n": [1, 2]}
    assert response.request.headers["Content-Type"] == "application/json"


def test_data_dict_is_a_form_post(client):
    response = client.post("/echo", data={"name": "Ada", "lang": "en"})
    assert response.json["form"] == {"name": "Ada", "lang": "en"}
    assert response.request.mimetype == "application/x-www-form-urlencoded"


def test_headers_are_sent(client):
    assert client.get("/echo", headers={"X-Test": "yes"}).json["header"] == "yes"


def test_text_status_and_headers(client):
    response = client.get("/hello")
    assert response.status_code == 200
    assert response.status == "200 OK"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.text == "Hello, <b>World</b>!"


def test_cookies_round_trip(client):
    assert client.get("/recall").json == {"remembered": None}
    client.get("/remember/blue")
    assert client.get_cookie("remembered").value == "blue"
    assert client.get("/recall").json == {"remembered": "blue"}


def test_cookies_can_be_turned_off(app):
    client = app.test_client(use_cookies=False)
    client.get("/remember/blue")
    assert client.get("/recall").json == {"remembered": None}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param("/hello", "200", id="html-page"),
        pytest.param("/nowhere", "404", id="html-404"),
        pytest.param("/away", "303", id="redirect"),
    ],
)
def test_json_of_a_body_that_is_not_json_says_what_it_is(client, path, status):
    response = client.get(path)
    with pytest.raises(ValueError, match="not JSON") as refused:
        response.json  # noqa: B018
    assert f"JSON: {status} " in str(refused.value)
    assert "text/html; charset=utf-8" in str(refused.value)
    # Werkzeug's own spellings still work
    assert response.get_json(silent=True) is None


def test_json_of_a_json_error_page(client):
    response = client.get("/nowhere", headers=JSON)
    assert response.status_code == 404
    assert response.json["error"]["status"] == 404
    response = client.patch("/hello", headers=JSON)
    assert response.status_code == 405
    assert response.json["error"]["status"] == 405
    assert "GET" in response.headers["Allow"]


def test_redirects_are_not_followed_unless_asked(client):
    response = client.get("/away")
    assert response.status_code == 303
    assert response.location == "/hello"
    followed = client.get("/away", follow_redirects=True)
    assert followed.status_code == 200
    assert followed.text == "Hello, <b>World</b>!"
    assert [step.status_code for step in followed.history] == [303]


def test_the_body_is_read_and_the_iterable_closed_by_default(app):
    # wsgiref.validate fails ("Iterator garbage collected without being closed")
    # when the app's iterable is never closed: Werkzeug's Client leaves it open.
    client = TestClient(validated(app))
    for path in ("/hello", "/stream", "/away", "/nowhere"):
        response = client.get(path)
        assert response.status_code in (200, 303, 404)
        del response
        gc.collect()


def test_a_stream_can_be_read_unbuffered(client):
    response = client.get("/stream", buffered=False)
    assert list(response.response) == [b"one,", b"two"]
    response.close()
    assert client.get("/stream").text == "one,two"


def test_a_response_wrapper_is_combined_with_test_response(app):
    class Custom(WerkzeugResponse):
        shout = True

    response = TestClient(app, response_wrapper=Custom).get("/echo")
    assert isinstance(response, Custom)
    assert isinstance(response, TestResponse)
    assert response.json["method"] == "GET"


def test_any_wsgi_app_a_plain_one():
    def plain(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"plain": true}']

    assert TestClient(plain).get("/").json == {"plain": True}


def test_any_wsgi_app_flask():
    flask = pytest.importorskip("flask")
    flask_app = flask.Flask(__name__)

    @flask_app.post("/add")
    def add():
        data = flask.request.get_json()
        return {"sum": data["a"] + data["b"]}

    @flask_app.get("/login")
    def login():
        flask.session["user"] = "ada"
        return "ok"

    @flask_app.get("/me")
    def me():
        return {"user": flask.session.get("user")}

    flask_app.secret_key = "test"
    client = TestClient(flask_app)
    assert client.post("/add", json={"a": 2, "b": 3}).json == {"sum": 5}
    client.get("/login")
    assert client.get("/me").json == {"user": "ada"}


def test_pytest_does_not_collect_the_client_classes():
    assert TestClient.__test__ is False
    assert TestResponse.__test__ is False


def test_importable_without_webtest():
    """The test client needs only the distribution's dependencies (setup.py install_requires)."""
    script = textwrap.dedent(
        """
        import sys

        class BlockWebTest:
            def find_spec(self, name, path=None, target=None):
                if name == "webtest" or name.startswith("webtest."):
                    raise ImportError("webtest is blocked for this test")
                return None

        sys.modules.pop("webtest", None)
        sys.meta_path.insert(0, BlockWebTest())

        from framework import App
        import framework.testing

        app = App(__name__)

        @app.post("/")
        def index(request):
            return {"got": request.json}

        assert app.test_client().post("/", json=[1]).json == {"got": [1]}
        assert "webtest" not in sys.modules
        try:
            import webtest
        except ImportError:
            print("blocked")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "blocked"
