"""middleware/static.py: byte ranges, wsgi.file_wrapper, and every opened file closed.

Every request through the test client goes through ``framework.testing.validated``; the
bodies are also driven by hand, as a server does, to check ``close()`` on each path.
"""

from __future__ import annotations

import gzip
import io
import os

import pytest
from werkzeug.http import http_date

import middleware.static as static_module
from framework.testing import TestClient, validated
from middleware.static import StaticFiles

DATA = bytes(range(256)) * 40  # 10240 bytes
MTIME = 1_700_000_000


def fallback(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


@pytest.fixture
def site(tmp_path):
    public = tmp_path / "public"
    public.mkdir()
    (public / "data.bin").write_bytes(DATA)
    (public / "empty.txt").write_bytes(b"")
    (public / "app.js").write_bytes(b"x" * 1000)
    (public / "app.js.gz").write_bytes(gzip.compress(b"x" * 1000))
    for path in public.iterdir():
        os.utime(path, (MTIME, MTIME))
    return public


@pytest.fixture
def opened(monkeypatch):
    """Every file the layer opens, to check each is closed."""
    files = []

    def tracking_open(*args, **kwargs):
        file = io.open(*args, **kwargs)  # noqa: UP020 (the builtin, which this shadows)
        files.append(file)
        return file

    monkeypatch.setattr(static_module, "open", tracking_open, raising=False)
    return files


def serve(site, **options) -> TestClient:
    return TestClient(validated(StaticFiles(fallback, mounts={"/static": str(site)}, **options)))


# -- ranges --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "start", "stop"),
    [
        pytest.param("bytes=0-0", 0, 1, id="first-byte"),
        pytest.param("bytes=-1", 10239, 10240, id="last-byte"),
        pytest.param("bytes=100-199", 100, 200, id="middle"),
        pytest.param("bytes=10000-", 10000, 10240, id="open-ended"),
        pytest.param("bytes=10000-99999", 10000, 10240, id="clipped"),
        pytest.param("bytes=-20000", 0, 10240, id="suffix-longer-than-the-file"),
        pytest.param("bytes=0-65535", 0, 10240, id="first-block"),
    ],
)
def test_a_single_range_is_206(site, header, start, stop, opened):
    response = serve(site).get("/static/data.bin", headers={"Range": header})
    assert response.status_code == 206
    assert response.data == DATA[start:stop]
    assert response.headers["Content-Range"] == f"bytes {start}-{stop - 1}/{len(DATA)}"
    assert response.headers["Content-Length"] == str(stop - start)
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["ETag"]
    assert all(file.closed for file in opened) and len(opened) == 1


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("bytes=10240-", id="at-the-end"),
        pytest.param("bytes=20000-30000", id="past-the-end"),
        pytest.param("bytes=-0", id="zero-suffix"),
    ],
)
def test_an_unsatisfiable_range_is_416_with_the_size(site, header, opened):
    response = serve(site).get("/static/data.bin", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(DATA)}"
    assert DATA[:64] not in response.data
    assert opened == []


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("bytes=0-1,5-6", id="multi-range"),
        pytest.param("bytes=5-3", id="reversed"),
        pytest.param("bytes=abc", id="junk"),
        pytest.param("lines=0-1", id="other-unit"),
        pytest.param("bytes 0-1", id="no-equals"),
    ],
)
def test_a_range_we_do_not_answer_gets_the_whole_file(site, header):
    response = serve(site).get("/static/data.bin", headers={"Range": header})
    assert response.status_code == 200
    assert response.data == DATA
    assert "Content-Range" not in response.headers


def test_head_ignores_range(site):
    response = serve(site).head("/static/data.bin", headers={"Range": "bytes=0-0"})
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(DATA))


def test_a_range_of_an_empty_file(site):
    static = serve(site)
    assert static.get("/static/empty.txt", headers={"Range": "bytes=0-0"}).status_code == 416
    suffix = static.get("/static/empty.txt", headers={"Range": "bytes=-1"})
    assert (suffix.status_code, suffix.data) == (200, b"")


@pytest.mark.parametrize(
    ("if_range", "status"),
    [
        pytest.param("{etag}", 206, id="same-etag"),
        pytest.param('"other"', 200, id="other-etag"),
        pytest.param("W/{etag}", 200, id="weak-etag-never-matches"),
        pytest.param("{date}", 206, id="same-date"),
        pytest.param("Wed, 15 Nov 2023 00:00:00 GMT", 200, id="other-date"),
        pytest.param("junk", 200, id="junk"),
    ],
)
def test_if_range(site, if_range, status):
    static = serve(site)
    etag = static.head("/static/data.bin").headers["ETag"]
    value = if_range.format(etag=etag, date=http_date(MTIME))
    response = static.get("/static/data.bin", headers={"Range": "bytes=0-9", "If-Range": value})
    assert response.status_code == status
    assert response.data == (DATA[:10] if status == 206 else DATA)


