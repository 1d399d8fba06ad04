"""middleware/toolkit.py: every public name, tested directly from the toolkit.

Pure helpers first, then layers built on them, every app wrapped in ``validated`` so a
broken WSGI contract (a missing ``close()``, a read after close, bad headers) fails.
"""

from __future__ import annotations

import sys
from contextlib import nullcontext
from functools import partial
from wsgiref.util import setup_testing_defaults

import pytest
from webtest import TestApp
from werkzeug.datastructures import Headers, WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from framework.testing import validated
from middleware import toolkit
from middleware.toolkit import (
    ClosingIterator,
    ETagPolicy,
    PathScope,
    PrefixMap,
    ResponseRewriter,
    Rewrite,
    accepted_codings,
    add_vary,
    close_iterable,
    error_app,
    fix_rewritten_headers,
    headers_of,
    is_preflight,
    path_matches,
    rewrite_start_response,
    vary_covers,
    wants_json,
)

# -- helpers ---------------------------------------------------------------------------------


class Tracked:
    """An inner response body that counts how many chunks were read and ``close()`` calls."""

    def __init__(self, chunks, log=None):
        self.chunks = list(chunks)
        self.read = 0
        self.closes = 0
        self.log = log if log is not None else []

    def __iter__(self):
        for chunk in self.chunks:
            self.read += 1
            self.log.append(f"read {chunk.decode()}")
            yield chunk

    def close(self):
        self.closes += 1
        self.log.append("inner closed")


class Recorder:
    """A server's ``start_response``: records every call and what ``write()`` got."""

    def __init__(self):
        self.calls = []
        self.written = []

    def __call__(self, status, headers, exc_info=None):
        self.calls.append((status, headers, exc_info))
        return self.written.append

    @property
    def status(self):
        return self.calls[-1][0]

    @property
    def headers(self):
        return Headers(self.calls[-1][1])


def make_environ(path="/", method="GET", **extra):
    environ = {"REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": ""}
    environ.update(extra)
    setup_testing_defaults(environ)
    return environ


def body_app(body, status="200 OK", headers=(("Content-Type", "text/plain"),)):
    """An app answering *body* (a ``Tracked``), so the test can see reads and closes."""

    def app(environ, start_response):
        start_response(status, list(headers))
        return body

    return app


class Upper(ResponseRewriter):
    """Upper-cases text/plain bodies (adding ``!`` so the length changes); records offers."""

    def __init__(self, app, *, mode=Rewrite.BUFFER, etag=ETagPolicy.WEAKEN):
        super().__init__(app, etag=etag)
        self.mode = mode
        self.offered = []

    def wants(self, environ, status, headers):
        self.offered.append(status)
        return self.mode if headers.get("Content-Type", "").startswith("text/plain") else False

    def rewrite(self, environ, status, headers, body):
        return status, body.upper() + b"!"

    def rewrite_stream(self, environ, status, headers, chunks):
        for chunk in chunks:
            yield chunk.upper()


# -- path_matches, PrefixMap, PathScope -------------------------------------------------------
# path_matches and PrefixMap are framework.mounting's, exported for layers' rules by prefix
# (their full tables are in tests/framework/test_mounting.py); here, what a layer relies on.

RULES = {"/admin": "staff", "/admin/billing": "finance", "/api/": "api"}


@pytest.mark.parametrize(
    ("path", "admin_matches", "found"),
    [
        pytest.param("/admin/", True, ("/admin", "staff"), id="exact-slash"),
        pytest.param("/admin/billing/2024", True, ("/admin/billing", "finance"), id="longest-wins"),
        pytest.param("/administrator", False, None, id="segment-boundary-only"),
        pytest.param("/api", False, ("/api", "api"), id="prefix-given-with-slash"),
    ],
)
def test_path_matches_and_prefix_map_from_the_toolkit(path, admin_matches, found):
    assert path_matches("/admin", path) is admin_matches
    assert PrefixMap(RULES).find(path) == found
    with pytest.raises(ValueError, match="start with '/'"):
        PrefixMap({"admin": 1})


SCOPE = {"protect": ["/admin", "/api/"], "exempt": ["/admin/login", "/api/public/docs"]}


