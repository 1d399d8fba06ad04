"""``Compress``: gzip and brotli response compression, by the client's ``Accept-Encoding``.

::

    from middleware.compress import Compress

    application = Compress(app, minimum_size=500)

The coding is chosen by the request's ``Accept-Encoding`` q-values (RFC 9110 12.5.3):
``br`` (when the ``brotli`` package imports: ``pip install onion-wsgi[brotli]``) or
``gzip``; ``q=0`` refuses a coding, ``*`` stands for every coding not named, and at
equal q-values ``br`` wins. A client that accepts neither gets the body as it is.

A response is compressed when all of these hold (:func:`compressible`):

- its status has a whole body: not 1xx, 204, 206 or 304 (a ``Range`` request that the
  app answers with a full ``200`` is compressed like any other ``200``);
- it has no ``Content-Encoding`` yet (``identity`` aside);
- its media type is in ``media_types`` (:data:`DEFAULT_MEDIA_TYPES`: text, JSON,
  JavaScript, XML, SVG, WebAssembly, ...; never images, video, audio or archives,
  which are compressed already);
- it has no ``Cache-Control: no-transform`` (RFC 9111 5.2.2.6);
- its ``Content-Length``, when known, is at least ``minimum_size``.

Such a response gets ``Vary: Accept-Encoding`` (merged into the app's ``Vary``) for
every client, also one that is sent the body uncompressed, so a shared cache keeps
the variants apart (RFC 9110 12.5.5).

A body of known length (up to 1 MiB) is compressed at once and gets its new
``Content-Length``. A body of unknown length (or a larger one) is compressed chunk
by chunk as the app yields it, each chunk flushed (zlib ``Z_SYNC_FLUSH``, brotli
``flush()``) so the client can decompress it at once: server-sent events and other
streams keep flowing, and nothing is buffered. A compressed response's strong
``ETag`` becomes weak (RFC 9110 8.8.3: the same content, another representation);
``Accept-Ranges``, ``Content-Range`` and digests go, since byte ranges of the
uncompressed body no longer apply; a ``304`` to a client revalidating the compressed
variant gets the weak ``ETag`` (and ``Vary``) back. A ``HEAD`` gets the headers the
``GET`` would.
"""

from __future__ import annotations

import functools
import re
import zlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from werkzeug.http import parse_etags, unquote_etag

from framework.compat import headers_list

