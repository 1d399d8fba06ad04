"""middleware/static_http.py and static_index.py: StaticFiles' pure decisions, no WSGI at all."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from middleware.static_http import (
    UNSATISFIABLE,
    byte_range,
    etag_matches,
    if_range_holds,
    modified_since,
    preferred_encodings,
    refused_path,
    strong_etag_matches,
    unmodified_since,
)
from middleware.static_index import content_type

ETAG = '"5f-1a"'
LAST_MODIFIED = "Sun, 06 Nov 1994 08:49:37 GMT"
MTIME = 784111777  # LAST_MODIFIED as a timestamp


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        pytest.param("bytes=0-0", 10, (0, 1), id="first-byte"),
        pytest.param("bytes=-1", 10, (9, 10), id="last-byte-suffix"),
        pytest.param("bytes=0-9", 10, (0, 10), id="whole"),
        pytest.param("bytes=2-4", 10, (2, 5), id="middle"),
        pytest.param("bytes=4-", 10, (4, 10), id="open-ended"),
        pytest.param("bytes=9-", 10, (9, 10), id="open-ended-last-byte"),
        pytest.param("bytes=5-100", 10, (5, 10), id="end-past-the-file-is-clipped"),
        pytest.param("bytes=-50", 10, (0, 10), id="suffix-longer-than-the-file"),
        pytest.param("bytes=-10", 10, (0, 10), id="suffix-the-whole-file"),
        pytest.param("BYTES=0-0", 10, (0, 1), id="unit-any-case"),
        pytest.param("bytes= 1-2", 10, (1, 3), id="space-after-equals"),
        pytest.param("bytes=10-", 10, UNSATISFIABLE, id="starts-at-the-end"),
        pytest.param("bytes=20-30", 10, UNSATISFIABLE, id="starts-past-the-end"),
        pytest.param("bytes=0-0", 0, UNSATISFIABLE, id="any-first-pos-of-an-empty-file"),
        pytest.param("bytes=-0", 10, UNSATISFIABLE, id="zero-suffix"),
        pytest.param("bytes=-1", 0, None, id="suffix-of-an-empty-file-gets-it-whole"),
        pytest.param("bytes=5-3", 10, None, id="reversed-is-malformed"),
        pytest.param("bytes=abc", 10, None, id="junk"),
        pytest.param("bytes=", 10, None, id="empty-set"),
        pytest.param("bytes 0-1", 10, None, id="no-equals"),
        pytest.param("items=0-1", 10, None, id="other-unit"),
        pytest.param("bytes=0-1,5-6", 10, None, id="multi-range-gets-the-whole-file"),
        pytest.param("bytes=0-1,20-30", 10, None, id="multi-range-partly-outside"),
        pytest.param("bytes=--1", 10, None, id="double-dash"),
    ],
)
def test_byte_range(header, size, expected):
    assert byte_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("gzip, deflate, br", ("br", "gzip"), id="browser"),
        pytest.param("gzip, deflate, br, zstd", ("br", "gzip"), id="browser-with-zstd"),
        pytest.param("gzip", ("gzip",), id="gzip-only"),
        pytest.param("x-gzip", ("gzip",), id="x-gzip-is-gzip"),
        pytest.param("br", ("br",), id="br-only"),
        pytest.param("GZIP, BR", ("br", "gzip"), id="any-case"),
        pytest.param("gzip;q=1.0, br;q=0.5", ("gzip", "br"), id="q-values-order"),
        pytest.param("gzip ; q=0.8, br;q=0.8", ("br", "gzip"), id="tie-prefers-br"),
        pytest.param("br;q=0, gzip", ("gzip",), id="q0-refuses-br"),
        pytest.param("gzip;q=0", (), id="q0-refuses-gzip"),
        pytest.param("gzip;q=0.000", (), id="q0-with-decimals"),
        pytest.param("*", ("br", "gzip"), id="star"),
        pytest.param("*;q=0.5, br;q=0", ("gzip",), id="star-but-not-br"),
        pytest.param("*;q=0", (), id="star-q0"),
        pytest.param("identity", (), id="identity-only"),
        pytest.param("identity;q=1, gzip;q=0.5", (), id="identity-preferred"),
        pytest.param("identity;q=0.5, gzip;q=0.5", ("gzip",), id="tie-with-identity-compresses"),
        pytest.param("", (), id="empty"),
        pytest.param("deflate", (), id="none-of-ours"),
        pytest.param("gzip;q=2", (), id="q-out-of-range-ignored"),
        pytest.param("gzip;q=abc, br", ("br",), id="malformed-q-ignores-the-item"),
        pytest.param(",,gzip,,", ("gzip",), id="empty-items"),
    ],
)
def test_preferred_encodings(header, expected):
    assert preferred_encodings(header) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(ETAG, True, id="same"),
        pytest.param('W/"5f-1a"', True, id="weak-matches-by-weak-comparison"),
        pytest.param('"other", "5f-1a"', True, id="in-a-list"),
        pytest.param('"other",W/"5f-1a"', True, id="weak-in-a-list"),
        pytest.param("*", True, id="star"),
        pytest.param('"other"', False, id="other"),
        pytest.param('"5f-1"', False, id="prefix"),
        pytest.param("5f-1a", True, id="unquoted-read-leniently-as-werkzeug-does"),
        pytest.param("", False, id="empty"),
    ],
)
def test_if_none_match(header, expected):
    assert etag_matches(header, ETAG) is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(ETAG, True, id="same"),
        pytest.param('"a", "5f-1a"', True, id="in-a-list"),
        pytest.param("*", True, id="star"),
        pytest.param('W/"5f-1a"', False, id="weak-never-matches"),
        pytest.param('"other"', False, id="other"),
    ],
)
def test_if_match(header, expected):
    assert strong_etag_matches(header, ETAG) is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(LAST_MODIFIED, False, id="same-date"),
        pytest.param("Sun, 06 Nov 1994 08:49:38 GMT", False, id="later"),
        pytest.param("Sunday, 06-Nov-94 08:49:37 GMT", False, id="rfc-850-date"),
        pytest.param("Sun Nov  6 08:49:37 1994", False, id="asctime-date"),
        pytest.param("Sun, 06 Nov 1994 08:49:36 GMT", True, id="earlier"),
        pytest.param("not a date", True, id="invalid-is-ignored"),
        pytest.param("", True, id="empty-is-ignored"),
    ],
)
def test_if_modified_since(header, expected):
    assert modified_since(header, MTIME) is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(LAST_MODIFIED, True, id="same-date"),
        pytest.param("Sun, 06 Nov 1994 08:49:36 GMT", False, id="earlier"),
        pytest.param("junk", True, id="invalid-is-ignored"),
    ],
)
def test_if_unmodified_since(header, expected):
    assert unmodified_since(header, MTIME) is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(ETAG, True, id="same-etag"),
        pytest.param(f" {ETAG} ", True, id="spaces"),
        pytest.param('"other"', False, id="other-etag"),
        pytest.param('W/"5f-1a"', False, id="weak-etag-never-matches"),
        pytest.param(LAST_MODIFIED, True, id="same-date"),
        pytest.param("Sunday, 06-Nov-94 08:49:37 GMT", True, id="same-date-rfc-850"),
        pytest.param("Sun, 06 Nov 1994 08:49:38 GMT", False, id="later-date-must-be-exact"),
        pytest.param("junk", False, id="junk"),
    ],
)
def test_if_range(header, expected):
    assert if_range_holds(header, ETAG, LAST_MODIFIED, MTIME) is expected


@pytest.mark.parametrize(
    ("rel", "refused"),
    [
        pytest.param("/app.js", False, id="file"),
        pytest.param("/css/site.css", False, id="nested"),
        pytest.param("/a..b.js", False, id="dots-inside-a-name"),
        pytest.param("/100%.txt", False, id="a-percent-sign"),
        pytest.param("/dir/", False, id="dir"),
        pytest.param("/", False, id="mount-root"),
        pytest.param("/app.min.js", False, id="dots-in-a-name"),
        pytest.param("/../x", True, id="dot-dot"),
        pytest.param("/a/..", True, id="trailing-dot-dot"),
        pytest.param("/./x", True, id="dot"),
        pytest.param("/.env", True, id="dotfile"),
        pytest.param("/a/.git/config", True, id="dot-dir"),
        pytest.param("/%2e%2e/x", True, id="encoded-dots"),
        pytest.param("/%2E./x", True, id="encoded-dot-upper"),
        pytest.param("/a%2fb", True, id="encoded-slash"),
        pytest.param("/a%5Cb", True, id="encoded-backslash"),
        pytest.param("/a%00", True, id="encoded-nul"),
        pytest.param("/%252e", True, id="double-encoded"),
        pytest.param("/a\\b", True, id="backslash"),
        pytest.param("/a\x00b", True, id="nul"),
        pytest.param("/a\rb", True, id="carriage-return"),
        pytest.param("/a\x7fb", True, id="delete"),
        pytest.param("//etc/passwd", True, id="absolute"),
        pytest.param("/a//b", True, id="empty-segment"),
        pytest.param("/C:/x", True, id="drive"),
        pytest.param("/c:x", True, id="drive-relative"),
    ],
)
def test_refused_path(rel, refused):
    assert refused_path(rel) is refused


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("app.js", "text/javascript; charset=utf-8", id="js"),
        pytest.param("app.mjs", "text/javascript; charset=utf-8", id="mjs"),
        pytest.param("site.CSS", "text/css; charset=utf-8", id="upper-case-suffix"),
        pytest.param("index.html", "text/html; charset=utf-8", id="html"),
        pytest.param("notes.txt", "text/plain; charset=utf-8", id="txt"),
        pytest.param("data.json", "application/json", id="json-has-no-charset"),
        pytest.param("app.js.map", "application/json", id="source-map"),
        pytest.param("site.webmanifest", "application/manifest+json", id="webmanifest"),
        pytest.param("logo.svg", "image/svg+xml; charset=utf-8", id="svg"),
        pytest.param("feed.xml", "application/xml; charset=utf-8", id="xml"),
        pytest.param("mod.wasm", "application/wasm", id="wasm"),
        pytest.param("a.webp", "image/webp", id="webp"),
        pytest.param("a.avif", "image/avif", id="avif"),
        pytest.param("f.woff2", "font/woff2", id="woff2"),
        pytest.param("f.woff", "font/woff", id="woff"),
        pytest.param("a.png", "image/png", id="png"),
        pytest.param("archive.tar.gz", "application/gzip", id="tar-gz-is-gzip-bytes"),
        pytest.param("archive.tar.bz2", "application/x-bzip2", id="tar-bz2"),
        pytest.param("README", "application/octet-stream", id="no-suffix"),
        pytest.param("x.unknownsuffix", "application/octet-stream", id="unknown"),
    ],
)
def test_content_type(name, expected):
    assert content_type(name) == expected


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab./\\%2e5cf0:\x00\x1f\x7fAZé\u200b", max_size=10))
def test_refused_path_is_the_regex_with_a_shortcut(text):
    from middleware.static_http import _REFUSED

    for path in (text, "/" + text):
        assert refused_path(path) is (_REFUSED.search(path) is not None)