@pytest.mark.parametrize(
    ("options", "path", "covered"),
    [
        pytest.param({}, "/", True, id="default-covers-root"),
        pytest.param({}, "/anything/at/all", True, id="default-covers-everything"),
        pytest.param({"exempt": ["/health"]}, "/health", False, id="default-minus-exempt"),
        pytest.param({"exempt": ["/health"]}, "/health/live", False, id="default-minus-exempt-below"),
        pytest.param({"exempt": ["/health"]}, "/healthz", True, id="exempt-at-boundary-only"),
        pytest.param(SCOPE, "/admin", True, id="protected-exact"),
        pytest.param(SCOPE, "/admin/", True, id="protected-exact-slash"),
        pytest.param(SCOPE, "/admin/users", True, id="protected-below"),
        pytest.param(SCOPE, "/administrator", False, id="protected-at-boundary-only"),
        pytest.param(SCOPE, "/", False, id="root-not-protected"),
        pytest.param(SCOPE, "/blog", False, id="elsewhere-not-protected"),
        pytest.param(SCOPE, "/api/v1", True, id="prefix-given-with-slash"),
        pytest.param(SCOPE, "/admin/login", False, id="exempt-inside-protected"),
        pytest.param(SCOPE, "/admin/login/reset", False, id="exempt-below"),
        pytest.param(SCOPE, "/admin/loginx", True, id="exempt-at-boundary-only-inside"),
        pytest.param({"protect": ["/docs/private"], "exempt": ["/docs"]}, "/docs/private/x", True,
                     id="protected-inside-exempt-longest-wins"),
        pytest.param({"protect": ["/docs/private"], "exempt": ["/docs"]}, "/docs/public", False,
                     id="exempt-around-protected"),
        pytest.param({"protect": []}, "/admin", False, id="empty-protect-covers-nothing"),
        pytest.param({"protect": ("/a", "/b")}, "/b/c", True, id="tuple"),
        pytest.param({"protect": (p for p in ["/a"])}, "/a", True, id="generator"),
    ],
)
def test_path_scope_covers(options, path, covered):
    assert PathScope(**options).covers(path) is covered


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        pytest.param({"protect": "/admin"}, TypeError, r"protect must be a list of path prefixes",
                     id="protect-string"),
        pytest.param({"exempt": "/health"}, TypeError, r"exempt must be a list of path prefixes",
                     id="exempt-string"),
        pytest.param({"protect": 7}, TypeError, r"protect must be a list", id="protect-not-iterable"),
        pytest.param({"protect": ["admin"]}, ValueError, r"Each protect prefix must start with '/'",
                     id="protect-without-slash"),
        pytest.param({"exempt": [b"/x"]}, ValueError, r"Each exempt prefix must start with '/'",
                     id="exempt-bytes"),
        pytest.param({"protect": ["/admin"], "exempt": ["/admin/"]}, ValueError,
                     r"'/admin/' is both protected and exempt", id="in-both-lists"),
        pytest.param({"exempt": ["/"]}, ValueError, r"'/' is both protected and exempt",
                     id="root-exempt-from-everything"),
    ],
)
def test_path_scope_refuses_bad_prefixes(options, error, message):
    with pytest.raises(error, match=message):
        PathScope(**options)


def test_path_scope_repr_shows_its_lists():
    scope = PathScope(protect=["/admin"], exempt=["/admin/login"])
    assert repr(scope) == "PathScope(protect=('/admin',), exempt=('/admin/login',))"


# -- fix_rewritten_headers -------------------------------------------------------------------


WEAKEN, DROP = ETagPolicy.WEAKEN, ETagPolicy.DROP


@pytest.mark.parametrize(
    ("before", "length", "etag", "after"),
    [
        pytest.param([("Content-Length", "5")], 11, WEAKEN, [("Content-Length", "11")],
                     id="content-length-recomputed"),
        pytest.param([("content-length", "5")], 0, WEAKEN, [("Content-Length", "0")],
                     id="content-length-any-case"),
        pytest.param([("Content-Length", "5")], None, WEAKEN, [], id="unknown-length-dropped"),
        pytest.param([("ETag", '"abc"')], None, WEAKEN, [("ETag", 'W/"abc"')], id="strong-etag-weakened"),
        pytest.param([("ETag", '"abc"')], None, DROP, [], id="strong-etag-dropped"),
        pytest.param([("ETag", 'W/"abc"')], None, WEAKEN, [("ETag", 'W/"abc"')], id="weak-etag-stays"),
        pytest.param([("ETag", 'W/"abc"')], None, DROP, [], id="weak-etag-dropped"),
        pytest.param([("Accept-Ranges", "bytes")], None, WEAKEN, [], id="accept-ranges-removed"),
        pytest.param([("Content-Range", "bytes 0-4/10")], None, WEAKEN, [], id="content-range-removed"),
        pytest.param([("Content-MD5", "Q2hlY2sgSW50ZWdyaXR5IQ==")], None, WEAKEN, [],
                     id="content-md5-removed"),
        pytest.param([("Digest", "sha-256=abc=")], None, WEAKEN, [], id="digest-removed"),
        pytest.param([("Content-Digest", "sha-256=:abc=:"), ("Repr-Digest", "sha-256=:abc=:")], None,
                     WEAKEN, [], id="rfc9530-digests-removed"),
        pytest.param([("Content-Type", "text/plain"), ("Cache-Control", "no-cache"), ("Vary", "Accept")],
                     3, WEAKEN,
                     [("Content-Type", "text/plain"), ("Cache-Control", "no-cache"), ("Vary", "Accept"),
                      ("Content-Length", "3")], id="others-kept"),
    ],
)
def test_fix_rewritten_headers(before, length, etag, after):
    headers = Headers(before)
    fix_rewritten_headers(headers, length, etag)
    assert sorted(headers.to_wsgi_list()) == sorted(after)


