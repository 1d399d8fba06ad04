"""StaticFiles under a real gunicorn: a 5 MB file intact, ranges by curl, zero-copy proven.

A module written to a temporary folder (``SERVED`` below) wraps ``StaticFiles`` over a
folder holding a 5 MB file of random bytes, and gunicorn (one sync worker) serves it on
a free port. The module records, in a marker file, every ``wsgi.file_wrapper`` object
built (it puts a subclass of gunicorn's own ``FileWrapper`` in the environ, so gunicorn
still recognises the body), whether the layer's answer is one, and every
``socket.sendfile`` gunicorn makes: a download that went through the file wrapper and
out by ``sendfile(2)`` leaves all three lines.
"""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import Process, free_port, require_module, require_program

require_module("gunicorn")
require_module("httpx")

import httpx  # noqa: E402

SIZE = 5 * 1024 * 1024
NAME = "big.bin"

#: The served module: StaticFiles around a hello app, recording how bodies leave.
SERVED = '''\
"""StaticFiles over STATIC_ROOT at /static, recording file wrappers and sendfile calls."""

import functools
import os
import socket

from middleware.static import StaticFiles

MARKER = os.environ["STATIC_MARKER"]


def record(line):
    with open(MARKER, "a", encoding="utf-8") as marker:
        marker.write(line + "\\n")


_sendfile = socket.socket.sendfile


def sendfile(self, file, offset=0, count=None):
    """gunicorn's zero-copy path (socket.sendfile, os.sendfile underneath), recorded."""
    record(f"sendfile {offset} {count}")
    return _sendfile(self, file, offset, count)


socket.socket.sendfile = sendfile


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


static = StaticFiles(hello, mounts={"/static": os.environ["STATIC_ROOT"]}, max_age=60)


@functools.cache
def recording(server_wrapper):
    """A subclass of the server's file wrapper that records each file it wraps."""

    class Recorded(server_wrapper):
        def __init__(self, filelike, *args):
            record(f"file_wrapper {getattr(filelike, 'name', '?')} fileno={filelike.fileno()}")
            super().__init__(filelike, *args)

    return Recorded


def application(environ, start_response):
    server_wrapper = environ.get("wsgi.file_wrapper")
    if server_wrapper is not None:
        environ["wsgi.file_wrapper"] = recording(server_wrapper)
    body = static(environ, start_response)
    what = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} {environ.get('HTTP_RANGE', '-')}"
    record(f"returned {what} {type(body).__name__} "
           f"{server_wrapper is not None and isinstance(body, server_wrapper)}")
    return body
'''


class Gunicorn(Process):
    """The served module under gunicorn (one sync worker) on a free port of 127.0.0.1."""

    def __init__(self, folder: Path, root: Path, marker: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
                          "--workers", "1", "--graceful-timeout", "2", "--timeout", "30",
                          "--pythonpath", str(folder), "static_served:application"],
                         env={"STATIC_ROOT": str(root), "STATIC_MARKER": str(marker)},
                         wait_for=("127.0.0.1", self.port), timeout=20)


class Site:
    """The running server, the file's bytes and the marker file."""

    def __init__(self, server: Gunicorn, data: bytes, marker: Path) -> None:
        self.server = server
        self.data = data
        self.marker = marker
        self.url = f"{server.url}/static/{NAME}"

    def records(self) -> list[str]:
        """The marker's lines so far, then an empty marker for the next test."""
        lines = self.marker.read_text(encoding="utf-8").splitlines() if self.marker.exists() else []
        self.marker.write_text("", encoding="utf-8")
        return lines


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("static-gunicorn")
    root = folder / "public"
    root.mkdir()
    data = random.Random(10).randbytes(SIZE)
    (root / NAME).write_bytes(data)
    (folder / "static_served.py").write_text(SERVED, encoding="utf-8")
    marker = folder / "marker.txt"
    server = Gunicorn(folder, root, marker)
    try:
        yield Site(server, data, marker)
    finally:
        server.stop()


