"""Proxy in a server process of its own (gunicorn) between real clients and real upstreams.

What only a real server shows: 20 MB streamed up and down intact while the proxy
worker's memory (``VmRSS`` in ``/proc/<pid>/status``) grows by less than 20 MB, a
chunked request body decoded by the server and sent on chunked, and a client that
goes away closing the upstream response.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import require
from support import ROOT, Process, free_port
from test_proxy import Upstream
from upstream import BLOCK, pattern

require("gunicorn")

SIZE = 20 * 1024 * 1024
MEMORY_LIMIT_KB = 20 * 1024


class ProxyServer(Process):
    """``upstream:proxied()`` (a Proxy routing ``/api``) under gunicorn gthread, one worker."""

    def __init__(self, urls: list[str], **env: str) -> None:
        self.port = free_port()
        super().__init__([sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads", "4",
                          "--bind", f"127.0.0.1:{self.port}", "--graceful-timeout", "1",
                          "--pythonpath", str(ROOT / "tests" / "middleware"), "upstream:proxied()"],
                         env={"PROXY_UPSTREAMS": ",".join(urls), **env},
                         wait_for=("127.0.0.1", self.port), timeout=20)

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def worker_memory_kb(self, field: str = "VmHWM") -> int:
        """The worker's peak (``VmHWM``) or current (``VmRSS``) resident memory, from ``/proc``."""
        connection = self.connection()
        try:
            connection.request("GET", "/_pid")
            pid = int(connection.getresponse().read())
        finally:
            connection.close()
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise AssertionError(f"no {field} for {pid}")


@pytest.fixture(scope="module")
def upstream():
    started = Upstream("one")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def proxy(upstream):
    server = ProxyServer([upstream.url])
    yield server
    server.stop()


def upload(proxy: ProxyServer, chunked: bool, size: int = SIZE) -> dict:
    """POST *size* bytes of the pattern in blocks: with Content-Length, or chunked."""
    connection = proxy.connection()
    try:
        headers = {"Content-Type": "application/octet-stream"}
        if not chunked:
            headers["Content-Length"] = str(size)
        connection.request("POST", "/api/echo", body=pattern(size), headers=headers, encode_chunked=chunked)
        response = connection.getresponse()
        assert response.status == 200
        return json.loads(response.read())
    finally:
        connection.close()


def download(proxy: ProxyServer, chunked: bool, size: int = SIZE) -> tuple[str, int, str | None]:
    """GET *size* bytes, read and hashed in blocks: ``(sha256, length, Content-Length)``."""
    connection = proxy.connection()
    try:
        connection.request("GET", f"/api/download?size={size}" + ("&chunked=1" if chunked else ""))
        response = connection.getresponse()
        assert response.status == 200
        digest, length = hashlib.sha256(), 0
        while block := response.read(BLOCK):
            digest.update(block)
            length += len(block)
        return digest.hexdigest(), length, response.getheader("Content-Length")
    finally:
        connection.close()


def expected_sha256() -> str:
    digest = hashlib.sha256()
    for block in pattern(SIZE):
        digest.update(block)
    return digest.hexdigest()


def test_20_mb_up_and_down_intact_with_bounded_memory(proxy):
    for chunked in (False, True):  # warm up every path (imports, pools) with small bodies
        upload(proxy, chunked, size=4 * BLOCK)
        download(proxy, chunked, size=4 * BLOCK)
    before = {field: proxy.worker_memory_kb(field) for field in ("VmHWM", "VmRSS")}
    sha256 = expected_sha256()
    for chunked in (False, True):
        answer = upload(proxy, chunked)
        assert (answer["sha256"], answer["length"]) == (sha256, SIZE)
        assert ("Transfer-Encoding" in answer["headers"]) is chunked
        assert download(proxy, chunked) == (sha256, SIZE, None if chunked else str(SIZE))
    # The peak, not only the memory now: a body buffered whole and freed shows in VmHWM.
    grown = {field: proxy.worker_memory_kb(field) - kb for field, kb in before.items()}
    print(f"proxy worker memory growth over 4 x 20 MB: {grown} kB")
    assert grown["VmHWM"] < MEMORY_LIMIT_KB, f"the proxy worker's peak memory grew by {grown} kB"
    assert grown["VmRSS"] < MEMORY_LIMIT_KB, f"the proxy worker grew by {grown} kB"


def test_a_chunked_request_body_goes_on_chunked(proxy):
    def blocks() -> Iterator[bytes]:
        yield from (b"part %d;" % i for i in range(1000))

    connection = proxy.connection()
    try:
        connection.request("PUT", "/api/echo", body=blocks(), encode_chunked=True)
        answer = json.loads(connection.getresponse().read())
    finally:
        connection.close()
    data = b"".join(blocks())
    assert answer["headers"]["Transfer-Encoding"] == "chunked"
    assert (answer["sha256"], answer["length"]) == (hashlib.sha256(data).hexdigest(), len(data))


def test_a_client_going_away_closes_the_upstream_response(proxy, upstream):
    closed_before = upstream.output().count("one: closed after")
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as client:
        client.sendall(b"GET /api/stream?delay=0.005 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        received = b""
        while len(received) < 4 * BLOCK:
            received += client.recv(BLOCK)
        assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    deadline = time.monotonic() + 15
    while upstream.output().count("one: closed after") == closed_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert upstream.output().count("one: closed after") == closed_before + 1
    # and the proxy still serves
    connection = proxy.connection()
    try:
        connection.request("GET", "/api/echo")
        assert json.loads(connection.getresponse().read())["id"] == "one"
    finally:
        connection.close()