def test_fix_rewritten_headers_weakens_by_default():
    headers = Headers([("ETag", '"abc"')])
    fix_rewritten_headers(headers, None)
    assert headers.to_wsgi_list() == [("ETag", 'W/"abc"')]


# -- headers_of and close_iterable -----------------------------------------------------------


def test_headers_of_is_a_case_insensitive_view_of_a_copy():
    pairs = [("Content-Type", "text/plain"), ("Set-Cookie", "a=1"), ("set-cookie", "b=2")]
    headers = headers_of(pairs)
    assert headers["content-type"] == "text/plain"
    assert headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    headers["X-Added"] = "1"
    del headers["Content-Type"]
    assert pairs == [("Content-Type", "text/plain"), ("Set-Cookie", "a=1"), ("set-cookie", "b=2")]
    assert headers.to_wsgi_list() == [("Set-Cookie", "a=1"), ("set-cookie", "b=2"), ("X-Added", "1")]


@pytest.mark.parametrize(
    ("iterable", "closes"),
    [
        pytest.param(Tracked([b"a"]), 1, id="with-close"),
        pytest.param([b"a"], 0, id="list-without-close"),
        pytest.param(iter([b"a"]), 0, id="iterator-without-close"),
    ],
)
def test_close_iterable_calls_close_when_there_is_one(iterable, closes):
    close_iterable(iterable)
    assert getattr(iterable, "closes", 0) == closes


# -- ClosingIterator -------------------------------------------------------------------------


def test_closing_iterator_closes_the_inner_iterable_exactly_once():
    inner = Tracked([b"a", b"b"])
    calls = []
    iterator = ClosingIterator(inner, lambda: calls.append("callback"))
    assert list(iterator) == [b"a", b"b"]
    iterator.close()
    iterator.close()
    assert inner.closes == 1
    assert calls == ["callback"]


def test_closing_iterator_runs_callbacks_after_the_inner_close_even_if_it_raises():
    log = []

    class Failing(Tracked):
        def close(self):
            log.append("inner")
            raise RuntimeError("inner close failed")

    iterator = ClosingIterator(Failing([b"a"]), lambda: log.append("first"), lambda: log.append("second"))
    with pytest.raises(RuntimeError, match="inner close failed"):
        iterator.close()
    assert log == ["inner", "first", "second"]
    iterator.close()  # already closed: nothing runs again
    assert log == ["inner", "first", "second"]


@pytest.mark.parametrize(
    ("first", "rest", "expected"),
    [
        pytest.param([b"a", b"b"], [b"c"], [b"a", b"b", b"c"], id="first-then-rest"),
        pytest.param([b"a"], [], [b"a"], id="only-first"),
        pytest.param([], [b"c"], [b"c"], id="no-first"),
    ],
)
def test_closing_iterator_sends_first_chunks_first(first, rest, expected):
    inner = Tracked(rest)
    iterator = ClosingIterator(inner, first=first)
    assert list(iterator) == expected
    iterator.close()
    assert inner.closes == 1


def test_closing_iterator_around_an_iterable_without_close():
    calls = []
    iterator = ClosingIterator([b"a"], lambda: calls.append("callback"))
    assert list(iterator) == [b"a"]
    iterator.close()
    assert calls == ["callback"]


# -- rewrite_start_response ------------------------------------------------------------------


class Tag:
    """A layer that rewrites status and headers on the way out with ``rewrite_start_response``."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        def rewrite(status, headers):
            return status, [*headers, ("X-Tag", status.split()[0])]

        return self.app(environ, rewrite_start_response(start_response, rewrite))


def failing_app(environ, start_response):
    """Starts a 200, fails before any body, and sends an error response with ``exc_info``."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    try:
        raise ValueError("boom")
    except ValueError:
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
    return [b"error page"]