from .toolkit import (
    ETagPolicy,
    ResponseRewriter,
    Rewrite,
    accepted_codings,
    add_vary,
    rewrite_start_response,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from werkzeug.datastructures import Headers

try:
    import brotli
except ImportError:  # the [brotli] extra is not installed: gzip only
    brotli = None

__all__ = ["DEFAULT_MEDIA_TYPES", "Compress", "choose_encoding", "compressible"]

#: Media types compressed by default: ``type/*`` covers a whole top-level type, and an
#: entry starting with ``+`` a structured-syntax suffix (RFC 6839: ``application/ld+json``).
#: Images (but SVG and icons), audio, video, fonts in WOFF and archives are compressed already.
DEFAULT_MEDIA_TYPES: tuple[str, ...] = (
    "text/*", "+json", "+xml",
    "application/json", "application/x-ndjson", "application/javascript", "application/x-javascript",
    "application/ecmascript", "application/xml", "application/wasm", "application/yaml",
    "application/x-yaml", "application/toml", "application/graphql", "application/x-www-form-urlencoded",
    "application/vnd.ms-fontobject", "font/ttf", "font/otf", "font/collection",
    "image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon", "image/bmp",
)
#: The codings this layer can produce, best first (the preference at equal q-values).
SUPPORTED = ("br", "gzip") if brotli is not None else ("gzip",)

_CACHED = 256  # distinct Content-Type values whose answer a layer remembers
_BUFFER_LIMIT = 1 << 20  # a known length above this is streamed rather than held in memory
_NO_BODY = ("1", "204", "206", "304")
_MEDIA_TYPE = re.compile(r"(?:[a-z0-9!#$&^_.+-]+/(?:\*|[a-z0-9!#$&^_.+-]+)|\+[a-z0-9!#$&^_.-]+)")
_BUFFER, _STREAM = Rewrite.BUFFER, Rewrite.STREAM


@functools.lru_cache(maxsize=256)
def choose_encoding(accept_encoding: str, offered: tuple[str, ...] = SUPPORTED) -> str | None:
    """The coding of *offered* to send for an ``Accept-Encoding`` value, or ``None`` (identity).

    ::

        choose_encoding("gzip, deflate, br")          # 'br' (equal q: the first offered)
        choose_encoding("gzip;q=1, br;q=0.5")          # 'gzip'
        choose_encoding("*;q=0.5, br;q=0", ("br", "gzip"))   # 'gzip'
        choose_encoding("identity")                    # None

    :func:`middleware.toolkit.accepted_codings`, its best: a coding named in the
    header has its own q-value, one not named takes that of ``*``; ``x-gzip`` is
    ``gzip``; the coding is sent unless ``identity`` is named with a higher q-value;
    an empty header, or one whose items all have a malformed q-value, means identity.

    :param accept_encoding: The request's ``Accept-Encoding`` value.
    :param offered: The codings to choose from, preferred first.
    """
    codings = accepted_codings(accept_encoding, offered)
    return codings[0] if codings else None


class _MediaTypes:
    """Whether a ``Content-Type`` is in a list of media types (see :data:`DEFAULT_MEDIA_TYPES`)."""

    __slots__ = ("exact", "top_levels", "suffixes", "count", "_seen")

    def __init__(self, media_types: Iterable[str]) -> None:
        if isinstance(media_types, str) or not isinstance(media_types, Iterable):
            raise TypeError("Compress's media_types must be a list of media types, e.g. "
                            f"['text/*', 'application/json', '+json'], not {media_types!r}.")
        entries = [entry.lower() if isinstance(entry, str) else entry for entry in media_types]
        for entry in entries:
            if not isinstance(entry, str) or not _MEDIA_TYPE.fullmatch(entry):
                raise ValueError("Each of Compress's media_types must be 'type/subtype', 'type/*' or a "
                                 f"suffix such as '+json', not {entry!r}.")
        self.exact = frozenset(e for e in entries if "/" in e and not e.endswith("/*"))
        self.top_levels = frozenset(e[:-1] for e in entries if e.endswith("/*"))  # "text/"
        self.suffixes = tuple(e for e in entries if e.startswith("+"))
        self.count = len(entries)
        # Content-Type value -> answer: an app sends few distinct values, read on every response.
        self._seen: dict[str, bool] = {}

    def __contains__(self, content_type: str) -> bool:
        known = self._seen.get(content_type)
        if known is None:
            if len(self._seen) >= _CACHED:
                self._seen.clear()
            known = self._seen[content_type] = self._matches(content_type)
        return known

    def _matches(self, content_type: str) -> bool:
        media_type = content_type.partition(";")[0].strip().lower()
        if media_type in self.exact:
            return True
        slash = media_type.find("/")
        if slash <= 0:
            return False
        return media_type[:slash + 1] in self.top_levels or media_type.endswith(self.suffixes)


def compressible(status: str, headers: Iterable[tuple[str, str]], *, minimum_size: int = 500,
                 media_types: Any = None) -> bool:
    """Whether a response may be compressed, looking only at its status and headers.

    ::

        compressible("200 OK", [("Content-Type", "application/json")])    # True
        compressible("200 OK", [("Content-Type", "image/png")])           # False

    :param status: The WSGI status line.
    :param headers: The response headers, as (name, value) pairs.
    :param minimum_size: A known ``Content-Length`` under this is not worth compressing.
    :param media_types: The media types to compress (a list as :data:`DEFAULT_MEDIA_TYPES`,
        which ``None`` stands for).
    """
    if not isinstance(media_types, _MediaTypes):
        media_types = _MediaTypes(DEFAULT_MEDIA_TYPES if media_types is None else media_types)
    return _compressible(status, headers, minimum_size, media_types)


def _compressible(status: str, headers: Iterable[tuple[str, str]], minimum_size: int,
                  media_types: _MediaTypes) -> bool:
    return _examine(status, headers, minimum_size, media_types) is not None


def _examine(status: str, headers: Iterable[tuple[str, str]], minimum_size: int,
             media_types: _MediaTypes) -> int | None:
    """``None`` for a response not to compress, else its ``Content-Length`` (-1: not given)."""
    if status.startswith(_NO_BODY):
        return None
    typed = False
    length = -1
    for name, value in headers:
        lower = name.lower()
        if lower == "content-type":
            if value not in media_types:
                return None
            typed = True
        elif lower == "content-encoding":
            if value.strip().lower() != "identity":
                return None
        elif lower == "cache-control":
            if "no-transform" in value.lower():
                return None
        elif lower == "content-length":
            try:
                length = int(value)
            except ValueError:
                return None  # a malformed length: pass the response on as the app made it
            if length < minimum_size or length < 0:
                return None
    return length if typed else None


def _not_modified(if_none_match: str, status: str,
                  headers: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
    """A ``304`` for a client revalidating a compressed variant: its ``ETag`` weak again, with ``Vary``.

    The client holds the weak ``W/"x"`` this layer sent; the app, which knows only its
    strong ``"x"``, answers ``304`` with that. RFC 9110 15.4.5: a ``304`` carries the
    ``ETag`` and ``Vary`` the ``200`` would have, so a cache updates the stored variant.
    """
    if not status.startswith("304"):
        return status, headers
    for index, (name, value) in enumerate(headers):
        if name.lower() == "etag":
            if value.startswith("W/") or not parse_etags(if_none_match).is_weak(unquote_etag(value)[0] or ""):
                return status, headers
            headers = [*headers[:index], (name, "W/" + value), *headers[index + 1:]]
            return status, add_vary(headers, "Accept-Encoding")
    return status, headers


def _gzip(data: bytes, level: int) -> bytes:
    # wbits 31: a gzip wrapper (RFC 1952) with mtime 0, so equal bodies compress equal.
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def _gzip_stream(chunks: Iterator[bytes], level: int) -> Iterator[bytes]:
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    for chunk in chunks:
        # PEP 3333: a middleware yields at least one value for every value the app yields.
        yield compressor.compress(chunk) + compressor.flush(zlib.Z_SYNC_FLUSH) if chunk else b""
    yield compressor.flush()


def _brotli(data: bytes, quality: int) -> bytes:
    return brotli.compress(data, quality=quality)  # type: ignore[no-any-return]


def _brotli_stream(chunks: Iterator[bytes], quality: int) -> Iterator[bytes]:
    compressor = brotli.Compressor(quality=quality)
    for chunk in chunks:
        yield compressor.process(chunk) + compressor.flush() if chunk else b""
    yield compressor.finish()


def _coding(headers: Headers) -> str:
    """The ``Content-Encoding`` :meth:`Compress.wants` set (the last pair it wrote)."""
    for name, value in reversed(headers_list(headers)):
        if name == "Content-Encoding":
            return value
    return ""


def _level(option: str, value: Any, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise ValueError(f"Compress's {option} must be a whole number from {low} to {high}, not {value!r}.")
    return value


class Compress(ResponseRewriter):
    """Compress responses with gzip or brotli, as the client's ``Accept-Encoding`` asks.

    ::

        application = Compress(app, minimum_size=500)
        application = Compress(app, encodings=["gzip"], gzip_level=9)

    See the module docstring for which responses are compressed and how.

    :param app: The WSGI application to wrap.
    :param minimum_size: Bodies with a ``Content-Length`` under this many bytes are sent
        as they are (compressing them saves little and costs CPU); a body of unknown
        length is always compressed.
    :param encodings: The codings to offer, preferred first at equal q-values: ``"br"``
        (needs the ``brotli`` package) and ``"gzip"``. Default: both when brotli imports.
    :param media_types: The media types to compress: ``"type/subtype"``, ``"type/*"``,
        or a ``"+suffix"``; default :data:`DEFAULT_MEDIA_TYPES`.
    :param gzip_level: zlib's compression level, 1 (fastest) to 9 (smallest).
    :param brotli_quality: brotli's quality, 0 (fastest) to 11 (smallest); 4 suits
        bodies compressed on the fly.
    """

    def __init__(self, app: WSGIApplication, *, minimum_size: int = 500,
                 encodings: Iterable[str] | None = None, media_types: Iterable[str] = DEFAULT_MEDIA_TYPES,
                 gzip_level: int = 6, brotli_quality: int = 4) -> None:
        super().__init__(app, etag=ETagPolicy.WEAKEN)
        if type(minimum_size) is not int or minimum_size < 0:
            raise ValueError("Compress's minimum_size must be a number of bytes, 0 or more, "
                             f"not {minimum_size!r}.")
        self.minimum_size = minimum_size
        if encodings is None:
            encodings = SUPPORTED
        elif isinstance(encodings, str) or not isinstance(encodings, Iterable):
            raise TypeError(f"Compress's encodings must be a list such as ['br', 'gzip'], not {encodings!r}.")
        self.encodings = tuple(encodings)
        for coding in self.encodings:
            if coding not in ("br", "gzip"):
                raise ValueError(f"Compress can encode 'br' and 'gzip', not {coding!r}.")
            if coding == "br" and brotli is None:
                raise ValueError("Compress's encodings name 'br', but the brotli package is not installed; "
                                 "pip install 'onion-wsgi[brotli]', or leave 'br' out.")
        if not self.encodings or len(set(self.encodings)) != len(self.encodings):
            raise ValueError(f"Compress needs one or more distinct encodings, not {self.encodings!r}.")
        self.media_types = _MediaTypes(media_types)
        self.gzip_level = _level("gzip_level", gzip_level, 1, 9)
        self.brotli_quality = _level("brotli_quality", brotli_quality, 0, 11)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Compress the response for this client, or send it as it is with ``Vary`` added."""
        if choose_encoding(environ.get("HTTP_ACCEPT_ENCODING", ""), self.encodings) is not None:
            if "HTTP_IF_NONE_MATCH" in environ:
                start_response = rewrite_start_response(
                    start_response, functools.partial(_not_modified, environ["HTTP_IF_NONE_MATCH"]))
            return super().__call__(environ, start_response)
        return self.app(environ, rewrite_start_response(start_response, self._vary))

    def _vary(self, status: str, headers: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
        """Add ``Vary: Accept-Encoding`` to an uncompressed response another client would get compressed."""
        if _compressible(status, headers, self.minimum_size, self.media_types):
            headers = add_vary(headers, "Accept-Encoding")
        return status, headers

    def wants(self, environ: WSGIEnvironment, status: str, headers: Headers) -> Rewrite | None:
        """Compress a compressible response: at once when its length is known, else as a stream."""
        coding = choose_encoding(environ.get("HTTP_ACCEPT_ENCODING", ""), self.encodings)
        if coding is None:
            return None
        pairs = headers_list(headers)  # read and changed in place: Headers' methods cost more here
        length = _examine(status, pairs, self.minimum_size, self.media_types)
        if length is None:
            return None
        kept = add_vary([pair for pair in pairs if pair[0].lower() != "content-encoding"], "Accept-Encoding")
        pairs[:] = [*kept, ("Content-Encoding", coding)]
        return _BUFFER if 0 <= length <= _BUFFER_LIMIT else _STREAM

    def rewrite(self, environ: WSGIEnvironment, status: str, headers: Headers,
                body: bytes) -> tuple[str, bytes]:
        """The whole body compressed with the coding :meth:`wants` chose."""
        if _coding(headers) == "br":
            return status, _brotli(body, self.brotli_quality)
        return status, _gzip(body, self.gzip_level)

    def rewrite_stream(self, environ: WSGIEnvironment, status: str, headers: Headers,
                       chunks: Iterator[bytes]) -> Iterable[bytes]:
        """The body compressed chunk by chunk, each flushed so the client can read it at once."""
        if _coding(headers) == "br":
            return _brotli_stream(chunks, self.brotli_quality)
        return _gzip_stream(chunks, self.gzip_level)

    def describe(self) -> str:
        """One line for ``python -m framework stack``."""
        return (f"Compress(encodings={list(self.encodings)!r}, minimum_size={self.minimum_size}, "
                f"gzip_level={self.gzip_level}, brotli_quality={self.brotli_quality}, "
                f"media_types={self.media_types.count})")
