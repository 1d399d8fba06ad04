"""The toolkit for writing a layer: what every layer needs, written once and tested.

Import from here, never from a private module (``docs/middleware.md`` shows each name)::

    from middleware.toolkit import ClosingIterator, PathScope, rewrite_start_response

- Status and headers on their way out: :func:`rewrite_start_response`, :func:`headers_of`.
- Bodies closed exactly once: :class:`ClosingIterator`, :func:`close_iterable`.
- Path prefixes at segment boundaries: :func:`path_matches`, :class:`PrefixMap`,
  :class:`PathScope` (a layer's ``protect``/``exempt`` lists).
- HTTP errors answered as the framework does: :func:`error_app`, :func:`wants_json`.
- Rewriting some bodies, streaming the rest untouched: :class:`ResponseRewriter`,
  :class:`Rewrite`, :class:`ETagPolicy`, :func:`fix_rewritten_headers`.
"""

from __future__ import annotations

import enum
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal

from werkzeug.datastructures import Headers

from framework.compat import headers_from_pairs, headers_list
from framework.errors import error_app, wants_json
from framework.mounting import PrefixMap, normalize_prefix, path_matches

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "ClosingIterator", "ETagPolicy", "PathScope", "PrefixMap", "ResponseRewriter", "Rewrite",
    "accepted_codings", "add_vary", "close_iterable", "error_app", "fix_rewritten_headers", "headers_of",
    "is_preflight", "path_matches", "rewrite_start_response", "vary_covers", "wants_json",
]

_HeaderList = list[tuple[str, str]]
# Responses a rewriter is never offered: no body (1xx, 204, 304) or only part of one (206).
_NOT_OFFERED = ("1", "204", "206", "304")


def rewrite_start_response(
    start_response: StartResponse,
    rewrite: Callable[[str, _HeaderList], tuple[str, _HeaderList]],
) -> StartResponse:
    """A ``start_response`` that passes status and headers through *rewrite* first.

    ::

        def add_header(status, headers):
            return status, [*headers, ("X-Frame-Options", "DENY")]

        return self.app(environ, rewrite_start_response(start_response, add_header))

    ``exc_info`` is forwarded as given, so an inner app's error after the headers
    were sent still reaches the server (PEP 3333, "Error Handling").

    :param start_response: The server's (or the outer layer's) ``start_response``.
    :param rewrite: ``rewrite(status, headers) -> (status, headers)``.
    """

    def wrapped(status: str, headers: _HeaderList, exc_info: OptExcInfo | None = None) -> Any:
        status, headers = rewrite(status, headers)
        return start_response(status, headers, exc_info)

    return wrapped  # type: ignore[return-value]


