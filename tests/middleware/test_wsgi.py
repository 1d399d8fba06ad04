"""middleware/_wsgi.py: prefixes, header fixing, closing, start_response rewriting, ResponseRewriter.

Pure helpers first, then layers built on them, every app wrapped in ``validated`` so a
broken WSGI contract (a missing ``close()``, a read after close, bad headers) fails.
"""

from __future__ import annotations

import sys
from functools import partial
from wsgiref.util import setup_testing_defaults

import pytest
from webtest import TestApp
from werkzeug.datastructures import Headers

from framework.testing import validated
from middleware._wsgi import (
    ClosingIterator,
    PrefixMap,
    ResponseRewriter,
    fix_rewritten_headers,
    path_matches,
    rewrite_start_response,
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

    def __init__(self, app, *, mode="buffer"):
        super().__init__(app)
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


class DropUpper(Upper):
    etag = "drop"


# -- path_matches and PrefixMap --------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "path", "expected"),
    [
        pytest.param("/admin", "/admin", True, id="exact"),
        pytest.param("/admin", "/admin/", True, id="exact-slash"),
        pytest.param("/admin", "/admin/x", True, id="below"),
        pytest.param("/admin", "/admin/x/y", True, id="deep-below"),
        pytest.param("/admin", "/administrator", False, id="not-a-longer-segment"),
        pytest.param("/admin", "/adm", False, id="not-a-shorter-path"),
        pytest.param("/admin", "/", False, id="not-root"),
        pytest.param("/admin", "/x/admin", False, id="not-in-the-middle"),
        pytest.param("/admin/", "/admin/x", True, id="prefix-with-trailing-slash"),
        pytest.param("/admin/", "/admin", True, id="prefix-with-trailing-slash-exact"),
        pytest.param("/admin/", "/administrator", False, id="prefix-with-trailing-slash-not-longer"),
        pytest.param("/", "/", True, id="root-covers-root"),
        pytest.param("/", "/anything/at/all", True, id="root-covers-all"),
    ],
)
def test_path_matches_at_segment_boundaries(prefix, path, expected):
    assert path_matches(prefix, path) is expected


RULES = {"/admin": "staff", "/admin/billing": "finance", "/api/": "api"}


@pytest.mark.parametrize(
    ("items", "path", "expected"),
    [
        pytest.param(RULES, "/admin", ("/admin", "staff"), id="exact"),
        pytest.param(RULES, "/admin/", ("/admin", "staff"), id="exact-slash"),
        pytest.param(RULES, "/admin/users", ("/admin", "staff"), id="below"),
        pytest.param(RULES, "/administrator", None, id="not-a-longer-segment"),
        pytest.param(RULES, "/admin/billing/2024", ("/admin/billing", "finance"), id="longest-wins"),
        pytest.param(RULES, "/admin/billingx", ("/admin", "staff"), id="longest-at-boundary-only"),
        pytest.param(dict(reversed(RULES.items())), "/admin/billing/2024", ("/admin/billing", "finance"),
                     id="longest-wins-whatever-the-order"),
        pytest.param(RULES, "/api/v1", ("/api", "api"), id="prefix-given-with-slash"),
        pytest.param(RULES, "/api", ("/api", "api"), id="prefix-given-with-slash-exact"),
        pytest.param(RULES, "/", None, id="root-unmatched"),
        pytest.param(RULES, "", None, id="empty-unmatched"),
        pytest.param({"/": "root", "/admin": "staff"}, "/anything", ("", "root"), id="root-covers-all"),
        pytest.param({"/": "root", "/admin": "staff"}, "/", ("", "root"), id="root-covers-root"),
        pytest.param({"/": "root", "/admin": "staff"}, "/admin/x", ("/admin", "staff"),
                     id="root-loses-to-longer"),
        pytest.param({"/café": "menu"}, "/café/x".encode().decode("latin-1"),
                     ("/café".encode().decode("latin-1"), "menu"), id="non-ascii-as-wsgi-string"),
    ],
)
def test_prefix_map_finds_the_longest_prefix(items, path, expected):
    assert PrefixMap(items).find(path) == expected


@pytest.mark.parametrize("prefix", [pytest.param("admin", id="no-slash"), pytest.param("", id="empty")])
def test_prefix_map_refuses_a_prefix_without_slash(prefix):
    with pytest.raises(ValueError, match="start with '/'"):
        PrefixMap({prefix: 1})


