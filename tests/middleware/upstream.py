"""Upstream servers for the Proxy tests and bench, each answering with its own id.

Three ways to run it (the tests start them as processes on free ports):

- ``gunicorn -k gthread --pythonpath tests/middleware upstream:app`` with ``UPSTREAM_ID``:
  the upstream WSGI app. The last path segment picks what it does: ``echo`` (any
  other name too) answers JSON with its id, the method, the raw path, the query, the
  headers it got and the SHA-256 and length of the body; ``slow?seconds=S`` sleeps
  first; ``download?size=N[&chunked=1]`` streams N bytes of :func:`pattern`;
  ``stream?delay=S`` streams blocks forever, logging ``closed after N blocks`` when
  closed; ``redirect?to=URL`` answers 302; ``cookie?set=...`` sets cookies;
  ``headers?h=Name:Value`` adds headers.
- ``gunicorn ... 'upstream:proxied()'`` with ``PROXY_UPSTREAMS`` (comma-separated URLs),
  ``PROXY_TIMEOUT`` and ``PROXY_STRIP``: a ``Proxy`` routing ``/api`` to them around an
  app answering ``/_pid`` with the worker's process id (``PROXY_KIND=werkzeug``:
  Werkzeug's ``ProxyMiddleware`` instead, for bench/proxy.py).
- ``python upstream.py raw PORT ID``: a bare ``http.server`` upstream that sends any
  header the query asks for (``?h=Connection:X-Secret&h=X-Secret:1``), hop-by-hop ones
  too (WSGI servers refuse or drop those); ``?short`` promises 100000 bytes, sends 10
  and hangs up.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl

BLOCK = 64 * 1024
IDENTITY = os.environ.get("UPSTREAM_ID", "upstream")


def pattern(size: int) -> Iterator[bytes]:
    """*size* bytes of a deterministic pattern, in blocks of 64 KiB (the tests hash it too)."""
    index = 0
    while size > 0:
        block = (hashlib.sha256(index.to_bytes(8, "big")).digest() * (BLOCK // 32))[:size]
        size -= len(block)
        index += 1
        yield block


class Endless:
    """Blocks every *delay* seconds until closed; the close is logged (the test waits for it)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        while True:
            time.sleep(self.delay)
            self.sent += 1
            yield b"x" * BLOCK

    def close(self) -> None:
        print(f"{IDENTITY}: closed after {self.sent} blocks", flush=True)


def app(environ, start_response):
    """The upstream WSGI app (see the module docstring)."""
    action = environ.get("PATH_INFO", "").rsplit("/", 1)[-1]
    query = parse_qs(environ.get("QUERY_STRING", ""))
    digest, length = hashlib.sha256(), 0
    stream = environ["wsgi.input"]
    while block := stream.read(BLOCK):
        digest.update(block)
        length += len(block)
    if action == "download":
        size = int(query["size"][0])
        headers = [("Content-Type", "application/octet-stream")]
        if not query.get("chunked"):
            headers.append(("Content-Length", str(size)))
        start_response("200 OK", headers)
        return pattern(size)
    if action == "stream":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return Endless(float(query.get("delay", ["0.01"])[0]))
    if action == "slow":
        time.sleep(float(query["seconds"][0]))
    status, headers = "200 OK", [("Content-Type", "application/json")]
    if action == "redirect":
        status = "302 Found"
        headers.append(("Location", query["to"][0]))
    for cookie in query.get("set", []):
        headers.append(("Set-Cookie", cookie))
    for header in query.get("h", []):
        name, _, value = header.partition(":")
        headers.append((name, value))
    received = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
                if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            received[key.replace("_", "-").title()] = environ[key]
    body = json.dumps({
        "id": IDENTITY, "method": environ["REQUEST_METHOD"],
        "path": environ.get("RAW_URI", "").partition("?")[0] or environ.get("PATH_INFO", ""),
        "query": environ.get("QUERY_STRING", ""), "headers": received,
        "sha256": digest.hexdigest(), "length": length,
    }).encode()
    start_response(status, [*headers, ("Content-Length", str(len(body)))])
    return [body]


def proxied():
    """A gunicorn app factory: ``Proxy`` from ``PROXY_*`` variables around a ``/_pid`` app."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from middleware.proxy import Proxy

    def inner(environ, start_response):
        body = str(os.getpid()).encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    urls = os.environ["PROXY_UPSTREAMS"].split(",")
    if os.environ.get("PROXY_KIND") == "werkzeug":  # the bench's peer: one upstream, prefix kept
        from werkzeug.middleware.http_proxy import ProxyMiddleware

        return ProxyMiddleware(inner, {"/api/": {"target": urls[0] + "/api/"}})
    return Proxy(inner, routes={"/api": urls}, timeout=float(os.environ.get("PROXY_TIMEOUT", "10")),
                 strip_prefix=os.environ.get("PROXY_STRIP") == "1")


class RawHandler(BaseHTTPRequestHandler):
    """Answers every request with the headers its query names, hop-by-hop ones included."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        query = self.path.partition("?")[2]
        if query == "short":  # promises 100000 bytes, sends 10, hangs up
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.close_connection = True
            return
        body = json.dumps({"id": IDENTITY, "path": self.path, "headers": dict(self.headers)}).encode()
        self.send_response(200)
        for key, value in parse_qsl(query):
            if key == "h":
                name, _, content = value.partition(":")
                self.send_header(name, content)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


if __name__ == "__main__" and sys.argv[1:2] == ["raw"]:
    IDENTITY = sys.argv[3]
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), RawHandler).serve_forever()
