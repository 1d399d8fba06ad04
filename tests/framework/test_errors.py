"""abort, HTTP exceptions, error handlers, JSON/HTML error bodies, unhandled exceptions."""

from __future__ import annotations

import logging
import re

import pytest
import webtest
import werkzeug.exceptions

import framework
from framework import App, Request, Response, abort

EXCEPTIONS = sorted(werkzeug.exceptions.default_exceptions.items())
EXTERNAL_ASSET = re.compile(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", re.IGNORECASE)


@pytest.fixture
def app():
    app = App(__name__)

    @app.get("/abort/<int:code>")
    def do_abort(request, code):
        abort(code)

    @app.get("/missing")
    def missing(request):
        abort(404, "No such widget.")

    @app.get("/xss")
    def xss(request):
        abort(404, "<script>alert(1)</script>")

    @app.get("/boom")
    def boom(request):
        raise RuntimeError("secret-detail-xyz")

    @app.post("/only-post")
    def only_post(request):
        return "posted"

    return app


@pytest.fixture
def client(app):
    return webtest.TestApp(app)


# -- abort and the exceptions -------------------------------------------------------------


@pytest.mark.parametrize(
    "code", [pytest.param(c, id=str(c)) for c in [400, 401, 403, 404, 409, 410, 418, 422, 429, 500, 501, 503]]
)
def test_abort_ends_the_request_with_that_status(client, code):
    client.get(f"/abort/{code}", status=code)


@pytest.mark.parametrize(("code", "exception"), [pytest.param(c, e, id=e.__name__) for c, e in EXCEPTIONS])
def test_werkzeug_exceptions_are_reexported_and_raise_their_status(code, exception):
    assert getattr(framework, exception.__name__) is exception
    app = App(__name__)

    @app.get("/raise")
    def raise_it(request):
        raise getattr(framework, exception.__name__)()

    webtest.TestApp(app).get("/raise", status=code)


def test_http_exception_base_is_reexported():
    assert framework.HTTPException is werkzeug.exceptions.HTTPException
    assert framework.abort is not None


def test_an_http_exception_with_a_response_keeps_it():
    app = App(__name__)

    @app.get("/teapot")
    def teapot(request):
        raise framework.HTTPException(response=Response("short and stout", status=418))

    res = webtest.TestApp(app).get("/teapot", status=418)
    assert res.text == "short and stout"


# -- error handlers -----------------------------------------------------------------------


class PaymentError(Exception):
    pass


class CardDeclined(PaymentError):
    pass


def test_errorhandler_for_a_code_receives_request_and_error(app, client):
    seen = {}

    @app.errorhandler(404)
    def not_found(request, error):
        seen.update(request=request, error=error)
        return Response(f"custom 404 for {request.path}", status=404, mimetype="text/plain")

    res = client.get("/nowhere", status=404)
    assert res.text == "custom 404 for /nowhere"
    assert isinstance(seen["request"], Request)
    assert isinstance(seen["error"], werkzeug.exceptions.NotFound)


def test_errorhandler_for_a_code_also_catches_abort(app, client):
    @app.errorhandler(404)
    def not_found(request, error):
        return Response(f"handled: {error.description}", status=404)

    assert client.get("/missing", status=404).text == "handled: No such widget."


def test_errorhandler_plain_body_gets_the_error_status(app, client):
    @app.errorhandler(404)
    def not_found(request, error):
        return "<h1>not here</h1>"

    res = client.get("/nowhere", status=404)
    assert res.text == "<h1>not here</h1>"
    assert res.content_type == "text/html"


def test_errorhandler_dict_body_gets_the_error_status(app, client):
    @app.errorhandler(404)
    def not_found(request, error):
        return {"missing": request.path}

    res = client.get("/nowhere", status=404)
    assert res.json == {"missing": "/nowhere"}


def test_errorhandler_response_keeps_its_own_status(app, client):
    @app.errorhandler(404)
    def not_found(request, error):
        return Response("moved on", status=410)

    assert client.get("/nowhere", status=410).text == "moved on"


def test_errorhandler_tuple_sets_the_status(app, client):
    @app.errorhandler(404)
    def not_found(request, error):
        return "teapot", 418

    assert client.get("/nowhere", status=418).text == "teapot"


def test_errorhandler_for_405(app, client):
    @app.errorhandler(405)
    def not_allowed(request, error):
        return "nope"

    res = client.get("/only-post", status=405)
    assert res.text == "nope"


def test_errorhandler_for_an_exception_class():
    app = App(__name__)
    seen = {}

    @app.errorhandler(PaymentError)
    def payment(request, error):
        seen.update(request=request, error=error)
        return Response(f"payment failed: {error}", status=402)

    @app.get("/pay")
    def pay(request):
        raise PaymentError("insufficient funds")

    res = webtest.TestApp(app).get("/pay", status=402)
    assert res.text == "payment failed: insufficient funds"
    assert isinstance(seen["request"], Request)
    assert isinstance(seen["error"], PaymentError)


def test_errorhandler_for_a_base_class_catches_subclasses():
    app = App(__name__)

    @app.errorhandler(PaymentError)
    def payment(request, error):
        return Response(type(error).__name__, status=402)

    @app.get("/pay")
    def pay(request):
        raise CardDeclined("declined")

    assert webtest.TestApp(app).get("/pay", status=402).text == "CardDeclined"


def test_errorhandler_for_an_http_exception_class(app, client):
    @app.errorhandler(werkzeug.exceptions.NotFound)
    def not_found(request, error):
        return Response("class handler", status=404)

    assert client.get("/nowhere", status=404).text == "class handler"
    assert client.get("/missing", status=404).text == "class handler"


def test_errorhandler_returns_the_function(app):
    def handler(request, error):
        return "x"

    assert app.errorhandler(404)(handler) is handler


# -- error bodies -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "accept",
    [
        pytest.param("application/json", id="json"),
        pytest.param("application/json, text/html;q=0.5", id="json-preferred"),
        pytest.param("text/html;q=0.1, application/json", id="json-preferred-reordered"),
    ],
)
def test_error_is_json_when_accept_prefers_it(client, accept):
    res = client.get("/nowhere", headers={"Accept": accept}, status=404)
    assert res.content_type == "application/json"
    assert res.json == {"error": {"status": 404, "message": werkzeug.exceptions.NotFound.description}}