# -- fix_rewritten_headers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "length", "etag", "after"),
    [
        pytest.param([("Content-Length", "5")], 11, "weaken", [("Content-Length", "11")],
                     id="content-length-recomputed"),
        pytest.param([("content-length", "5")], 0, "weaken", [("Content-Length", "0")],
                     id="content-length-any-case"),
        pytest.param([("Content-Length", "5")], None, "weaken", [], id="unknown-length-dropped"),
        pytest.param([("ETag", '"abc"')], None, "weaken", [("ETag", 'W/"abc"')], id="strong-etag-weakened"),
        pytest.param([("ETag", '"abc"')], None, "drop", [], id="strong-etag-dropped"),
        pytest.param([("ETag", 'W/"abc"')], None, "weaken", [("ETag", 'W/"abc"')], id="weak-etag-stays"),
        pytest.param([("Accept-Ranges", "bytes")], None, "weaken", [], id="accept-ranges-removed"),
        pytest.param([("Content-Range", "bytes 0-4/10")], None, "weaken", [], id="content-range-removed"),
        pytest.param([("Content-MD5", "Q2hlY2sgSW50ZWdyaXR5IQ==")], None, "weaken", [],
                     id="content-md5-removed"),
        pytest.param([("Digest", "sha-256=abc=")], None, "weaken", [], id="digest-removed"),
        pytest.param([("Content-Digest", "sha-256=:abc=:"), ("Repr-Digest", "sha-256=:abc=:")], None,
                     "weaken", [], id="rfc9530-digests-removed"),
        pytest.param([("Content-Type", "text/plain"), ("Cache-Control", "no-cache"), ("Vary", "Accept")],
                     3, "weaken",
                     [("Content-Type", "text/plain"), ("Cache-Control", "no-cache"), ("Vary", "Accept"),
                      ("Content-Length", "3")], id="others-kept"),
    ],
)
def test_fix_rewritten_headers(before, length, etag, after):
    headers = Headers(before)
    fix_rewritten_headers(headers, length, etag)
    assert sorted(headers.to_wsgi_list()) == sorted(after)


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


def test_rewriter_buffer_mode_rewrites_the_body_and_fixes_headers():
    inner = Tracked([b"hello ", b"world"])
    client = TestApp(validated(Upper(body_app(inner, headers=PLAIN))))
    response = client.get("/")
    assert response.body == b"HELLO WORLD!"
    assert response.headers["Content-Length"] == "12"
    assert response.headers["ETag"] == 'W/"v1"'
    assert "Accept-Ranges" not in response.headers
    assert "Content-MD5" not in response.headers
    assert inner.closes == 1


def test_rewriter_can_drop_the_etag():
    client = TestApp(validated(DropUpper(body_app(Tracked([b"hello world"]), headers=PLAIN))))
    response = client.get("/")
    assert response.body == b"HELLO WORLD!"
    assert "ETag" not in response.headers


def test_rewriter_passes_a_response_it_does_not_want_through_untouched():
    inner = Tracked([b"hello ", b"world"])
    client = TestApp(validated(Upper(body_app(inner, headers=BINARY))))
    response = client.get("/")
    assert response.body == b"hello world"
    assert response.headers["Content-Length"] == "11"
    assert response.headers["ETag"] == '"v1"'
    assert response.headers["Accept-Ranges"] == "bytes"
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
        pytest.param("buffer", BINARY_STREAM, b"chunk0 ", id="not-wanted"),
        pytest.param("stream", PLAIN_STREAM, b"CHUNK0 ", id="stream"),
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
    assert recorder.headers["ETag"] == ('W/"v1"' if mode == "stream" else '"v1"')


@pytest.mark.parametrize(
    ("mode", "headers", "read_all"),
    [
        pytest.param("buffer", BINARY, True, id="not-wanted-read-all"),
        pytest.param("buffer", BINARY, False, id="not-wanted-stopped-early"),
        pytest.param("buffer", PLAIN, True, id="buffer-read-all"),
        pytest.param("buffer", PLAIN, False, id="buffer-stopped-early"),
        pytest.param("stream", PLAIN, True, id="stream-read-all"),
        pytest.param("stream", PLAIN, False, id="stream-stopped-early"),
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
        pytest.param("buffer", BINARY_STREAM, b"chunk0 chunk1 chunk2 ", id="not-wanted"),
        pytest.param("buffer", PLAIN_STREAM, b"CHUNK0 CHUNK1 CHUNK2 !", id="buffer"),
        pytest.param("stream", PLAIN_STREAM, b"CHUNK0 CHUNK1 CHUNK2 ", id="stream"),
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
        pytest.param("buffer", [("Content-Type", "application/octet-stream")], b"hello big world",
                     id="not-wanted"),
        pytest.param("buffer", [("Content-Type", "text/plain")], b"HELLO BIG WORLD!", id="buffer"),
        pytest.param("stream", [("Content-Type", "text/plain")], b"HELLO BIG WORLD", id="stream"),
    ],
)
def test_rewriter_handles_the_legacy_write_callable(mode, headers, expected):
    client = TestApp(validated(Upper(writer_app(headers), mode=mode)))
    assert client.get("/").body == expected


@pytest.mark.parametrize("mode", ["buffer", "stream"])
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
@pytest.mark.parametrize("mode", ["buffer", "stream"])
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
    layer = validated(Upper(generator_app(log, PLAIN), mode="stream"))  # Content-Length: 11 (wrong)
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
        pytest.param("buffer", [("Content-Type", "application/octet-stream")], id="not-wanted"),
        pytest.param("buffer", [("Content-Type", "text/plain")], id="buffer"),
        pytest.param("stream", [("Content-Type", "text/plain")], id="stream"),
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
        pytest.param(partial(Upper, mode="stream"), "text/plain", id="rewriter-stream"),
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

    def __init__(self, app, *, mode="buffer", failing="wants"):
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
        pytest.param("buffer", "wants", id="wants"),
        pytest.param("buffer", "rewrite", id="rewrite"),
        pytest.param("stream", "rewrite_stream", id="rewrite_stream"),
    ],
)
def test_rewriter_closes_the_inner_iterable_when_a_hook_fails(mode, failing):
    inner = Tracked([b"a", b"b"])
    layer = validated(Broken(body_app(inner), mode=mode, failing=failing))
    with pytest.raises(RuntimeError, match=f"{failing} failed"):
        layer(make_environ(), Recorder())
    assert inner.closes == 1
