"""The cheap ``framework.Response``: every Werkzeug API still behaves, through WSGI.

Each case builds a response twice: with ``framework.Response`` returned by an ``App``
handler (the cheap constructor and ``emit``'s direct send), and with Werkzeug's own
``Response`` (same default mimetype) called as a WSGI app. Both run under
``wsgiref.validate``; the status, the header list and the body must be identical.
"""

from __future__ import annotations

import gc
from datetime import datetime, timezone

import pytest
import werkzeug
from werkzeug.datastructures import Headers
from werkzeug.test import Client

from framework import App, Response
from framework.responses import emit, json_response
from framework.testing import validated


class Reference(werkzeug.Response):
    """Werkzeug's response as it is, with our default mimetype."""

    default_mimetype = "text/html"


def with_headers(cls, environ):
    response = cls("x", mimetype="text/plain")
    response.headers["X-Added"] = "1"
    response.headers.add("X-Added", "2")
    return response


def with_cookie(cls, environ):
    response = cls("x")
    response.set_cookie("session", "abc", max_age=60, httponly=True, samesite="Lax")
    response.delete_cookie("old")
    return response


def status_set_later(cls, environ):
    response = cls("created")
    response.status_code = 201
    return response


def status_line_set_later(cls, environ):
    response = cls("accepted")
    response.status = "202 Accepted For Now"
    return response


def data_set_later(cls, environ):
    response = cls("short")
    response.set_data("a longer body than before")
    return response


def data_property(cls, environ):
    response = cls(b"")
    response.data = "é"
    return response


def body_replaced(cls, environ):
    response = cls("old")
    response.response = [b"stale ", "length"]  # Werkzeug keeps the old Content-Length
    return response


def generator_body(cls, environ):
    response = cls("old")
    response.response = (chunk for chunk in [b"a", b"b"])
    return response


def mimetype_set_later(cls, environ):
    response = cls('{"a": 1}')
    response.mimetype = "application/json"
    return response


def conditional(cls, environ):
    response = cls("cached body")
    response.add_etag()
    response.last_modified = datetime(2024, 1, 1, tzinfo=timezone.utc)
    return response.make_conditional(environ)


def direct_passthrough(cls, environ):
    return cls([b"raw ", b"bytes"], direct_passthrough=True)


def no_content(cls, environ):
    response = cls("", 204)
    del response.headers["Content-Type"]  # wsgiref.validate refuses one on a 204
    return response


def headers_object(cls, environ):
    return cls("x", headers=Headers([("X-A", "1")]))


CASES = [
    pytest.param(lambda cls, environ: cls("Hello, World!", mimetype="text/plain"), id="text"),
    pytest.param(lambda cls, environ: cls(b"\x00\xff", content_type="application/octet-stream"),
                 id="bytes"),
    pytest.param(lambda cls, environ: cls("<p>é</p>"), id="default-mimetype"),
    pytest.param(lambda cls, environ: cls(), id="no-body"),
    pytest.param(lambda cls, environ: cls(""), id="empty-text"),
    pytest.param(lambda cls, environ: cls("gone", 410), id="status-int"),
    pytest.param(lambda cls, environ: cls("odd", 299), id="status-unknown-int"),
    pytest.param(lambda cls, environ: cls("tea", "418 I'M A TEAPOT"), id="status-str"),
    pytest.param(no_content, id="204"),
    pytest.param(lambda cls, environ: cls("", 304, {"ETag": '"a"'}), id="304"),
    pytest.param(lambda cls, environ: cls("x", headers={"X-A": "1", "X-B": "2"}), id="headers-dict"),
    pytest.param(lambda cls, environ: cls("x", headers=[("X-A", "1"), ("X-A", "2")]), id="headers-list"),
    pytest.param(lambda cls, environ: cls("x", headers={"Content-Type": "text/csv"}),
                 id="headers-content-type"),
    pytest.param(lambda cls, environ: cls("x", headers={"X-N": 3}), id="headers-int-value"),
    pytest.param(lambda cls, environ: cls("moved", 302, {"Location": "/caf\u00e9?q=1"}), id="location-iri"),
    pytest.param(lambda cls, environ: cls("x", mimetype="application/json"), id="mimetype-no-charset"),
    pytest.param(lambda cls, environ: cls(["a", b"b"]), id="list-body"),
    pytest.param(lambda cls, environ: cls(iter([b"a", b"b"])), id="iterator-body"),
    pytest.param(with_headers, id="header-set-later"),
    pytest.param(with_cookie, id="cookies"),
    pytest.param(status_set_later, id="status-code-setter"),
    pytest.param(status_line_set_later, id="status-setter"),
    pytest.param(data_set_later, id="set-data"),
    pytest.param(data_property, id="data-property"),
    pytest.param(body_replaced, id="response-list-replaced"),
    pytest.param(generator_body, id="response-generator-replaced"),
    pytest.param(mimetype_set_later, id="mimetype-setter"),
    pytest.param(conditional, id="make-conditional"),
    pytest.param(direct_passthrough, id="direct-passthrough"),
    pytest.param(headers_object, id="headers-object"),
]

