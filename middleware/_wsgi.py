"""What every layer needs, written once: start_response wrapping, closing, prefixes, rewriting.

- :func:`rewrite_start_response`: look at or change the status and headers on their
  way out, forwarding ``exc_info`` (PEP 3333).
- :class:`ClosingIterator`: pass a body through and call the inner iterable's
  ``close()`` exactly once, however the server ends the response.
- :func:`path_matches` and :class:`PrefixMap`: path prefixes at segment boundaries.
- :class:`ResponseRewriter`: a base for layers that rewrite some response bodies. It
  buffers a response only when :meth:`~ResponseRewriter.wants` says it will be
  rewritten, and fixes ``Content-Length``, ``ETag``, ``Accept-Ranges`` and the
  digests after the rewrite; every other response streams through untouched.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import Headers

from framework.compat import headers_from_pairs
from framework.mounting import PrefixMap, path_matches

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "ClosingIterator", "PrefixMap", "ResponseRewriter", "close_iterable", "fix_rewritten_headers",
    "headers_of", "path_matches", "rewrite_start_response",
]

HeaderList = list[tuple[str, str]]
_NO_BODY_STATUS = ("1", "204", "304")


def rewrite_start_response(
    start_response: StartResponse,
    rewrite: Callable[[str, HeaderList], tuple[str, HeaderList]],
) -> StartResponse:
    """A ``start_response`` that passes status and headers through *rewrite* first.

    ``exc_info`` is forwarded as given, so an inner app's error after the headers
    were sent still reaches the server (PEP 3333, "Error Handling").
    """

    def wrapped(status: str, headers: HeaderList, exc_info: OptExcInfo | None = None) -> Any:
        status, headers = rewrite(status, headers)
        return start_response(status, headers, exc_info)

    return wrapped  # type: ignore[return-value]


class ClosingIterator:
    """Yield *first* then the rest of *iterable*; ``close()`` it exactly once.

    :param iterable: The inner app's response iterable.
    :param callbacks: Called once after the inner ``close()``, even if it raised.
    :param first: Chunks already taken from *iterable*, sent before the rest.
    """

    __slots__ = ("_iterable", "_iterator", "_callbacks", "_closed")

    def __init__(self, iterable: Iterable[bytes], *callbacks: Callable[[], Any],
                 first: Iterable[bytes] = ()) -> None:
        self._iterable = iterable
        self._iterator = itertools.chain(first, iterable) if first else iter(iterable)
        self._callbacks = callbacks
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return next(self._iterator)

    def close(self) -> None:
        """Close the inner iterable (once), then run the callbacks."""
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._iterable, "close", None)
            if close is not None:
                close()
        finally:
            for callback in self._callbacks:
                callback()


def close_iterable(iterable: Iterable[bytes]) -> None:
    """Call ``iterable.close()`` if it has one (PEP 3333: the server's duty, now ours)."""
    close = getattr(iterable, "close", None)
    if close is not None:
        close()


_STALE_AFTER_REWRITE = frozenset(("content-length", "content-md5", "content-digest", "repr-digest",
                                  "digest", "accept-ranges", "content-range"))


def fix_rewritten_headers(headers: Headers, length: int | None, etag: str = "weaken") -> None:
    """Make *headers* true of a rewritten body of *length* bytes (``None``: unknown).

    The body is a new representation (RFC 9110 8.8.3): a strong ``ETag`` no longer
    holds, so it is made weak (``etag="weaken"``, the same content transformed the
    same way) or dropped (``etag="drop"``); digests and ``Content-MD5`` are dropped;
    byte ranges of the old body do not apply (``Accept-Ranges`` and
    ``Content-Range`` go); ``Content-Length`` is the new length, or absent.
    """
    kept = []
    for name, value in headers.to_wsgi_list():
        lower = name.lower()
        if lower in _STALE_AFTER_REWRITE:
            continue
        if lower == "etag":
            if etag == "drop":
                continue
            if not value.startswith("W/"):
                value = "W/" + value
        kept.append((name, value))
    if length is not None:
        kept.append(("Content-Length", str(length)))
    headers.clear()
    headers.extend(kept)


def headers_of(pairs: HeaderList) -> Headers:
    """A Werkzeug ``Headers`` view of a WSGI header list, without re-validating each pair.

    The pairs come from a WSGI app (and the server checks them again); Werkzeug's own
    constructor would check every one, which costs more than most layers' work.
    """
    return headers_from_pairs(list(pairs))


class _Capture:
    """The ``start_response`` given to the inner app.

    It holds the response until the layer has decided, then passes every later call
    (an error's ``exc_info``, writes) straight to the server's.
    """

    __slots__ = ("status", "headers", "exc_info", "written", "write", "restarted", "server")

    def __init__(self) -> None:
        self.status: str | None = None
        self.headers: HeaderList = []
        self.exc_info: OptExcInfo | None = None
        self.written: list[bytes] = []
        #: Where the app's write() goes: buffered until the layer decides.
        self.write: Callable[[bytes], Any] = self.written.append
        #: Set when the app started over with exc_info: what it sent before is void.
        self.restarted = False
        self.server: StartResponse | None = None

    def __call__(self, status: str, headers: HeaderList, exc_info: OptExcInfo | None = None) -> Any:
        if self.server is not None:  # already sent on: PEP 3333 error handling is the server's
            return self.server(status, headers, exc_info)
        if self.status is not None:
            if exc_info is None:
                raise AssertionError("start_response called twice without exc_info (PEP 3333)")
            self.restarted = True
            self.written.clear()
        self.status, self.headers, self.exc_info = status, headers, exc_info
        return self.forward_write

    def forward_write(self, data: bytes) -> Any:
        return self.write(data)

    def send(self, start_response: StartResponse, status: str, headers: HeaderList) -> None:
        """Start the response at the server; later calls and writes go straight there."""
        write = start_response(status, headers, self.exc_info)
        self.server = start_response
        for data in self.written:
            write(data)
        self.write = write

    def collect(self, first: list[bytes], iterable: Iterable[bytes]) -> list[bytes]:
        """The whole body: what was written, *first*, the rest; minus what an error voided."""
        chunks = [*self.written, *first]
        for chunk in iterable:
            if self.restarted:
                self.restarted = False
                chunks = [*self.written]
            chunks.append(chunk)
        return chunks


class ResponseRewriter:
    """A base for layers that rewrite some responses (XSLT, compression, error pages).

    A subclass says which responses it rewrites with :meth:`wants`, looking only at
    the request, status and headers, and rewrites them in :meth:`rewrite` (the whole
    body) or :meth:`rewrite_stream` (chunk by chunk). A response it does not want
    is never buffered: it streams through, and its iterable is closed exactly once.

    ::

        class Upper(ResponseRewriter):
            def wants(self, environ, status, headers):
                return headers.get("Content-Type", "").startswith("text/plain")

            def rewrite(self, environ, status, headers, body):
                return status, body.upper()

    :param app: The WSGI application to wrap.
    """

    #: What becomes of a strong ``ETag`` after a rewrite: ``"weaken"`` or ``"drop"``.
    etag = "weaken"

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def wants(self, environ: WSGIEnvironment, status: str, headers: Headers) -> bool | str:
        """Whether to rewrite this response: ``"buffer"`` (or ``True``), ``"stream"``, or false.

        ``"buffer"`` rewrites the whole body at once, ``"stream"`` chunk by chunk; false
        passes the response through. Responses that have no body (1xx, 204, 304) and
        partial ones (206) are never offered.
        """
        return False

    def rewrite(self, environ: WSGIEnvironment, status: str, headers: Headers,
                body: bytes) -> tuple[str, bytes]:
        """Return the new status and body; change *headers* in place if needed."""
        return status, body

    def rewrite_stream(self, environ: WSGIEnvironment, status: str, headers: Headers,
                       chunks: Iterator[bytes]) -> Iterable[bytes]:
        """Return the new body as an iterable, rewriting *chunks* as they come."""
        return chunks

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Call the inner app; rewrite its response if :meth:`wants` says so."""
        capture = _Capture()
        iterable = self.app(environ, capture)
        first: list[bytes] = []
        try:
            if capture.status is None:  # PEP 3333 lets an app start at its first chunk
                for chunk in iterable:
                    first.append(chunk)
                    if capture.status is not None:
                        break
            if capture.status is None:
                raise AssertionError("the application returned without calling start_response")
            status = capture.status
            mode: bool | str = False
            if not status.startswith(_NO_BODY_STATUS) and not status.startswith("206"):
                headers = headers_of(capture.headers)
                mode = self.wants(environ, status, headers)
        except BaseException:
            close_iterable(iterable)
            raise
        if not mode:
            try:
                capture.send(start_response, status, capture.headers)
            except BaseException:
                close_iterable(iterable)
                raise
            # Nothing read ahead: the body goes out as the app returned it (the server
            # closes it, and sees a wsgi.file_wrapper for what it is).
            return ClosingIterator(iterable, first=first) if first else iterable
        inner = ClosingIterator(iterable)  # its close() runs once, whoever calls it first
        try:
            return self._rewritten(environ, start_response, capture, headers, inner, first, mode)
        except BaseException:
            inner.close()
            raise

    def _rewritten(self, environ: WSGIEnvironment, start_response: StartResponse, capture: _Capture,
                   headers: Headers, iterable: ClosingIterator, first: list[bytes],
                   mode: bool | str) -> Iterable[bytes]:
        """Rewrite the response; the caller closes *iterable* if this raises."""
        status = capture.status or "500 Internal Server Error"
        if environ.get("REQUEST_METHOD") == "HEAD":  # no body to rewrite: only headers
            iterable.close()
            fix_rewritten_headers(headers, None, self.etag)
            capture.send(start_response, status, headers.to_wsgi_list())
            return []
        if mode == "stream":
            stream = itertools.chain(capture.written, first, iterable)
            capture.written = []
            body = self.rewrite_stream(environ, status, headers, stream)
            fix_rewritten_headers(headers, None, self.etag)
            capture.send(start_response, status, headers.to_wsgi_list())
            return ClosingIterator(body, iterable.close)
        try:
            chunks = capture.collect(first, iterable)
        finally:
            iterable.close()
        capture.written = []
        if capture.exc_info is not None:  # the app failed and started over: send its error as is
            capture.send(start_response, capture.status or status, capture.headers)
            return chunks
        status, data = self.rewrite(environ, status, headers, b"".join(chunks))
        fix_rewritten_headers(headers, len(data), self.etag)
        capture.send(start_response, status, headers.to_wsgi_list())
        return [data]
