"""middleware/compress.py: the coding choice and the skip rules as pure functions, then every
rule through ``framework.testing.validated`` (``wsgiref.validate`` around the layer and the app)."""

from __future__ import annotations

import gzip
import socket
import sys
import threading
import zlib
from wsgiref.simple_server import WSGIRequestHandler, make_server

import brotli
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.http import parse_etags
from werkzeug.test import create_environ

import middleware.compress as compress_module
from framework.testing import TestClient, validated
from middleware.compress import DEFAULT_MEDIA_TYPES, Compress, choose_encoding, compressible
from middleware.cors import CORS

JSON = b'{"items": [' + b", ".join(b'{"id": %d, "name": "item %d"}' % (i, i) for i in range(200)) + b"]}"


def make_app(body: bytes = JSON, status: str = "200 OK", length: bool = True, **headers: str):
    """An app answering *body* with *headers* (``Content_Type`` -> ``Content-Type``)."""
    pairs = [(name.replace("_", "-"), value) for name, value in headers.items()]
    bodiless = status.startswith(("204", "304"))  # the validator refuses a Content-Type on these
    if "Content-Type" not in dict(pairs) and not bodiless:
        pairs.insert(0, ("Content-Type", "application/json"))
    if length and not bodiless:
        pairs.append(("Content-Length", str(len(body))))

    def app(environ, start_response):
        start_response(status, list(pairs))
        return [] if bodiless else [body]

    return app


def get(layer, path: str = "/", method: str = "GET", **headers: str):
    headers = {name.replace("_", "-"): value for name, value in headers.items()}
    return TestClient(validated(layer)).open(path, method=method, headers=headers)


def decode(response) -> bytes:
    coding = response.headers.get("Content-Encoding")
    if coding == "gzip":
        return gzip.decompress(response.data)
    if coding == "br":
        return brotli.decompress(response.data)
    assert coding is None
    return response.data


# -- the coding choice -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "offered", "chosen"),
    [
        pytest.param("gzip, deflate, br", ("br", "gzip"), "br", id="br-preferred-at-equal-q"),
        pytest.param("gzip, deflate, br", ("gzip", "br"), "gzip", id="offer-order-decides-ties"),
        pytest.param("gzip, deflate, br", ("gzip",), "gzip", id="gzip-only-offered"),
        pytest.param("gzip;q=1, br;q=0.5", ("br", "gzip"), "gzip", id="higher-q-wins"),
        pytest.param("br;q=0, gzip", ("br", "gzip"), "gzip", id="q0-refuses"),
        pytest.param("gzip;q=0", ("br", "gzip"), None, id="only-refusal"),
        pytest.param("*", ("br", "gzip"), "br", id="star"),
        pytest.param("*;q=0.5, br;q=0", ("br", "gzip"), "gzip", id="named-beats-star"),
        pytest.param("gzip;q=0, *", ("gzip",), None, id="named-refusal-beats-star"),
        pytest.param("*;q=0", ("br", "gzip"), None, id="star-q0"),
        pytest.param("deflate, compress", ("br", "gzip"), None, id="nothing-offered"),
        pytest.param("identity", ("br", "gzip"), None, id="identity"),
        pytest.param("", ("br", "gzip"), None, id="empty"),
        pytest.param("GZIP", ("br", "gzip"), "gzip", id="case-insensitive"),
        pytest.param("x-gzip", ("br", "gzip"), "gzip", id="x-gzip-alias"),
        pytest.param("identity;q=1, gzip;q=0.5", ("gzip",), None, id="identity-preferred"),
        pytest.param("identity;q=0.5, gzip", ("gzip",), "gzip", id="identity-less-preferred"),
        pytest.param("identity, gzip", ("gzip",), "gzip", id="identity-tie-compresses"),
        pytest.param("gzip;q=abc", ("gzip",), None, id="malformed-q"),
        pytest.param(";;;,,,", ("gzip",), None, id="junk"),
    ],
)
def test_choose_encoding(header, offered, chosen):
    assert choose_encoding(header, offered) == chosen


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        pytest.param("200 OK", [("Content-Type", "application/json")], True, id="json-unknown-length"),
        pytest.param("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "500")],
                     True, id="html-at-minimum"),
        pytest.param("200 OK", [("Content-Type", "text/html"), ("Content-Length", "499")], False,
                     id="under-minimum"),
        pytest.param("200 OK", [("Content-Type", "text/html"), ("Content-Length", "x")], False,
                     id="malformed-length"),
        pytest.param("404 Not Found", [("Content-Type", "text/html")], True, id="error-page"),
        pytest.param("206 Partial Content", [("Content-Type", "text/plain")], False, id="206"),
        pytest.param("204 No Content", [("Content-Type", "text/plain")], False, id="204"),
        pytest.param("304 Not Modified", [("Content-Type", "text/plain")], False, id="304"),
        pytest.param("200 OK", [], False, id="no-content-type"),
        pytest.param("200 OK", [("Content-Type", "text/plain"), ("Content-Encoding", "gzip")], False,
                     id="already-encoded"),
        pytest.param("200 OK", [("Content-Type", "text/plain"), ("Content-Encoding", "identity")], True,
                     id="identity-encoding"),
        pytest.param("200 OK", [("Content-Type", "text/plain"), ("Cache-Control", "public, No-Transform")],
                     False, id="no-transform"),
        pytest.param("200 OK", [("Content-Type", "text/event-stream")], True, id="server-sent-events"),
        pytest.param("200 OK", [("Content-Type", "application/ld+json")], True, id="plus-json"),
        pytest.param("200 OK", [("Content-Type", "application/atom+xml")], True, id="plus-xml"),
        pytest.param("200 OK", [("Content-Type", "image/svg+xml")], True, id="svg"),
        pytest.param("200 OK", [("Content-Type", "application/wasm")], True, id="wasm"),
        pytest.param("200 OK", [("Content-Type", "application/javascript")], True, id="javascript"),
        pytest.param("200 OK", [("Content-Type", "TEXT/CSS")], True, id="media-type-case"),
        pytest.param("200 OK", [("Content-Type", "image/png")], False, id="png"),
        pytest.param("200 OK", [("Content-Type", "video/mp4")], False, id="video"),
        pytest.param("200 OK", [("Content-Type", "application/zip")], False, id="zip"),
        pytest.param("200 OK", [("Content-Type", "font/woff2")], False, id="woff2"),
        pytest.param("200 OK", [("Content-Type", "application/octet-stream")], False, id="octet-stream"),
        pytest.param("200 OK", [("Content-Type", "nonsense")], False, id="no-slash"),
    ],
)
def test_compressible(status, headers, expected):
    assert compressible(status, headers) is expected


