"""middleware/static.py: validators, conditional requests, Cache-Control and pre-compressed variants.

Every request goes through ``framework.testing.validated`` (``wsgiref.validate``).
"""

from __future__ import annotations

import gzip
import os

import pytest
from werkzeug.http import http_date

from framework.testing import TestClient, validated
from middleware.static import StaticFiles

APP_JS = b"function hello() { return 'hello'; }\n" * 50
IMMUTABLE = "public, max-age=31536000, immutable"
MTIME = 1_700_000_000  # Tue, 14 Nov 2023 22:13:20 GMT


def fallback(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


@pytest.fixture
def site(tmp_path):
    public = tmp_path / "public"
    public.mkdir()
    (public / "app.js").write_bytes(APP_JS)
    (public / "app.js.gz").write_bytes(gzip.compress(APP_JS))
    (public / "app.js.br").write_bytes(b"pretend-brotli")
    (public / "plain.txt").write_bytes(b"plain\n")
    (public / "only.gz").write_bytes(gzip.compress(b"x"))
    (public / "app.3f2a9c1b.js").write_bytes(b"fingerprinted")
    for path in public.iterdir():
        os.utime(path, (MTIME, MTIME))
    return public


def serve(site, **options) -> TestClient:
    return TestClient(validated(StaticFiles(fallback, mounts={"/static": str(site)}, **options)))


def get(static, path="/static/plain.txt", **headers):
    return static.get(path, headers={name.replace("_", "-"): value for name, value in headers.items()})


# -- validators and conditional requests -------------------------------------------------------


def test_last_modified_is_the_files_mtime(site):
    response = get(serve(site))
    assert response.headers["Last-Modified"] == http_date(MTIME) == "Tue, 14 Nov 2023 22:13:20 GMT"


def test_the_etag_is_strong_and_changes_with_the_file(site):
    first = get(serve(site)).headers["ETag"]
    (site / "plain.txt").write_bytes(b"changed\n")
    second = get(serve(site)).headers["ETag"]
    assert not first.startswith("W/") and first.startswith('"')
    assert first != second


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({"If-None-Match": "{etag}"}, 304, id="inm-same"),
        pytest.param({"If-None-Match": 'W/{etag}'}, 304, id="inm-weak-comparison"),
        pytest.param({"If-None-Match": '"a", {etag}, "b"'}, 304, id="inm-list"),
        pytest.param({"If-None-Match": "*"}, 304, id="inm-star"),
        pytest.param({"If-None-Match": '"other"'}, 200, id="inm-other"),
        pytest.param({"If-Modified-Since": "{date}"}, 304, id="ims-same"),
        pytest.param({"If-Modified-Since": "Wed, 15 Nov 2023 00:00:00 GMT"}, 304, id="ims-later"),
        pytest.param({"If-Modified-Since": "Tuesday, 14-Nov-23 22:13:20 GMT"}, 304, id="ims-rfc-850"),
        pytest.param({"If-Modified-Since": "Tue, 14 Nov 2023 22:13:19 GMT"}, 200, id="ims-earlier"),
        pytest.param({"If-Modified-Since": "yesterday"}, 200, id="ims-invalid-ignored"),
        pytest.param({"If-None-Match": '"other"', "If-Modified-Since": "{date}"}, 200,
                     id="inm-takes-precedence-over-ims"),
        pytest.param({"If-None-Match": "{etag}", "If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}, 304,
                     id="inm-match-wins-over-old-ims"),
        pytest.param({"If-Match": "{etag}"}, 200, id="if-match-same"),
        pytest.param({"If-Match": "*"}, 200, id="if-match-star"),
        pytest.param({"If-Match": '"other"'}, 412, id="if-match-other"),
        pytest.param({"If-Match": "W/{etag}"}, 412, id="if-match-weak-never"),
        pytest.param({"If-Unmodified-Since": "{date}"}, 200, id="ius-same"),
        pytest.param({"If-Unmodified-Since": "Tue, 14 Nov 2023 22:13:19 GMT"}, 412, id="ius-earlier"),
        pytest.param({"If-Match": "{etag}", "If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}, 200,
                     id="if-match-takes-precedence-over-ius"),
        pytest.param({"If-Match": "{etag}", "If-None-Match": "{etag}"}, 304, id="if-match-then-inm"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_conditional_requests(site, headers, status, method):
    static = serve(site)
    etag = get(static).headers["ETag"]
    filled = {name: value.format(etag=etag, date=http_date(MTIME)) for name, value in headers.items()}
    response = static.open("/static/plain.txt", method=method, headers=filled)
    assert response.status_code == status
    if status == 200:
        assert response.data == (b"plain\n" if method == "GET" else b"")
    if status in (304, 412):
        assert response.data == b"" or method == "GET" and status == 412


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_304_repeats_the_caching_headers_of_the_200(site, method):
    static = serve(site)
    whole = get(static, "/static/app.js", Accept_Encoding="gzip")
    response = static.open("/static/app.js", method=method,
                           headers={"If-None-Match": whole.headers["ETag"], "Accept-Encoding": "gzip"})
    assert response.status_code == 304
    assert response.data == b""
    for name in ("ETag", "Cache-Control", "Vary", "Last-Modified"):
        assert response.headers[name] == whole.headers[name]
    assert "Content-Length" not in response.headers
    assert "Content-Type" not in response.headers


def test_each_variant_has_its_own_etag(site):
    static = serve(site)
    tags = {coding: get(static, "/static/app.js", Accept_Encoding=coding).headers["ETag"]
            for coding in ("identity", "gzip", "br")}
    assert len(set(tags.values())) == 3
    # A cache revalidating its gzip copy: the tag matches only the gzip variant.
    gzip_tag = tags["gzip"]
    assert get(static, "/static/app.js", Accept_Encoding="gzip", If_None_Match=gzip_tag).status_code == 304
    assert get(static, "/static/app.js", Accept_Encoding="br", If_None_Match=gzip_tag).status_code == 200
    assert get(static, "/static/app.js", If_None_Match=gzip_tag).status_code == 200


# -- Cache-Control --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "path", "expected"),
    [
        pytest.param({}, "/static/plain.txt", "public, max-age=60", id="default"),
        pytest.param({"max_age": 0}, "/static/plain.txt", "public, max-age=0", id="max-age-0"),
        pytest.param({"max_age": 3600}, "/static/plain.txt", "public, max-age=3600", id="max-age"),
        pytest.param({}, "/static/app.3f2a9c1b.js", IMMUTABLE, id="fingerprinted"),
        pytest.param({"immutable": None}, "/static/app.3f2a9c1b.js", "public, max-age=60",
                     id="immutable-off"),
        pytest.param({"immutable": r"^plain"}, "/static/plain.txt", IMMUTABLE,
                     id="own-pattern"),
    ],
)
def test_cache_control(site, options, path, expected):
    assert get(serve(site, **options), path).headers["Cache-Control"] == expected


def test_an_immutable_files_variants_are_immutable_too(site):
    (site / "app.3f2a9c1b.js.gz").write_bytes(gzip.compress(b"fingerprinted"))
    response = get(serve(site), "/static/app.3f2a9c1b.js", Accept_Encoding="gzip")
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


# -- pre-compressed variants ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        pytest.param(None, None, id="no-header-identity"),
        pytest.param("identity", None, id="identity-only"),
        pytest.param("gzip, deflate, br", "br", id="browser-gets-br"),
        pytest.param("gzip", "gzip", id="gzip"),
        pytest.param("br", "br", id="br"),
        pytest.param("gzip;q=1, br;q=0.5", "gzip", id="q-values"),
        pytest.param("br;q=0, gzip", "gzip", id="br-refused"),
        pytest.param("br;q=0, gzip;q=0", None, id="both-refused"),
        pytest.param("*", "br", id="star"),
        pytest.param("*;q=0", None, id="star-refused"),
        pytest.param("deflate", None, id="nothing-we-have"),
    ],
)
def test_the_variant_follows_accept_encoding(site, accept, coding):
    headers = {} if accept is None else {"Accept-Encoding": accept}
    response = serve(site).get("/static/app.js", headers=headers)
    assert response.status_code == 200
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers.get("Content-Encoding") == coding
    expected = {None: APP_JS, "gzip": (site / "app.js.gz").read_bytes(), "br": b"pretend-brotli"}[coding]
    assert response.data == expected
    assert response.headers["Content-Length"] == str(len(expected))


def test_gzip_variant_decompresses_to_the_file(site):
    response = get(serve(site), "/static/app.js", Accept_Encoding="gzip")
    assert gzip.decompress(response.data) == APP_JS


def test_a_file_without_variants_has_no_vary(site):
    response = get(serve(site), Accept_Encoding="gzip, br")
    assert "Vary" not in response.headers
    assert "Content-Encoding" not in response.headers


def test_siblings_are_not_served_under_their_own_names(site):
    static = serve(site)
    assert get(static, "/static/app.js.gz").data == b"app"
    assert get(static, "/static/app.js.br").data == b"app"


def test_a_gz_file_without_a_base_file_is_an_ordinary_file(site):
    response = get(serve(site), "/static/only.gz", Accept_Encoding="gzip")
    assert response.headers["Content-Type"] == "application/gzip"
    assert "Content-Encoding" not in response.headers
    assert gzip.decompress(response.data) == b"x"


def test_precompressed_false_serves_the_file_and_the_siblings_as_files(site):
    static = serve(site, precompressed=False)
    response = get(static, "/static/app.js", Accept_Encoding="gzip, br")
    assert response.data == APP_JS
    assert "Vary" not in response.headers
    sibling = get(static, "/static/app.js.gz")
    assert sibling.headers["Content-Type"] == "application/gzip"
    assert "Content-Encoding" not in sibling.headers