def test_rewrite_start_response_rewrites_status_and_headers():
    client = TestApp(validated(Tag(body_app([b"hello"]))))
    response = client.get("/")
    assert response.headers["X-Tag"] == "200"
    assert response.body == b"hello"


def test_rewrite_start_response_forwards_exc_info_through_webtest():
    client = TestApp(validated(Tag(failing_app)))
    response = client.get("/", status=500)
    assert response.body == b"error page"
    assert response.headers["X-Tag"] == "500"


def test_rewrite_start_response_forwards_exc_info_to_the_server():
    recorder = Recorder()
    iterable = validated(Tag(failing_app))(make_environ(), recorder)
    try:
        assert b"".join(iterable) == b"error page"
    finally:
        iterable.close()
    assert [call[0] for call in recorder.calls] == ["200 OK", "500 Internal Server Error"]
    assert recorder.calls[0][2] is None
    assert recorder.calls[1][2][0] is ValueError
    assert ("X-Tag", "500") in recorder.calls[1][1]


# -- ResponseRewriter ------------------------------------------------------------------------

PLAIN = [("Content-Type", "text/plain"), ("Content-Length", "11"), ("ETag", '"v1"'),
         ("Accept-Ranges", "bytes"), ("Content-MD5", "XrY7u+Ae7tCTyyK7j1rNww==")]
BINARY = [("Content-Type", "application/octet-stream"), ("Content-Length", "11"), ("ETag", '"v1"'),
          ("Accept-Ranges", "bytes")]
# for generator bodies, whose length is not known up front
PLAIN_STREAM = [("Content-Type", "text/plain"), ("ETag", '"v1"')]
BINARY_STREAM = [("Content-Type", "application/octet-stream"), ("ETag", '"v1"')]


@pytest.mark.parametrize(
    ("headers", "etag", "body", "expected"),
    [
        pytest.param(PLAIN, WEAKEN, b"HELLO WORLD!",
                     {"Content-Length": "12", "ETag": 'W/"v1"', "Accept-Ranges": None, "Content-MD5": None},
                     id="rewritten-headers-fixed"),
        pytest.param(PLAIN, DROP, b"HELLO WORLD!", {"Content-Length": "12", "ETag": None},
                     id="rewritten-etag-dropped"),
        pytest.param(BINARY, WEAKEN, b"hello world",
                     {"Content-Length": "11", "ETag": '"v1"', "Accept-Ranges": "bytes"},
                     id="not-wanted-untouched"),
    ],
)
def test_rewriter_buffer_mode(headers, etag, body, expected):
    inner = Tracked([b"hello ", b"world"])
    response = TestApp(validated(Upper(body_app(inner, headers=headers), etag=etag))).get("/")
    assert response.body == body
    assert {name: response.headers.get(name) for name in expected} == expected
    assert inner.closes == 1


def generator_app(log, headers, lazy=False):
    """An app with a generator body; with *lazy*, ``start_response`` runs at the first chunk."""

    def app(environ, start_response):
        def body():
            if lazy:
                start_response("200 OK", list(headers))
            try:
                for index in range(3):
                    log.append(f"yield {index}")
                    yield b"chunk%d " % index
            finally:
                log.append("generator closed")

        if not lazy:
            start_response("200 OK", list(headers))
        return body()

    return app


@pytest.mark.parametrize(
    ("mode", "headers", "first"),
    [
        pytest.param(Rewrite.BUFFER, BINARY_STREAM, b"chunk0 ", id="not-wanted"),
        pytest.param(Rewrite.STREAM, PLAIN_STREAM, b"CHUNK0 ", id="stream"),
    ],
)
@pytest.mark.parametrize("lazy", [pytest.param(False, id="eager"), pytest.param(True, id="lazy")])
def test_rewriter_streams_unless_it_buffers(mode, headers, first, lazy):
    log = []
    layer = validated(Upper(generator_app(log, headers, lazy=lazy), mode=mode))
    recorder = Recorder()
    iterable = layer(make_environ(), recorder)
    try:
        assert next(iter(iterable)) == first
        assert log == ["yield 0"]  # the generator is not exhausted: nothing was buffered
    finally:
        iterable.close()
    assert log == ["yield 0", "generator closed"]
    assert "Content-Length" not in recorder.headers
    assert recorder.headers["ETag"] == ('W/"v1"' if mode is Rewrite.STREAM else '"v1"')