def test_compressible_with_own_media_types():
    assert compressible("200 OK", [("Content-Type", "image/png")], media_types=["image/*"])
    assert not compressible("200 OK", [("Content-Type", "text/html")], media_types=["image/*"])
    assert compressible("200 OK", [("Content-Type", "text/html"), ("Content-Length", "3")], minimum_size=0)


# -- through the validator -------------------------------------------------------------------


@pytest.mark.parametrize("coding", ["gzip", "br"])
def test_round_trip_of_a_known_length(coding):
    app = make_app(ETag='"v1"', Accept_Ranges="bytes", Content_MD5="abc")
    response = get(Compress(app), Accept_Encoding=coding)
    assert response.headers["Content-Encoding"] == coding
    assert decode(response) == JSON
    assert int(response.headers["Content-Length"]) == len(response.data) < len(JSON) / 3
    assert response.headers["ETag"] == 'W/"v1"'
    assert response.headers["Vary"] == "Accept-Encoding"
    assert "Accept-Ranges" not in response.headers
    assert "Content-MD5" not in response.headers


def test_weak_etag_stays_as_it_is():
    response = get(Compress(make_app(ETag='W/"v1"')), Accept_Encoding="gzip")
    assert response.headers["ETag"] == 'W/"v1"'


@pytest.mark.parametrize("coding", ["gzip", "br"])
def test_round_trip_of_a_stream(coding):
    chunks = [b"data: %d %s\n\n" % (i, b"x" * i) for i in range(50)]

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/event-stream"), ("ETag", '"s"')])
        yield from chunks

    response = get(Compress(app), Accept_Encoding=coding)
    assert response.headers["Content-Encoding"] == coding
    assert "Content-Length" not in response.headers
    assert response.headers["ETag"] == 'W/"s"'
    assert decode(response) == b"".join(chunks)


@pytest.mark.parametrize(
    ("vary", "expected"),
    [
        pytest.param(None, "Accept-Encoding", id="added"),
        pytest.param("Cookie", "Cookie, Accept-Encoding", id="merged"),
        pytest.param("Cookie, accept-encoding", "Cookie, accept-encoding", id="already-there"),
        pytest.param("*", "*", id="star-covers-it"),
    ],
)
@pytest.mark.parametrize("accept", ["gzip", "identity", None])
def test_vary_on_every_response_that_could_be_compressed(vary, expected, accept):
    app = make_app(**({"Vary": vary} if vary else {}))
    response = get(Compress(app), **({"Accept_Encoding": accept} if accept else {}))
    assert response.headers.getlist("Vary") == [expected]
    assert decode(response) == JSON
    assert ("Content-Encoding" in response.headers) is (accept == "gzip")


