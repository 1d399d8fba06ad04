"""The one answer pipeline of Dispatcher and App: setup before serving, errors, HEAD.

Items 5.2 to 5.4 of issue 7 are here: handlers run before the debugger, handled
exceptions are not logged as errors, and a path whose escapes decode to invalid
UTF-8 is a 400 even when Werkzeug's dev server has already replaced it by U+FFFD.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path

import pytest
from support import Process, free_port
from werkzeug.exceptions import Locked
from werkzeug.test import Client

from framework import App, Dispatcher, Response, abort


def wsgi_hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hi"]


def served_app():
    app = App(__name__)

    @app.get("/")
    def index(request):
        return "home"

    assert app.test_client().get("/").status_code == 200
    return app


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(lambda app: app.route("/late")(lambda request: "x"), id="route"),
        pytest.param(lambda app: app.add("/late", lambda request: "x"), id="add"),
        pytest.param(lambda app: app.converter("slug", regex="[a-z]+"), id="converter"),
        pytest.param(lambda app: app.mount("/late", wsgi_hello), id="mount"),
        pytest.param(lambda app: app.before_request(lambda request: None), id="before_request"),
        pytest.param(lambda app: app.after_request(lambda request, response: response),
                     id="after_request"),
        pytest.param(lambda app: app.errorhandler(404)(lambda request, error: "x"), id="errorhandler"),
    ],
)
def test_setup_after_the_first_request_is_refused(setup):
    app = served_app()
    with pytest.raises(RuntimeError, match="after <App .* has served its first request"):
        setup(app)
    assert app.test_client().get("/").text == "home"  # still serving as before


def test_a_bare_dispatcher_refuses_late_routes_too():
    d = Dispatcher()
    d.add("/", wsgi_hello)
    assert Client(d).get("/").status_code == 200
    with pytest.raises(RuntimeError, match="Adding the route '/late' after"):
        d.add("/late", wsgi_hello)


def test_routes_may_change_until_the_first_request():
    app = App(__name__)

    @app.get("/a")
    def a(request):
        return "a"

    assert app.url_for("a") == "/a"  # building URLs is not serving: routes may still be added

    @app.get("/b")
    def b(request):
        return "b"

    client = app.test_client()
    assert (client.get("/a").text, client.get("/b").text) == ("a", "b")


class Busy(Exception):
    pass


def debug_app():
    """An app as ``run --debug`` configures it: exceptions propagate to the debugger."""
    app = App(__name__, debug=True)
    app.propagate_exceptions = True

    @app.errorhandler(Busy)
    def busy(request, error):
        return {"busy": True}, 423

    @app.errorhandler(Locked)
    def locked(request, error):
        return "locked by handler", 423

    @app.get("/busy")
    def raise_busy(request):
        raise Busy("try later")

    @app.get("/locked")
    def raise_locked(request):
        raise Locked()

    @app.get("/boom")
    def boom(request):
        raise ValueError("boom")

    return app


@pytest.mark.parametrize(
    ("path", "body"),
    [pytest.param("/busy", b'{"busy":true}', id="exception-class-handler"),
     pytest.param("/locked", b"locked by handler", id="http-exception-handler")],
)
def test_handlers_run_before_the_debugger(path, body):
    response = debug_app().test_client().get(path)
    assert (response.status_code, response.data) == (423, body)


def test_only_unhandled_exceptions_reach_the_debugger():
    with pytest.raises(ValueError, match="boom"):
        debug_app().test_client().get("/boom")


def test_a_handled_exception_is_not_logged_as_an_error(caplog):
    app = debug_app()
    app.propagate_exceptions = False
    with caplog.at_level(logging.DEBUG, logger="framework"):
        assert app.test_client().get("/busy").status_code == 423
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert not any(r.exc_info for r in caplog.records)


def test_an_unhandled_exception_is_logged_with_its_traceback(caplog):
    app = debug_app()
    app.propagate_exceptions = False
    with caplog.at_level(logging.DEBUG, logger="framework"):
        assert app.test_client().get("/boom").status_code == 500
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info and "boom" in errors[0].getMessage()


def test_a_failing_exception_handler_is_logged_and_answered_500(caplog):
    app = App(__name__)

    @app.errorhandler(Busy)
    def broken(request, error):
        raise RuntimeError("handler broke")

    @app.get("/")
    def index(request):
        raise Busy()

    with caplog.at_level(logging.ERROR, logger="framework"):
        assert app.test_client().get("/").status_code == 500
    assert any("handler" in r.getMessage() and r.exc_info for r in caplog.records)


@pytest.mark.parametrize(
    ("path_info", "raw", "status"),
    [
        # Werkzeug's dev server decodes %ff with errors="replace" into U+FFFD.
        pytest.param("/hello/\xef\xbf\xbd", "/hello/%ff", 400, id="werkzeug-server-invalid"),
        pytest.param("/hello/\xef\xbf\xbd", "/hello/%FF?x=1", 400, id="werkzeug-server-invalid-query"),
        pytest.param("/hello/\xef\xbf\xbd", "/hello/%EF%BF%BD", 200, id="a-real-replacement-char"),
        pytest.param("/hello/\xff", None, 400, id="no-raw-uri"),
        pytest.param("/hello/\xc3\xa9", "/hello/%C3%A9", 200, id="valid-utf8"),
    ],
)
def test_invalid_utf8_in_the_path_is_400(path_info, raw, status):
    app = App(__name__)

    @app.get("/hello/<name>")
    def hello(request, name):
        return name

    environ = {"PATH_INFO": path_info}
    if raw is not None:
        environ["RAW_URI"] = environ["REQUEST_URI"] = raw
    response = app.test_client().get("/", environ_overrides=environ)
    assert response.status_code == status


class Body:
    """A streamed body that records whether it was closed."""

    def __init__(self, closed):
        self.closed = closed

    def __iter__(self):
        return iter([b"a", b"b"])

    def close(self):
        self.closed.append(True)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_the_streamed_body_is_closed_for_get_and_head(call, method):
    closed = []
    app = App(__name__)

    @app.get("/stream")
    def stream(request):
        return Response(Body(closed), mimetype="text/plain")

    result = call(app, "/stream", method=method)
    assert result.body == (b"ab" if method == "GET" else b"")
    assert closed == [True]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_dispatched_wsgi_app_is_closed_for_get_and_head(call, method):
    closed = []

    def target(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Body(closed)

    d = Dispatcher()
    d.add("/", target)
    result = call(d, "/", method=method)
    assert result.body == (b"ab" if method == "GET" else b"")
    assert closed == [True]


def test_abort_with_a_response_is_sent_as_is():
    app = App(__name__)

    @app.errorhandler(Exception)
    def catch_all(request, error):  # must not see the ready-made response
        return "caught", 500

    @app.get("/")
    def index(request):
        abort(Response("ready", status=418))

    response = app.test_client().get("/")
    assert (response.status_code, response.text) == (418, "ready")


def test_app_run_debug_prints_the_debugger_pin(tmp_path):
    """``app.run(debug=True)`` without the reloader prints the PIN, as the CLI does."""
    port = free_port()
    (tmp_path / "runme.py").write_text(
        "from framework import App\n"
        "app = App(__name__)\n"
        "@app.get('/')\n"
        "def index(request):\n"
        "    return 'up'\n"
        f"app.run(port={port}, debug=True)\n")
    repo = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": repo, "WERKZEUG_DEBUG_PIN": "", "WERKZEUG_RUN_MAIN": ""}
    server = Process([sys.executable, "runme.py"], cwd=tmp_path, env=env,
                     wait_for=("127.0.0.1", port), timeout=20)
    output = server.stop_after("Debugger PIN")
    assert len(re.findall(r"^ \* Debugger PIN: \d{3}-\d{3}-\d{3}$", output, re.MULTILINE)) == 1, output