@pytest.mark.parametrize(
    ("mode", "headers", "read_all"),
    [
        pytest.param(Rewrite.BUFFER, BINARY, True, id="not-wanted-read-all"),
        pytest.param(Rewrite.BUFFER, BINARY, False, id="not-wanted-stopped-early"),
        pytest.param(Rewrite.BUFFER, PLAIN, True, id="buffer-read-all"),
        pytest.param(Rewrite.BUFFER, PLAIN, False, id="buffer-stopped-early"),
        pytest.param(Rewrite.STREAM, PLAIN, True, id="stream-read-all"),
        pytest.param(Rewrite.STREAM, PLAIN, False, id="stream-stopped-early"),
    ],
)
def test_rewriter_closes_the_inner_iterable_exactly_once(mode, headers, read_all):
    inner = Tracked([b"a", b"b", b"c"])
    layer = validated(Upper(body_app(inner, headers=headers), mode=mode))
    iterable = layer(make_environ(), Recorder())
    try:
        if read_all:
            assert len(list(iterable)) in (1, 3)
        else:
            next(iter(iterable))
    finally:
        iterable.close()
    assert inner.closes == 1


@pytest.mark.parametrize(
    ("mode", "headers", "expected"),
    [
        pytest.param(Rewrite.BUFFER, BINARY_STREAM, b"chunk0 chunk1 chunk2 ", id="not-wanted"),
        pytest.param(Rewrite.BUFFER, PLAIN_STREAM, b"CHUNK0 CHUNK1 CHUNK2 !", id="buffer"),
        pytest.param(Rewrite.STREAM, PLAIN_STREAM, b"CHUNK0 CHUNK1 CHUNK2 ", id="stream"),
    ],
)
def test_rewriter_handles_a_lazy_start_response(mode, headers, expected):
    log = []
    client = TestApp(validated(Upper(generator_app(log, headers, lazy=True), mode=mode)))
    response = client.get("/")
    assert response.body == expected
    assert log[-1] == "generator closed"
    assert log.count("generator closed") == 1


def writer_app(headers):
    """A legacy app: ``write()`` for the start of the body, the rest returned."""

    def app(environ, start_response):
        write = start_response("200 OK", list(headers))
        write(b"hello ")
        write(b"big ")
        return [b"world"]

    return app


@pytest.mark.parametrize(
    ("mode", "headers", "expected"),
    [
        pytest.param(Rewrite.BUFFER, [("Content-Type", "application/octet-stream")], b"hello big world",
                     id="not-wanted"),
        pytest.param(Rewrite.BUFFER, [("Content-Type", "text/plain")], b"HELLO BIG WORLD!", id="buffer"),
        pytest.param(Rewrite.STREAM, [("Content-Type", "text/plain")], b"HELLO BIG WORLD", id="stream"),
    ],
)
def test_rewriter_handles_the_legacy_write_callable(mode, headers, expected):
    client = TestApp(validated(Upper(writer_app(headers), mode=mode)))
    assert client.get("/").body == expected


@pytest.mark.parametrize("mode", list(Rewrite), ids=lambda mode: mode.value)
def test_rewriter_head_fixes_headers_and_sends_no_body(mode):
    inner = Tracked([b"hello world"])
    layer = Upper(body_app(inner, headers=PLAIN), mode=mode)
    response = TestApp(validated(layer)).head("/")
    assert response.body == b""
    assert response.headers["ETag"] == 'W/"v1"'
    assert response.headers.get("Content-Length") != "11"  # the old length is no longer true
    assert "Accept-Ranges" not in response.headers
    assert "Content-MD5" not in response.headers
    assert inner.closes == 1


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        pytest.param("204 No Content", [], [], id="204"),
        pytest.param("304 Not Modified", [("ETag", '"v1"')], [], id="304"),
        pytest.param("206 Partial Content",
                     [("Content-Type", "text/plain"), ("Content-Range", "bytes 0-4/11"),
                      ("Content-Length", "5")], [b"hello"], id="206"),
    ],
)
@pytest.mark.parametrize("mode", list(Rewrite), ids=lambda mode: mode.value)
def test_rewriter_never_offers_bodiless_or_partial_responses(status, headers, body, mode):
    inner = Tracked(body)
    layer = Upper(body_app(inner, status=status, headers=headers), mode=mode)
    response = TestApp(validated(layer)).get("/", status=int(status[:3]))
    assert layer.offered == []
    assert response.body == b"".join(body)
    for name, value in headers:
        assert response.headers[name] == value
    assert inner.closes == 1