@pytest.mark.parametrize(
    "app",
    [
        pytest.param(make_app(b"small body"), id="under-minimum-size"),
        pytest.param(make_app(gzip.compress(JSON), Content_Encoding="gzip"), id="already-encoded"),
        pytest.param(make_app(JSON[:600], status="206 Partial Content",
                              Content_Range=f"bytes 0-599/{len(JSON)}"), id="206"),
        pytest.param(make_app(b"", status="204 No Content"), id="204"),
        pytest.param(make_app(b"", status="304 Not Modified"), id="304"),
        pytest.param(make_app(JSON, Content_Type="image/png"), id="image"),
        pytest.param(make_app(JSON, Cache_Control="no-transform"), id="no-transform"),
        pytest.param(make_app(JSON, Content_Length="oops", length=False), id="malformed-length"),
    ],
)
def test_skipped_responses_go_out_untouched(app):
    expected = get(app)
    response = get(Compress(app), Accept_Encoding="gzip, br")
    assert response.status == expected.status
    assert response.data == expected.data
    assert response.headers.to_wsgi_list() == expected.headers.to_wsgi_list()  # no Vary either


def test_minimum_size_is_an_option():
    small = make_app(b"x" * 100, Content_Type="text/plain")
    assert "Content-Encoding" not in get(Compress(small), Accept_Encoding="gzip").headers
    response = get(Compress(small, minimum_size=50), Accept_Encoding="gzip")
    assert decode(response) == b"x" * 100


def test_head_gets_the_headers_of_a_get_and_no_body():
    app = make_app(ETag='"v1"')
    head = get(Compress(app), method="HEAD", Accept_Encoding="gzip")
    assert head.data == b""
    assert head.headers["Content-Encoding"] == "gzip"
    assert head.headers["ETag"] == 'W/"v1"'
    assert head.headers["Vary"] == "Accept-Encoding"
    assert "Content-Length" not in head.headers  # the compressed length is not known without the body


def revalidating_app(environ, start_response):
    """An app that knows its strong ETag and compares If-None-Match weakly (RFC 9110 13.1.2)."""
    if parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains_weak("v1"):
        start_response("304 Not Modified", [("ETag", '"v1"'), ("Cache-Control", "max-age=60")])
        return []
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(JSON))),
                              ("ETag", '"v1"')])
    return [JSON]


@pytest.mark.parametrize(
    ("accept", "if_none_match", "etag", "vary"),
    [
        pytest.param("gzip", 'W/"v1"', 'W/"v1"', "Accept-Encoding", id="compressed-variant-weak-again"),
        pytest.param("gzip", '"v1"', '"v1"', None, id="strong-tag-untouched"),
        pytest.param("identity", 'W/"v1"', '"v1"', None, id="no-coding-untouched"),
        pytest.param("gzip", '"other", W/"v1"', 'W/"v1"', "Accept-Encoding", id="in-a-list"),
    ],
)
def test_304_for_a_compressed_variant_carries_its_weak_etag(accept, if_none_match, etag, vary):
    first = get(Compress(revalidating_app), Accept_Encoding="gzip")
    assert first.headers["ETag"] == 'W/"v1"'
    response = get(Compress(revalidating_app), Accept_Encoding=accept, If_None_Match=if_none_match)
    assert response.status_code == 304
    assert response.headers["ETag"] == etag
    assert response.headers.get("Vary") == vary


@pytest.mark.parametrize(
    ("status", "encoded"),
    [pytest.param("200 OK", True, id="full-200-compressed"),
     pytest.param("206 Partial Content", False, id="206-untouched")],
)
def test_range_requests(status, encoded):
    app = make_app(JSON, status=status)
    response = get(Compress(app), Accept_Encoding="gzip", Range="bytes=0-99")
    assert ("Content-Encoding" in response.headers) is encoded
    assert decode(response) == JSON


def test_encodings_option_limits_the_choice():
    response = get(Compress(make_app(), encodings=["gzip"]), Accept_Encoding="br, gzip;q=0.5")
    assert response.headers["Content-Encoding"] == "gzip"
    response = get(Compress(make_app(), encodings=["gzip"]), Accept_Encoding="br")
    assert "Content-Encoding" not in response.headers
    assert response.headers["Vary"] == "Accept-Encoding"