def test_a_range_applies_to_the_chosen_variant(site):
    packed = (site / "app.js.gz").read_bytes()
    response = serve(site).get("/static/app.js", headers={"Range": "bytes=0-9", "Accept-Encoding": "gzip"})
    assert response.status_code == 206
    assert response.data == packed[:10]
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.headers["Content-Range"] == f"bytes 0-9/{len(packed)}"


def test_if_none_match_comes_before_range(site):
    static = serve(site)
    etag = static.head("/static/data.bin").headers["ETag"]
    response = static.get("/static/data.bin", headers={"Range": "bytes=0-0", "If-None-Match": etag})
    assert response.status_code == 304


# -- bodies, wsgi.file_wrapper, close() ------------------------------------------------------------------


class FileWrapper:
    """A server's wsgi.file_wrapper that records what it was given."""

    made: list[FileWrapper] = []

    def __init__(self, file, block_size=8192):
        self.file, self.block_size = file, block_size
        FileWrapper.made.append(self)

    def __iter__(self):
        while chunk := self.file.read(self.block_size):
            yield chunk

    def close(self):
        self.file.close()


@pytest.fixture
def wrapper():
    FileWrapper.made = []
    return FileWrapper


def test_a_whole_file_goes_through_wsgi_file_wrapper(site, wrapper, opened):
    response = serve(site).get("/static/data.bin", environ_overrides={"wsgi.file_wrapper": wrapper})
    assert response.data == DATA
    assert len(wrapper.made) == 1
    assert wrapper.made[0].file is opened[0]
    assert opened[0].closed


def test_a_range_does_not_use_wsgi_file_wrapper(site, wrapper, opened):
    response = serve(site).get("/static/data.bin", headers={"Range": "bytes=5-9"},
                               environ_overrides={"wsgi.file_wrapper": wrapper})
    assert response.data == DATA[5:10]
    assert wrapper.made == []
    assert opened[0].closed


def test_without_a_file_wrapper_the_body_is_read_in_blocks(site, monkeypatch, opened):
    monkeypatch.setattr(static_module, "BLOCK_SIZE", 1000)
    layer = StaticFiles(fallback, mounts={"/static": str(site)})
    body = layer({"REQUEST_METHOD": "GET", "PATH_INFO": "/static/data.bin"}, lambda *args: None)
    chunks = list(body)
    body.close()
    assert [len(chunk) for chunk in chunks] == [1000] * 10 + [240]
    assert b"".join(chunks) == DATA
    assert opened[0].closed


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="whole"),
        pytest.param({"HTTP_RANGE": "bytes=0-5000"}, id="range"),
    ],
)
def test_a_client_that_goes_away_gets_the_file_closed(site, headers, opened):
    layer = StaticFiles(fallback, mounts={"/static": str(site)})
    body = layer({"REQUEST_METHOD": "GET", "PATH_INFO": "/static/data.bin", **headers}, lambda *args: None)
    next(iter(body))
    body.close()  # what a server does when the client disconnects
    assert len(opened) == 1 and opened[0].closed


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="whole"),
        pytest.param({"HTTP_RANGE": "bytes=0-5"}, id="range"),
        pytest.param({"wsgi.file_wrapper": FileWrapper}, id="file-wrapper"),
    ],
)
def test_a_start_response_that_raises_leaves_no_file_open(site, headers, opened):
    def broken(status, headers, exc_info=None):
        raise RuntimeError("the server failed")

    layer = StaticFiles(fallback, mounts={"/static": str(site)})
    with pytest.raises(RuntimeError):
        layer({"REQUEST_METHOD": "GET", "PATH_INFO": "/static/data.bin", **headers}, broken)
    assert len(opened) == 1 and opened[0].closed


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        pytest.param("HEAD", {}, id="head"),
        pytest.param("GET", {"If-Modified-Since": "Wed, 15 Nov 2023 00:00:00 GMT"}, id="304"),
        pytest.param("GET", {"If-Match": '"other"'}, id="412"),
        pytest.param("GET", {"Range": "bytes=99999-"}, id="416"),
    ],
)
def test_answers_without_a_body_open_no_file(site, method, headers, opened):
    serve(site).open("/static/data.bin", method=method, headers=headers)
    assert opened == []


def test_a_file_that_shrank_ends_early_instead_of_hanging(site, opened):
    layer = StaticFiles(fallback, mounts={"/static": str(site)})
    (site / "data.bin").write_bytes(b"short")
    body = layer({"REQUEST_METHOD": "GET", "PATH_INFO": "/static/data.bin"}, lambda *args: None)
    assert b"".join(body) == b"short"
    body.close()
    assert opened[0].closed