def test_rewriter_stream_mode_sends_chunks_as_they_come():
    log = []
    layer = validated(Upper(generator_app(log, PLAIN), mode=Rewrite.STREAM))  # Content-Length: 11 (wrong)
    recorder = Recorder()
    iterable = layer(make_environ(), recorder)
    chunks = iter(iterable)
    try:
        assert "Content-Length" not in recorder.headers
        assert next(chunks) == b"CHUNK0 "
        assert log == ["yield 0"]
        assert next(chunks) == b"CHUNK1 "
        assert log == ["yield 0", "yield 1"]
        assert list(chunks) == [b"CHUNK2 "]
    finally:
        iterable.close()
    assert log[-1] == "generator closed"


@pytest.mark.parametrize(
    ("mode", "headers"),
    [
        pytest.param(Rewrite.BUFFER, [("Content-Type", "application/octet-stream")], id="not-wanted"),
        pytest.param(Rewrite.BUFFER, [("Content-Type", "text/plain")], id="buffer"),
        pytest.param(Rewrite.STREAM, [("Content-Type", "text/plain")], id="stream"),
    ],
)
def test_rewriter_forwards_exc_info(mode, headers):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html")])
        try:
            raise ValueError("boom")
        except ValueError:
            start_response("500 Internal Server Error", list(headers), sys.exc_info())
        return [b"error page"]

    recorder = Recorder()
    iterable = validated(Upper(app, mode=mode))(make_environ(), recorder)
    try:
        body = b"".join(iterable)
    finally:
        iterable.close()
    assert recorder.status == "500 Internal Server Error"
    assert recorder.calls[-1][2] is not None and recorder.calls[-1][2][0] is ValueError
    assert body.lower().startswith(b"error page")


def fails_while_streaming(content_type):
    """Sends a first chunk, then fails and calls ``start_response`` again with ``exc_info``."""

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", content_type)])

        def body():
            yield b"partial "
            try:
                raise ValueError("boom")
            except ValueError:
                start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
            yield b"error page"

        return body()

    return app


@pytest.mark.parametrize(
    ("make_layer", "content_type"),
    [
        pytest.param(Tag, "text/plain", id="rewrite_start_response"),
        pytest.param(Upper, "application/octet-stream", id="rewriter-not-wanted"),
        pytest.param(partial(Upper, mode=Rewrite.STREAM), "text/plain", id="rewriter-stream"),
        pytest.param(Upper, "text/plain", id="rewriter-buffer"),
    ],
)
def test_exc_info_after_the_first_chunk_reaches_the_server(make_layer, content_type):
    # PEP 3333: a start_response call with exc_info once the headers are out must reach the
    # server, which re-raises it (and aborts the response) rather than append to a "200 OK".
    recorder = Recorder()
    iterable = validated(make_layer(fails_while_streaming(content_type)))(make_environ(), recorder)
    try:
        list(iterable)
    finally:
        iterable.close()
    assert recorder.status == "500 Internal Server Error"
    assert recorder.calls[-1][2] is not None and recorder.calls[-1][2][0] is ValueError


class Broken(Upper):
    """A rewriter whose every hook fails, to check the inner body is closed all the same."""

    def __init__(self, app, *, mode=Rewrite.BUFFER, failing="wants"):
        super().__init__(app, mode=mode)
        self.failing = failing

    def wants(self, environ, status, headers):
        if self.failing == "wants":
            raise RuntimeError("wants failed")
        return super().wants(environ, status, headers)

    def rewrite(self, environ, status, headers, body):
        raise RuntimeError("rewrite failed")

    def rewrite_stream(self, environ, status, headers, chunks):
        raise RuntimeError("rewrite_stream failed")  # a plain function: fails when called


@pytest.mark.parametrize(
    ("mode", "failing"),
    [
        pytest.param(Rewrite.BUFFER, "wants", id="wants"),
        pytest.param(Rewrite.BUFFER, "rewrite", id="rewrite"),
        pytest.param(Rewrite.STREAM, "rewrite_stream", id="rewrite_stream"),
    ],
)
def test_rewriter_closes_the_inner_iterable_when_a_hook_fails(mode, failing):
    inner = Tracked([b"a", b"b"])
    layer = validated(Broken(body_app(inner), mode=mode, failing=failing))
    with pytest.raises(RuntimeError, match=f"{failing} failed"):
        layer(make_environ(), Recorder())
    assert inner.closes == 1


class Says(ResponseRewriter):
    """A rewriter whose ``wants()`` returns whatever it was given (good or a mistake)."""

    def __init__(self, app, *, answer):
        super().__init__(app)
        self.answer = answer

    def wants(self, environ, status, headers):
        return self.answer