def test_levels_change_the_output():
    fast = get(Compress(make_app(), gzip_level=1), Accept_Encoding="gzip")
    small = get(Compress(make_app(), gzip_level=9), Accept_Encoding="gzip")
    assert decode(fast) == decode(small) == JSON
    assert fast.data != small.data


def test_without_brotli_gzip_only(monkeypatch):
    monkeypatch.setattr(compress_module, "brotli", None)
    with pytest.raises(ValueError, match=r"brotli package is not installed.*onion-wsgi\[brotli\]"):
        Compress(make_app(), encodings=["br", "gzip"])
    layer = Compress(make_app(), encodings=["gzip"])
    assert get(layer, Accept_Encoding="br, gzip").headers["Content-Encoding"] == "gzip"


class Closing:
    """A body that records ``close()``."""

    def __init__(self, chunks):
        self.chunks = chunks
        self.closed = 0

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        self.closed += 1


@pytest.mark.parametrize(
    ("accept", "length", "method"),
    [
        pytest.param("gzip", True, "GET", id="compressed-at-once"),
        pytest.param("gzip", False, "GET", id="compressed-stream"),
        pytest.param("br", False, "GET", id="brotli-stream"),
        pytest.param("identity", True, "GET", id="passed-through"),
        pytest.param("gzip", True, "HEAD", id="head"),
    ],
)
def test_close_reaches_the_inner_body_once(accept, length, method):
    body = Closing([JSON[:1000], JSON[1000:]])

    def app(environ, start_response):
        headers = [("Content-Type", "application/json")]
        start_response("200 OK", headers + ([("Content-Length", str(len(JSON)))] if length else []))
        return body

    response = get(Compress(app), method=method, Accept_Encoding=accept)
    assert body.closed == 1
    if method == "GET":
        assert decode(response) == JSON


@pytest.mark.parametrize("accept", ["gzip", "identity"])
def test_exc_info_is_forwarded(accept):
    seen = []

    def app(environ, start_response):
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"failed"]

    def start_response(status, headers, exc_info=None):
        seen.append(exc_info)
        return lambda data: None

    environ = {"REQUEST_METHOD": "GET", "HTTP_ACCEPT_ENCODING": accept}
    body = Compress(app)(environ, start_response)
    list(body)
    assert seen and seen[0] is not None and isinstance(seen[0][1], RuntimeError)


# -- the first chunk of a stream reaches the client before the app yields the second ---------


def gzip_reader():
    return zlib.decompressobj(31).decompress


def brotli_reader():
    return brotli.Decompressor().process


@pytest.mark.parametrize(("coding", "reader"), [pytest.param("gzip", gzip_reader, id="gzip"),
                                                 pytest.param("br", brotli_reader, id="br")])
def test_each_chunk_is_flushed_before_the_next_is_made(coding, reader):
    """The client decompresses chunk 1 while the app has not produced chunk 2 yet."""
    made: list[int] = []

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        for number in range(3):
            made.append(number)
            yield b"data: event %d\n\n" % number

    body = validated(Compress(app))(create_environ("/", headers={"Accept-Encoding": coding}),
                                    lambda status, headers, exc_info=None: None)
    decompress = reader()
    try:
        iterator = iter(body)
        for number in range(3):
            assert decompress(next(iterator)) == b"data: event %d\n\n" % number
            assert made == list(range(number + 1))  # the next event is not made yet
        assert decompress(b"".join(iterator)) == b""
    finally:
        body.close()


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def test_a_real_server_sends_the_first_event_while_the_app_waits():
    """wsgiref's server writes each chunk to the socket: the client reads and decompresses the
    first event while the app is blocked before the second, until the client says it got it."""
    release = threading.Event()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")])
        yield b"data: first\n\n"
        if not release.wait(10):
            raise RuntimeError("the client never got the first event")
        yield b"data: second\n\n"

    server = make_server("127.0.0.1", 0, validated(Compress(app)), handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as client:
            client.sendall(b"GET /events HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n"
                           b"Connection: close\r\n\r\n")
            received = b""
            while b"\r\n\r\n" not in received:
                received += client.recv(4096)
            head, _, body = received.partition(b"\r\n\r\n")
            assert b"Content-Encoding: gzip" in head
            decompress = zlib.decompressobj(31).decompress
            decoded = decompress(body)
            while decoded != b"data: first\n\n":
                data = client.recv(4096)
                assert data, f"the connection closed after {decoded!r}"
                decoded += decompress(data)
            assert not release.is_set()  # the app is still waiting: nothing was buffered
            release.set()
            while data := client.recv(4096):
                decoded += decompress(data)
            assert decoded == b"data: first\n\ndata: second\n\n"
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_empty_chunks_are_passed_on_as_empty_chunks():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"a" * 10, b"", b"b" * 10]

    body = Compress(app)(create_environ("/", headers={"Accept-Encoding": "gzip"}), lambda *args: None)
    chunks = list(body)
    body.close()
    assert len(chunks) == 4 and chunks[1] == b""  # one out for each in (PEP 3333), then the trailer
    assert gzip.decompress(b"".join(chunks)) == b"a" * 10 + b"b" * 10