def test_httpx_streams_the_whole_file_intact_through_file_wrapper_and_sendfile(site: Site) -> None:
    site.records()
    digest = hashlib.sha256()
    received = 0
    with httpx.stream("GET", site.url, headers={"Accept-Encoding": "identity"}, timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-length"] == str(SIZE)
        assert "content-encoding" not in response.headers
        for chunk in response.iter_raw():
            digest.update(chunk)
            received += len(chunk)
    assert received == SIZE
    assert digest.hexdigest() == hashlib.sha256(site.data).hexdigest()
    lines = site.records()
    # The layer built the server's file wrapper over the real file, returned it, and
    # gunicorn sent the whole file with sendfile(2).
    assert any(line.startswith("file_wrapper ") and line.split()[1].endswith(f"/public/{NAME}")
               for line in lines), lines
    assert f"returned GET /static/{NAME} - Recorded True" in lines
    assert f"sendfile 0 {SIZE}" in lines


def test_head_sends_the_headers_and_no_body(site: Site) -> None:
    response = httpx.head(site.url, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-length"] == str(SIZE)
    assert response.content == b""


def test_a_miss_falls_through_to_the_app(site: Site) -> None:
    response = httpx.get(f"{site.server.url}/static/missing.bin", timeout=30)
    assert (response.status_code, response.content) == (200, b"hello")


def curl(site: Site, tmp_path: Path, *args: str) -> tuple[list[str], bytes]:
    """``curl -s`` the file with *args*: the response's header lines and its body."""
    program = require_program("curl", "apt-get install curl")
    headers, body = tmp_path / "headers.txt", tmp_path / "body.bin"
    subprocess.run([program, "-s", "--max-time", "30", "-D", str(headers), "-o", str(body), *args,
                    site.url], check=True)
    return headers.read_text(encoding="latin-1").splitlines(), body.read_bytes()


def header(lines: list[str], name: str) -> str | None:
    """The value of the header *name* (case-insensitive) among raw header *lines*."""
    for line in lines[1:]:
        field, _, value = line.partition(":")
        if field.strip().lower() == name.lower():
            return value.strip()
    return None


@pytest.mark.parametrize(
    ("range_", "first", "last"),
    [
        pytest.param("1000-2999", 1000, 2999, id="bytes=1000-2999"),
        pytest.param("-500", SIZE - 500, SIZE - 1, id="suffix-bytes=-500"),
        pytest.param("0-0", 0, 0, id="first-byte"),
        pytest.param(f"{SIZE - 10}-", SIZE - 10, SIZE - 1, id="open-ended"),
    ],
)
def test_curl_range_gets_206_with_the_exact_bytes(site: Site, tmp_path: Path, range_: str,
                                                  first: int, last: int) -> None:
    lines, body = curl(site, tmp_path, "--range", range_)
    assert lines[0].split()[1] == "206", lines
    assert header(lines, "Content-Range") == f"bytes {first}-{last}/{SIZE}"
    assert header(lines, "Content-Length") == str(last - first + 1)
    assert header(lines, "Accept-Ranges") == "bytes"
    assert body == site.data[first:last + 1]


def test_curl_unsatisfiable_range_gets_416(site: Site, tmp_path: Path) -> None:
    lines, _ = curl(site, tmp_path, "--range", f"{SIZE}-{SIZE + 10}")
    assert lines[0].split()[1] == "416", lines
    assert header(lines, "Content-Range") == f"bytes */{SIZE}"


def test_curl_whole_download_is_intact(site: Site, tmp_path: Path) -> None:
    lines, body = curl(site, tmp_path)
    assert lines[0].split()[1] == "200", lines
    assert hashlib.sha256(body).digest() == hashlib.sha256(site.data).digest()


def test_revalidation_with_the_etag_gets_304_with_the_same_caching_headers(site: Site) -> None:
    first = httpx.get(site.url, timeout=30)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"') and etag.endswith('"')
    for conditional in ({"If-None-Match": etag}, {"If-None-Match": f'W/{etag}, "other"'},
                        {"If-Modified-Since": modified}):
        again = httpx.get(site.url, headers=conditional, timeout=30)
        assert again.status_code == 304, conditional
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == first.headers["cache-control"]
    changed = httpx.get(site.url, headers={"If-None-Match": '"not-this-one"'}, timeout=30)
    assert changed.status_code == 200
    assert hashlib.sha256(changed.content).digest() == hashlib.sha256(site.data).digest()