@pytest.mark.parametrize(
    ("value", "as_etag", "as_wants"),
    [
        pytest.param("weaken", TypeError, TypeError, id="string-weaken"),
        pytest.param("drop", TypeError, TypeError, id="string-drop"),
        pytest.param("buffer", TypeError, TypeError, id="string-buffer"),
        pytest.param("stream", TypeError, TypeError, id="string-stream"),
        pytest.param("bufer", TypeError, TypeError, id="typo"),
        pytest.param(True, TypeError, TypeError, id="true"),
        pytest.param(1, TypeError, TypeError, id="one"),
        pytest.param(None, TypeError, None, id="none"),
        pytest.param(ETagPolicy.DROP, None, TypeError, id="an-etag-policy"),
        pytest.param(Rewrite.BUFFER, TypeError, None, id="a-rewrite"),
    ],
)
def test_only_the_enums_are_accepted(value, as_etag, as_wants):
    """``etag=`` takes an ETagPolicy, ``wants()`` returns a Rewrite or None; nothing is guessed."""
    etag_message = r"ETagPolicy\.WEAKEN or ETagPolicy\.DROP"
    wants_message = r"Says\.wants\(\) returned .*; return Rewrite\.BUFFER, Rewrite\.STREAM, or None"
    headers = Headers([("ETag", '"abc"')])
    with pytest.raises(as_etag, match=etag_message) if as_etag else nullcontext():
        fix_rewritten_headers(headers, None, value)
    with pytest.raises(as_etag, match=f"Upper's etag must be {etag_message}") if as_etag else nullcontext():
        Upper(body_app([b""]), etag=value)
    inner = Tracked([b"hello"])
    layer = validated(Says(body_app(inner), answer=value))
    with pytest.raises(as_wants, match=wants_message) if as_wants else nullcontext():
        close_iterable(layer(make_environ(), Recorder()))
    assert inner.closes == 1


@pytest.mark.parametrize(
    ("answer", "etag"),
    [
        pytest.param(None, '"v1"', id="none-passes-through"),
        pytest.param(False, '"v1"', id="false-passes-through"),
        pytest.param(Rewrite.BUFFER, 'W/"v1"', id="buffer-with-the-default-rewrite"),
        pytest.param(Rewrite.STREAM, 'W/"v1"', id="stream-with-the-default-rewrite_stream"),
    ],
)
def test_wants_answers_that_are_accepted(answer, etag):
    inner = Tracked([b"hello ", b"world"])
    response = TestApp(validated(Says(body_app(inner, headers=PLAIN), answer=answer))).get("/")
    assert response.body == b"hello world"
    assert response.headers["ETag"] == etag
    assert inner.closes == 1


def test_the_base_rewriter_alone_passes_everything_through():
    inner = Tracked([b"hello ", b"world"])
    response = TestApp(validated(ResponseRewriter(body_app(inner, headers=PLAIN)))).get("/")
    assert response.body == b"hello world"
    assert response.headers["ETag"] == '"v1"' and response.headers["Content-Length"] == "11"
    assert inner.closes == 1


def test_rewrite_and_etag_policy_are_closed_sets():
    assert [mode.name for mode in Rewrite] == ["BUFFER", "STREAM"]
    assert [policy.name for policy in ETagPolicy] == ["WEAKEN", "DROP"]
    assert Rewrite.BUFFER != "buffer" and ETagPolicy.DROP != "drop"  # no string stands in for one


# -- error_app and wants_json ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        pytest.param(None, False, id="no-header"),
        pytest.param("*/*", False, id="anything"),
        pytest.param("application/json", True, id="json"),
        pytest.param("text/html,application/json;q=0.9", False, id="html-preferred"),
        pytest.param("text/html;q=0.5,application/json", True, id="json-preferred"),
        pytest.param("text/html,application/json", False, id="tie-is-html"),
    ],
)
def test_wants_json_reads_the_accept_header(accept, expected):
    assert wants_json(accept) is expected


@pytest.mark.parametrize(
    ("accept", "content_type", "fragment"),
    [
        pytest.param("application/json", "application/json",
                     b'{"error": {"status": 401, "message": "Sign in first."}}', id="json"),
        pytest.param("text/html", "text/html; charset=utf-8", b"Sign in first.", id="html"),
    ],
)
def test_error_app_answers_an_http_error_from_a_layer(accept, content_type, fragment):
    class Guard:
        def __init__(self, app):
            self.app = app

        def __call__(self, environ, start_response):
            challenge = WWWAuthenticate("basic", {"realm": "x"})
            error = Unauthorized("Sign in first.", www_authenticate=challenge)
            return error_app(error)(environ, start_response)

    response = TestApp(validated(Guard(body_app([b"secret"])))).get("/", headers={"Accept": accept},
                                                                     status=401)
    assert response.headers["Content-Type"] == content_type
    assert response.headers["WWW-Authenticate"] == "Basic realm=x"  # the exception's own header
    assert fragment in response.body and b"secret" not in response.body