def test_a_long_known_length_is_streamed_not_held(monkeypatch):
    monkeypatch.setattr(compress_module, "_BUFFER_LIMIT", 1000)
    response = get(Compress(make_app()), Accept_Encoding="gzip")
    assert "Content-Length" not in response.headers
    assert decode(response) == JSON
    monkeypatch.setattr(compress_module, "_BUFFER_LIMIT", len(JSON))
    response = get(Compress(make_app()), Accept_Encoding="gzip")
    assert int(response.headers["Content-Length"]) == len(response.data)


def test_with_cors_outside_both_vary_fields_are_kept():
    layer = CORS(Compress(make_app(Vary="Cookie")), origins=["https://app.example.com"])
    response = get(layer, Accept_Encoding="gzip", Origin="https://app.example.com")
    assert response.headers.getlist("Vary") == ["Cookie, Accept-Encoding, Origin"]
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert decode(response) == JSON


# -- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        pytest.param({"minimum_size": -1}, ValueError, "minimum_size", id="negative-minimum"),
        pytest.param({"minimum_size": "500"}, ValueError, "minimum_size", id="minimum-as-text"),
        pytest.param({"encodings": "gzip"}, TypeError, "list such as", id="encodings-string"),
        pytest.param({"encodings": ["deflate"]}, ValueError, "'deflate'", id="unknown-encoding"),
        pytest.param({"encodings": []}, ValueError, "one or more", id="no-encodings"),
        pytest.param({"encodings": ["gzip", "gzip"]}, ValueError, "distinct", id="twice"),
        pytest.param({"media_types": "text/*"}, TypeError, "media_types", id="media-types-string"),
        pytest.param({"media_types": ["text"]}, ValueError, "'type/subtype'", id="bad-media-type"),
        pytest.param({"gzip_level": 0}, ValueError, "1 to 9", id="gzip-level-0"),
        pytest.param({"gzip_level": 10}, ValueError, "1 to 9", id="gzip-level-10"),
        pytest.param({"brotli_quality": 12}, ValueError, "0 to 11", id="brotli-quality-12"),
        pytest.param({"brotli_quality": 4.5}, ValueError, "0 to 11", id="brotli-quality-float"),
    ],
)
def test_bad_options(options, error, message):
    with pytest.raises(error, match=message) as raised:
        Compress(make_app(), **options)
    assert str(raised.value).endswith(".")


def test_describe_and_app():
    app = make_app()
    layer = Compress(app, encodings=["br", "gzip"])
    assert layer.app is app
    assert layer.describe() == (f"Compress(encodings=['br', 'gzip'], minimum_size=500, gzip_level=6, "
                                f"brotli_quality=4, media_types={len(DEFAULT_MEDIA_TYPES)})")


# -- any input -------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(accept=st.text(alphabet=" ,;=.*0123456789qbrgzipxidentyQ-", max_size=40),
       chunks=st.lists(st.binary(max_size=300), max_size=8),
       content_type=st.sampled_from(["text/plain", "application/json", "image/png", "text/event-stream"]),
       known=st.booleans(), minimum=st.integers(0, 600))
def test_any_request_gets_the_body_back(accept, chunks, content_type, known, minimum):
    body = b"".join(chunks)

    def app(environ, start_response):
        headers = [("Content-Type", content_type)] + ([("Content-Length", str(len(body)))] if known else [])
        start_response("200 OK", headers)
        return list(chunks)

    response = get(Compress(app, minimum_size=minimum), Accept_Encoding=accept)
    assert response.status_code == 200
    assert decode(response) == body
    assert response.headers.get("Content-Encoding") in (None, choose_encoding(accept))