@pytest.mark.parametrize(
    "accept",
    [
        pytest.param(None, id="no-accept"),
        pytest.param("*/*", id="anything"),
        pytest.param("text/html", id="html"),
        pytest.param("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", id="browser"),
        pytest.param("text/html, application/json;q=0.9", id="html-preferred"),
    ],
)
def test_error_is_html_otherwise(client, accept):
    headers = {"Accept": accept} if accept else {}
    res = client.get("/nowhere", headers=headers, status=404)
    assert res.content_type == "text/html"
    assert res.charset == "utf-8"
    assert "404" in res.text
    assert "Not Found" in res.text
    assert "<html" in res.text.lower()


def test_json_error_message_is_the_abort_text(client):
    res = client.get("/missing", headers={"Accept": "application/json"}, status=404)
    assert res.json == {"error": {"status": 404, "message": "No such widget."}}


def test_html_error_shows_the_abort_text(client):
    res = client.get("/missing", status=404)
    assert "No such widget." in res.text


def test_html_error_escapes_the_message(client):
    res = client.get("/xss", status=404)
    assert "<script>alert(1)</script>" not in res.text
    assert "&lt;script&gt;" in res.text


def test_json_405_keeps_allow(client):
    res = client.get("/only-post", headers={"Accept": "application/json"}, status=405)
    assert res.json["error"]["status"] == 405
    assert res.json["error"]["message"] == werkzeug.exceptions.MethodNotAllowed.description
    assert "POST" in res.headers["Allow"]


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/nowhere", id="404"),
        pytest.param("/boom", id="500"),
        pytest.param("/abort/403", id="403"),
    ],
)
def test_html_error_page_loads_no_external_assets(client, path):
    res = client.get(path, expect_errors=True)
    assert res.status_int >= 400
    assert not EXTERNAL_ASSET.search(res.text), EXTERNAL_ASSET.search(res.text)
    assert "@import" not in res.text


# -- unhandled exceptions -----------------------------------------------------------------


def test_unhandled_exception_is_a_logged_500_without_traceback(client, caplog):
    with caplog.at_level(logging.ERROR, logger="framework"):
        res = client.get("/boom", status=500)
    assert "Traceback" not in res.text
    assert "RuntimeError" not in res.text
    assert "test_errors.py" not in res.text
    records = [r for r in caplog.records if r.name.startswith("framework")]
    assert records, "nothing logged on the 'framework' logger"
    record = next(r for r in records if r.exc_info)
    assert record.levelno >= logging.ERROR
    assert record.exc_info[0] is RuntimeError
    assert "secret-detail-xyz" in caplog.text
    assert "Traceback" in caplog.text


def test_unhandled_exception_body_does_not_leak_the_message(client):
    res = client.get("/boom", status=500)
    assert "secret-detail-xyz" not in res.text


def test_unhandled_exception_as_json(client):
    res = client.get("/boom", headers={"Accept": "application/json"}, status=500)
    assert res.json["error"]["status"] == 500
    assert isinstance(res.json["error"]["message"], str)
    assert "secret-detail-xyz" not in res.text
    assert "Traceback" not in res.text


def test_debug_shows_the_traceback(caplog):
    app = App(__name__, debug=True)

    @app.get("/boom")
    def boom(request):
        raise RuntimeError("secret-detail-xyz")

    with caplog.at_level(logging.ERROR, logger="framework"):
        res = webtest.TestApp(app).get("/boom", status=500)
    assert "Traceback" in res.text
    assert "RuntimeError" in res.text
    assert "secret-detail-xyz" in res.text


def test_the_logger_is_framework():
    app = App(__name__)

    @app.get("/boom")
    def boom(request):
        raise ValueError("x")

    records = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger = logging.getLogger("framework")
    handler = Collect(level=logging.DEBUG)
    logger.addHandler(handler)
    try:
        webtest.TestApp(app).get("/boom", status=500)
    finally:
        logger.removeHandler(handler)
    assert any(r.exc_info and r.exc_info[0] is ValueError for r in records)


def test_an_exception_in_an_error_handler_is_a_500(caplog):
    app = App(__name__)

    @app.errorhandler(404)
    def broken(request, error):
        raise RuntimeError("handler broke")

    with caplog.at_level(logging.ERROR, logger="framework"):
        res = webtest.TestApp(app).get("/nowhere", expect_errors=True)
    assert res.status_int == 500
    assert "handler broke" not in res.text


def test_a_redirect_raised_by_a_handler_is_not_rebased_like_the_slash_redirect():
    from webtest import TestApp
    from werkzeug.routing import RequestRedirect

    from framework import App

    app = App(__name__)

    @app.get("/go")
    def go(request):
        raise RequestRedirect("https://example.com/elsewhere")

    reply = TestApp(app).get("/go", status=308, extra_environ={"SCRIPT_NAME": "/blog"})
    assert reply.headers["Location"] == "https://example.com/elsewhere"