# -- the public surface ----------------------------------------------------------------------


def test_every_public_name_of_the_toolkit_is_imported_and_tested_here():
    with open(__file__, encoding="utf-8") as source:
        text = source.read()
    imported = text[text.index("from middleware.toolkit import ("):text.index(")", text.index("import ("))]
    assert sorted(toolkit.__all__) == sorted(name.strip(" ,") for name in imported.splitlines()[1:])
    for name in toolkit.__all__:
        assert getattr(toolkit, name).__doc__, f"{name} has no docstring"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({"REQUEST_METHOD": "OPTIONS", "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST"}, True,
                     id="preflight"),
        pytest.param({"REQUEST_METHOD": "OPTIONS"}, False, id="plain-options"),
        pytest.param({"REQUEST_METHOD": "GET", "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST"}, False,
                     id="header-on-get"),
        pytest.param({}, False, id="no-method"),
    ],
)
def test_is_preflight(environ, expected):
    assert is_preflight(environ) is expected


# -- Vary ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "covered"),
    [
        pytest.param([], "Accept-Encoding", False, id="no-vary"),
        pytest.param(["Origin, accept-encoding"], "Accept-Encoding", True, id="any-case-in-a-list"),
        pytest.param(["Origin", "Accept"], "Accept-Encoding", False, id="a-longer-name-is-not-a-prefix"),
        pytest.param(["*"], "Origin", True, id="star-covers-everything"),
        pytest.param([" Origin ,  Accept "], "accept", True, id="spaces"),
    ],
)
def test_vary_covers(values, field, covered):
    assert vary_covers(values, field) is covered


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param([("Content-Type", "text/plain")],
                     [("Content-Type", "text/plain"), ("Vary", "Accept-Encoding")], id="added"),
        pytest.param([("Vary", "Origin"), ("X", "1"), ("vary", "Accept")],
                     [("X", "1"), ("Vary", "Origin, Accept, Accept-Encoding")], id="merged-into-one-field"),
        pytest.param([("Vary", "accept-encoding")], [("Vary", "accept-encoding")], id="already-there"),
        pytest.param([("Vary", "*")], [("Vary", "*")], id="star-kept"),
    ],
)
def test_add_vary(headers, expected):
    assert add_vary(headers, "Accept-Encoding") == expected


def test_add_vary_returns_the_same_list_when_nothing_changes():
    headers = [("Vary", "Accept-Encoding")]
    assert add_vary(headers, "accept-encoding") is headers


def test_fix_rewritten_headers_writes_the_headers_in_place():
    headers = Headers([("ETag", '"x"'), ("Content-Length", "10"), ("Accept-Ranges", "bytes"), ("X", "1")])
    fix_rewritten_headers(headers, 4)
    assert headers.to_wsgi_list() == [("ETag", 'W/"x"'), ("X", "1"), ("Content-Length", "4")]


# -- Accept-Encoding -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "offered", "expected"),
    [
        pytest.param("gzip, deflate, br", ("br", "gzip"), ("br", "gzip"), id="offer-order-at-equal-q"),
        pytest.param("gzip, deflate, br", ("gzip", "br"), ("gzip", "br"), id="other-offer-order"),
        pytest.param("gzip;q=1, br;q=0.5", ("br", "gzip"), ("gzip", "br"), id="q-values-first"),
        pytest.param("br;q=0, *", ("br", "gzip"), ("gzip",), id="named-refusal-beats-star"),
        pytest.param("*;q=0", ("br", "gzip"), (), id="star-q0"),
        pytest.param("identity;q=1, gzip;q=0.5", ("gzip",), (), id="identity-preferred"),
        pytest.param("identity, gzip", ("gzip",), ("gzip",), id="identity-tie-keeps-the-coding"),
        pytest.param("X-GZIP", ("gzip",), ("gzip",), id="x-gzip-any-case"),
        pytest.param("gzip;q=abc, br", ("br", "gzip"), ("br",), id="malformed-q-ignores-the-item"),
        pytest.param("gzip;q=2", ("gzip",), (), id="q-out-of-range-ignored"),
        pytest.param("", ("br", "gzip"), (), id="empty"),
    ],
)
def test_accepted_codings(header, offered, expected):
    assert accepted_codings(header, offered) == expected