REQUESTS = [
    pytest.param({}, id="GET"),
    pytest.param({"method": "HEAD"}, id="HEAD"),
    pytest.param({"headers": {"If-None-Match": '"e8a5b3e3a6b5bd1dc6b2b6de8a6b9f25"'}}, id="If-None-Match"),
]


def answer(client, **request):
    response = client.open("/", buffered=True, **request)
    return response.status, response.headers.to_wsgi_list(), response.get_data()


@pytest.mark.parametrize("request_options", REQUESTS)
@pytest.mark.parametrize("build", CASES)
def test_same_answer_as_werkzeug(build, request_options):
    app = App(__name__)

    @app.route("/", methods=["GET"])
    def index(request):
        return build(Response, request.environ)

    def reference(environ, start_response):
        return build(Reference, environ)(environ, start_response)

    ours = answer(Client(validated(app)), **request_options)
    expected = answer(Client(validated(reference)), **request_options)
    assert ours == expected


@pytest.mark.parametrize("build", CASES)
def test_same_state_as_werkzeug(build, make_environ):
    ours, expected = build(Response, make_environ()), build(Reference, make_environ())
    assert (ours.status, ours.status_code) == (expected.status, expected.status_code)
    assert ours.headers == expected.headers
    assert (ours.mimetype, ours.content_type, ours.content_length) == (
        expected.mimetype, expected.content_type, expected.content_length)
    if not expected.direct_passthrough and not expected.is_streamed:
        assert ours.get_data() == expected.get_data()
        assert repr(ours) == repr(expected).replace("Reference", "Response")


def test_the_cheap_constructor_builds_no_headers_until_used():
    response = Response("Hello", mimetype="text/plain")
    assert "headers" not in vars(response)
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "headers" in vars(response)


def test_emit_sends_an_untouched_response_without_building_headers(make_environ):
    response = Response("Hello", mimetype="text/plain")
    seen = []
    body = emit(response, make_environ(), lambda status, headers, exc_info=None: seen.append(
        (status, headers)))
    assert list(body) == [b"Hello"]
    assert seen == [("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "5")])]
    assert "headers" not in vars(response)
    seen[0][1].append(("X-Layer", "1"))  # a layer appending to the list it was given
    assert response.headers.to_wsgi_list() == [
        ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "5")]


def test_a_response_sent_twice_answers_the_same(make_environ):
    response = Response("shared")
    app = App(__name__)
    app.add("/", lambda request: response)
    client = Client(validated(app))
    assert [client.get("/", buffered=True).get_data() for _ in range(2)] == [b"shared", b"shared"]


def test_close_callbacks_run_when_the_server_closes():
    closed = []
    app = App(__name__)

    @app.get("/")
    def index(request):
        response = Response("bye")
        response.call_on_close(lambda: closed.append(True))
        return response

    assert Client(validated(app)).get("/", buffered=True).get_data() == b"bye"
    gc.collect()
    assert closed == [True]


def test_header_value_with_a_newline_is_refused_as_werkzeug_does():
    with pytest.raises(ValueError, match="newline"):
        Response("x", headers={"X-A": "a\r\nInjected: 1"})


class Overriding(Response):
    def set_data(self, value):
        super().set_data(value.upper() if isinstance(value, str) else value)


def test_subclass_overriding_set_data_gets_werkzeugs_constructor():
    assert Response.cheap_init and not Overriding.cheap_init
    response = Overriding("shout")
    assert response.get_data() == b"SHOUT"
    assert "headers" in vars(response)


@pytest.mark.parametrize(("value", "status", "headers", "expected"), [
    pytest.param({"id": 1}, 200, None, (200, [], b'{"id":1}'), id="dict"),
    pytest.param([1, "é"], 201, None, (201, [], '[1,"é"]'.encode()), id="list-201"),
    pytest.param({"a": None}, 200, {"X-A": "1"}, (200, [("X-A", "1")], b'{"a":null}'), id="header"),
])
def test_json_response(value, status, headers, expected):
    response = json_response(value, status, headers)
    code, extra, body = expected
    assert response.status_code == code
    assert response.headers.to_wsgi_list() == [
        *extra, ("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    assert response.get_data() == body
    assert response.json == value


def test_json_response_through_an_app():
    app = App(__name__)

    @app.get("/")
    def index(request):
        response = json_response({"ok": True})
        response.set_cookie("seen", "1")
        return response

    response = Client(validated(app)).get("/", buffered=True)
    assert response.json == {"ok": True}
    assert response.headers["Set-Cookie"] == "seen=1; Path=/"