class ClosingIterator:
    """Yield *first* then the rest of *iterable*; ``close()`` it exactly once.

    ::

        return ClosingIterator(self.app(environ, start_response), lambda: log("done"))

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
    """Call ``iterable.close()`` if it has one: the server's duty (PEP 3333), now the layer's.

    For a layer that answers by itself after calling the inner app (and so drops the
    inner body), or that fails after the inner app returned.
    """
    close = getattr(iterable, "close", None)
    if close is not None:
        close()


def headers_of(pairs: _HeaderList) -> Headers:
    """A Werkzeug ``Headers`` over a copy of a WSGI header list, without re-validating each pair.

    ::

        headers = headers_of(headers)           # in a rewrite_start_response callback
        if headers.get("Content-Type", "").startswith("text/html"): ...

    The pairs come from a WSGI app (and the server checks them again); Werkzeug's own
    constructor would check every one, which costs more than most layers' work.
    Changing the ``Headers`` does not change *pairs*.
    """
    return headers_from_pairs(list(pairs))


def is_preflight(environ: WSGIEnvironment) -> bool:
    """Whether the request is a CORS preflight (``OPTIONS`` with ``Access-Control-Request-Method``).

    Browsers send it on their own, without credentials (Fetch standard, "CORS-preflight
    request"), so the auth and rate-limit layers let it through.
    """
    return environ.get("REQUEST_METHOD") == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ


def _prefix_list(option: str, prefixes: Iterable[str]) -> list[str]:
    """*prefixes* as a list, refusing a lone string and a prefix without a leading ``/``."""
    if isinstance(prefixes, str) or not isinstance(prefixes, Iterable):
        raise TypeError(f"{option} must be a list of path prefixes, e.g. ['/admin'], not {prefixes!r}.")
    checked = list(prefixes)
    for prefix in checked:
        if not isinstance(prefix, str) or not prefix.startswith("/"):
            raise ValueError(f"Each {option} prefix must start with '/', e.g. '/admin', not {prefix!r}.")
    return checked


class PathScope:
    """The paths a layer acts on: the ``protect`` prefixes minus the ``exempt`` ones.

    ::

        scope = PathScope(protect=["/admin"], exempt=["/admin/login"])
        scope.covers("/admin/users")     # True
        scope.covers("/admin/login")     # False
        scope.covers("/administrator")   # False: prefixes match at segment boundaries
        PathScope(exempt=["/health"]).covers("/api")   # True: protect=None is every path

    The longest prefix that matches decides, whichever list it is in, so an exempt
    prefix inside a protected one is left alone and a protected prefix inside an
    exempt one is protected again. A prefix in both lists is a ``ValueError``.

    :param protect: Path prefixes to act on; ``None``: every path.
    :param exempt: Path prefixes to leave alone.
    """

    __slots__ = ("protect", "exempt", "_rules")

    def __init__(self, *, protect: Iterable[str] | None = None, exempt: Iterable[str] = ()) -> None:
        self.protect = None if protect is None else tuple(_prefix_list("protect", protect))
        self.exempt = tuple(_prefix_list("exempt", exempt))
        covered = ("/",) if self.protect is None else self.protect
        self._rules: PrefixMap[bool] = PrefixMap(dict.fromkeys(covered, True))
        for prefix in self.exempt:
            if normalize_prefix(prefix) in self._rules.items:
                raise ValueError(f"{prefix!r} is both protected and exempt; keep it in one list.")
            self._rules[prefix] = False

    def covers(self, path: str) -> bool:
        """Whether the layer acts on *path* (a PEP 3333 ``PATH_INFO``)."""
        found = self._rules.find(path)
        return found is not None and found[1]

    def __repr__(self) -> str:
        return f"PathScope(protect={self.protect!r}, exempt={self.exempt!r})"


class Rewrite(enum.Enum):
    """How a :class:`ResponseRewriter` rewrites a response: what its ``wants()`` returns.

    (On Python 3.11 reading ``Rewrite.BUFFER`` costs about 0.15 µs, 3.12 made it cheap;
    a layer may keep the member in a module constant, ``BUFFER = Rewrite.BUFFER``.)
    """

    #: The whole body at once, in ``rewrite()``; ``Content-Length`` is recomputed.
    BUFFER = "buffer"
    #: Chunk by chunk as they come, in ``rewrite_stream()``; never buffered, no ``Content-Length``.
    STREAM = "stream"


class ETagPolicy(enum.Enum):
    """What becomes of a strong ``ETag`` once the body is rewritten (RFC 9110 8.8.3)."""

    #: Keep it as a weak one: the same content, transformed the same way (a compressor).
    WEAKEN = "weaken"
    #: Remove it: the new body does not follow from the old one alone (it depends on the request).
    DROP = "drop"


# Members read on every response, kept in constants (see Rewrite).
_STREAM, _DROP = Rewrite.STREAM, ETagPolicy.DROP
_STALE_AFTER_REWRITE = frozenset(("content-length", "content-md5", "content-digest", "repr-digest",
                                  "digest", "accept-ranges", "content-range"))


def fix_rewritten_headers(headers: Headers, length: int | None,
                          etag: ETagPolicy = ETagPolicy.WEAKEN) -> None:
    """Make *headers* true of a rewritten body of *length* bytes (``None``: unknown).

    ::

        fix_rewritten_headers(headers, len(new_body), ETagPolicy.DROP)

    The body is a new representation (RFC 9110 8.8.3): a strong ``ETag`` no longer
    holds, so it is made weak or dropped, as *etag* says; digests and ``Content-MD5``
    are dropped; byte ranges of the old body do not apply (``Accept-Ranges`` and
    ``Content-Range`` go); ``Content-Length`` is the new length, or absent.

    :param etag: An :class:`ETagPolicy`; anything else is a ``TypeError``.
    """
    if type(etag) is not ETagPolicy:
        raise TypeError(f"etag must be ETagPolicy.WEAKEN or ETagPolicy.DROP, not {etag!r}.")
    _fix_headers(headers, length, etag is _DROP)


def _fix_headers(headers: Headers, length: int | None, drop_etag: bool) -> None:
    """:func:`fix_rewritten_headers` with the policy already checked (once, by the layer)."""
    kept = []
    pairs = headers_list(headers)  # written in place: Headers.extend checks every pair again
    for name, value in pairs:
        lower = name.lower()
        if lower in _STALE_AFTER_REWRITE:
            continue
        if lower == "etag":
            if drop_etag:
                continue
            if not value.startswith("W/"):
                value = "W/" + value
        kept.append((name, value))
    if length is not None:
        kept.append(("Content-Length", str(length)))
    pairs[:] = kept


# RFC 9110 12.4.2: weight = OWS ";" OWS "q=" qvalue
#                  qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
_QVALUE = re.compile(r"[qQ]\s*=\s*(0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)")


def accepted_codings(header: str, offered: tuple[str, ...]) -> tuple[str, ...]:
    """The codings of *offered* the client accepts, best first (RFC 9110 12.5.3).

    ::

        accepted_codings("gzip, deflate, br", ("br", "gzip"))      # ('br', 'gzip')
        accepted_codings("gzip;q=1, br;q=0.5", ("br", "gzip"))     # ('gzip', 'br')
        accepted_codings("br;q=0, *", ("br", "gzip"))              # ('gzip',)
        accepted_codings("identity", ("br", "gzip"))               # ()

    A coding named in the header has its own weight; one not named takes that of
    ``*`` (refused without a ``*``); ``q=0`` refuses; an item with a malformed weight
    is ignored; ``x-gzip`` is ``gzip`` (RFC 9110 8.4.1.3). At equal weights the order of
    *offered* decides. A coding weighted below an explicitly named ``identity`` is
    left out: the client prefers the body as it is. ``StaticFiles`` picks the first
    variant a file has, ``Compress`` the first coding.

    :param header: The ``Accept-Encoding`` value.
    :param offered: The codings to choose from, preferred first.
    """
    weights: dict[str, float] = {}
    for item in header.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        weight = 1.0
        if params:
            match = _QVALUE.fullmatch(params.strip())
            if match is None:
                continue
            weight = float(match.group(1))
        if coding == "x-gzip":
            coding = "gzip"
        weights.setdefault(coding, weight)
    anything = weights.get("*", 0.0)
    floor = weights.get("identity", 0.0)
    chosen = [(weights.get(coding, anything), coding) for coding in offered]
    chosen = [pair for pair in chosen if pair[0] > 0 and pair[0] >= floor]
    chosen.sort(key=lambda pair: -pair[0])  # stable: the order of offered decides a tie
    return tuple(coding for _, coding in chosen)


def vary_covers(values: Iterable[str], field: str) -> bool:
    """Whether the ``Vary`` field *values* already name *field* (any case) or ``*``.

    ::

        vary_covers(["Origin, Accept-Encoding"], "accept-encoding")   # True
    """
    field = field.lower()
    for value in values:
        for item in value.split(","):
            item = item.strip().lower()
            if item == field or item == "*":
                return True
    return False


def add_vary(headers: list[tuple[str, str]], field: str) -> list[tuple[str, str]]:
    """*headers* (WSGI pairs) with *field* merged into their ``Vary`` (RFC 9110 12.5.5).

    ::

        add_vary([("Vary", "Origin")], "Accept-Encoding")   # [("Vary", "Origin, Accept-Encoding")]

    *headers* itself when ``Vary`` already names *field* or is ``*``; otherwise a new
    list in which the ``Vary`` values are one field, ending with *field*.
    """
    values = [value for name, value in headers if name.lower() == "vary"]
    if vary_covers(values, field):
        return headers
    if not values:
        return [*headers, ("Vary", field)]
    kept = [(name, value) for name, value in headers if name.lower() != "vary"]
    return [*kept, ("Vary", ", ".join([*values, field]))]


class _Capture:
    """The ``start_response`` given to the inner app.

    It holds the response until the layer has decided, then passes every later call
    (an error's ``exc_info``, writes) straight to the server's.
    """

    __slots__ = ("status", "headers", "exc_info", "written", "write", "restarted", "server")

    def __init__(self) -> None:
        self.status: str | None = None
        self.headers: _HeaderList = []
        self.exc_info: OptExcInfo | None = None
        self.written: list[bytes] = []
        #: Where the app's write() goes: buffered until the layer decides.
        self.write: Callable[[bytes], Any] = self.written.append
        #: Set when the app started over with exc_info: what it sent before is void.
        self.restarted = False
        self.server: StartResponse | None = None

    def __call__(self, status: str, headers: _HeaderList, exc_info: OptExcInfo | None = None) -> Any:
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

    def send(self, start_response: StartResponse, status: str, headers: _HeaderList) -> None:
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
        self.written = []
        return chunks


class ResponseRewriter:
    """A base for layers that rewrite some response bodies (XSLT, compression, error pages).

    A subclass says which responses it rewrites, and how, with :meth:`wants`, looking
    only at the request, status and headers; it rewrites them in :meth:`rewrite` (the
    whole body, :attr:`Rewrite.BUFFER`) or :meth:`rewrite_stream` (chunk by chunk,
    :attr:`Rewrite.STREAM`). A response it does not want is never buffered: it streams
    through, and its iterable is closed exactly once. Responses without a body (1xx,
    204, 304) and partial ones (206) are never offered; a ``HEAD`` gets the fixed
    headers and no body.

    ::

        class Upper(ResponseRewriter):
            def wants(self, environ, status, headers):
                if headers.get("Content-Type", "").startswith("text/plain"):
                    return Rewrite.BUFFER
                return None

            def rewrite(self, environ, status, headers, body):
                return status, body.upper()

        application = Upper(app, etag=ETagPolicy.DROP)

    :param app: The WSGI application to wrap.
    :param etag: What becomes of a strong ``ETag`` after a rewrite: an :class:`ETagPolicy`.
    """

    def __init__(self, app: WSGIApplication, *, etag: ETagPolicy = ETagPolicy.WEAKEN) -> None:
        if not isinstance(etag, ETagPolicy):
            raise TypeError(f"{type(self).__name__}'s etag must be ETagPolicy.WEAKEN or "
                            f"ETagPolicy.DROP (from middleware.toolkit), not {etag!r}.")
        self.app = app
        self.etag = etag
        self._drop_etag = etag is ETagPolicy.DROP

    def wants(self, environ: WSGIEnvironment, status: str,
              headers: Headers) -> Rewrite | Literal[False] | None:
        """Whether and how to rewrite this response: a :class:`Rewrite`, or ``None`` (or ``False``).

        ``None`` passes the response through untouched; anything that is not a
        :class:`Rewrite` or ``None``/``False`` is a ``TypeError``.
        """
        return None

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
            mode = None
            if not capture.status.startswith(_NOT_OFFERED):
                headers = headers_of(capture.headers)
                mode = self.wants(environ, capture.status, headers)
                if mode is not None and mode is not False and type(mode) is not Rewrite:
                    raise TypeError(f"{type(self).__name__}.wants() returned {mode!r}; return "
                                    "Rewrite.BUFFER, Rewrite.STREAM, or None to pass the response through.")
            if not mode:
                capture.send(start_response, capture.status, capture.headers)
        except BaseException:
            close_iterable(iterable)
            raise
        if not mode:
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
                   mode: Rewrite) -> Iterable[bytes]:
        """Rewrite the response; the caller closes *iterable* if this raises."""
        status = capture.status or "500 Internal Server Error"
        if environ.get("REQUEST_METHOD") == "HEAD":  # no body to rewrite: only headers
            iterable.close()
            _fix_headers(headers, None, self._drop_etag)
            capture.send(start_response, status, headers.to_wsgi_list())
            return []
        if mode is _STREAM:
            stream = itertools.chain(capture.written, first, iterable)
            capture.written = []
            body = self.rewrite_stream(environ, status, headers, stream)
            _fix_headers(headers, None, self._drop_etag)
            capture.send(start_response, status, headers.to_wsgi_list())
            return ClosingIterator(body, iterable.close)
        try:
            chunks = capture.collect(first, iterable)
        finally:
            iterable.close()
        if capture.exc_info is not None:  # the app failed and started over: send its error as is
            capture.send(start_response, capture.status or status, capture.headers)
            return chunks
        status, data = self.rewrite(environ, status, headers, b"".join(chunks))
        _fix_headers(headers, len(data), self._drop_etag)
        capture.send(start_response, status, headers.to_wsgi_list())
        return [data]
