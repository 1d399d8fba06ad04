"""``Proxy``: forward some path prefixes to other HTTP servers, load-balanced.

::

    from middleware.proxy import Proxy

    application = Proxy(app, routes={"/api": ["http://10.0.0.5:8000", "http://10.0.0.6:8000"]})

A request under a routed prefix (segment boundary, the longest prefix wins) goes to
the route's upstreams in turn (round robin) through urllib3 connection pools, kept
alive between requests; everything else goes to ``app`` untouched. An upstream that
refuses the connection (or does not accept it within ``connect_timeout``) is left
alone for ``backoff`` seconds and the request goes to the next one; with no upstream
left the answer is a 502, an upstream that does not answer within ``timeout`` a 504,
both as the framework answers errors (:func:`~middleware.toolkit.error_app`) and
logged on the logger ``middleware.proxy``.

Bodies stream both ways in blocks (a request body of unknown length goes out
chunked); the upstream's body is passed on as it is encoded, never decompressed.
The rules for headers (RFC 9110 7.6: hop-by-hop fields, ``Via``, ``X-Forwarded-*``,
``Location`` and ``Set-Cookie`` paths) are in :class:`Proxy`'s docstring and
``docs/proxy.md``, and applied by the pure functions of :mod:`middleware.proxy_rules`.
"""

from __future__ import annotations

import http
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import ConnectTimeoutError, HTTPError, ReadTimeoutError
from werkzeug.exceptions import BadGateway, BadRequest, GatewayTimeout, LengthRequired

from .proxy_rules import PathMap, request_headers, request_target, response_headers
from .toolkit import PrefixMap, error_app

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["Proxy", "Upstream"]

logger = logging.getLogger("middleware.proxy")

BLOCK = 64 * 1024  # bytes read and sent at a time, both ways
# RFC 9110 9.2.2: a request that may be sent again without a different effect.
IDEMPOTENT = frozenset(("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"))


class Upstream:
    """One upstream server: its base URL, its connection pool, and whether it is down.

    :param url: ``http://host:port`` or ``https://host:port``, with an optional base path.
    :param timeout: Seconds to wait for the upstream's answer (each read).
    :param connect_timeout: Seconds to wait for a connection.
    :param pool_size: Connections kept alive to this upstream.
    """

    def __init__(self, url: str, *, timeout: float, connect_timeout: float, pool_size: int) -> None:
        if not isinstance(url, str):
            raise TypeError(f"An upstream must be a URL string such as 'http://127.0.0.1:9001', not {url!r}.")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"An upstream URL must start with http:// or https://, "
                             f"e.g. 'http://127.0.0.1:9001', not {url!r}.")
        if not parts.hostname or parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError(f"An upstream URL must name a host, and have no user, query or fragment, "
                             f"e.g. 'http://127.0.0.1:9001/base', not {url!r}.")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise ValueError(f"The upstream URL {url!r} has a port that is not a number from 0 to 65535.") \
                from None
        self.url = url
        self.scheme = parts.scheme
        self.host = parts.hostname.lower()
        self.netloc = parts.netloc.lower()
        #: The base path, without a trailing slash: ``""`` for none.
        self.path = parts.path.rstrip("/")
        self.down_until = 0.0
        pool_class = urllib3.HTTPSConnectionPool if self.scheme == "https" else urllib3.HTTPConnectionPool
        self.pool = pool_class(parts.hostname, port, maxsize=pool_size, block=False, retries=False,
                               timeout=urllib3.Timeout(connect=connect_timeout, read=timeout))

    def __repr__(self) -> str:
        return f"Upstream({self.url!r})"


class _Route:
    """A prefix's upstreams and its round-robin counter (safe across threads)."""

    def __init__(self, prefix: str, upstreams: list[Upstream]) -> None:
        self.prefix = prefix
        self.upstreams = upstreams
        self._next = 0
        self._lock = threading.Lock()

    def candidates(self, now: float) -> list[Upstream]:
        """The upstreams that are up, starting with the next one in turn."""
        with self._lock:
            start = self._next
            self._next = (start + 1) % len(self.upstreams)
        ordered = self.upstreams[start:] + self.upstreams[:start]
        return [upstream for upstream in ordered if upstream.down_until <= now]


class _RequestBody:
    """``wsgi.input`` as an iterator of blocks, noting whether anything was read.

    :param length: The ``Content-Length``, or ``None`` to read to the end
        (``wsgi.input_terminated``, or a chunked request).
    """

    def __init__(self, stream: Any, length: int | None, first: bytes = b"") -> None:
        self.stream = stream
        self.remaining = length
        self.first = first
        self.started = False

    def __iter__(self) -> Iterator[bytes]:
        self.started = True
        if self.first:
            yield self.first
        while self.remaining is None or self.remaining > 0:
            block = _read(self.stream, BLOCK if self.remaining is None else min(BLOCK, self.remaining))
            if not block:
                if self.remaining is None:
                    return
                raise _ClientGone(f"the client sent {self.remaining} bytes fewer than its Content-Length")
            if self.remaining is not None:
                self.remaining -= len(block)
            yield block


def _read(stream: Any, size: int) -> bytes:
    """Read ``wsgi.input``; a server's own error (client gone, bad chunks) becomes ``_ClientGone``."""
    try:
        return bytes(stream.read(size))
    except Exception as error:  # each server has its own exceptions for a broken request body
        raise _ClientGone(f"the request body could not be read ({type(error).__name__}: {error})") from error


class _ClientGone(Exception):
    """The client's request body ended before its ``Content-Length``."""


class _ResponseBody:
    """The upstream's body as a WSGI iterable; ``close()`` releases the connection.

    A body read to its end gives the connection back to the pool; one closed early
    (the client went away) closes the connection, which still has unread data on it.
    """

    def __init__(self, response: Any, upstream: Upstream) -> None:
        self.response = response
        self.upstream = upstream
        self.done = False

    def __iter__(self) -> Iterator[bytes]:
        read = self.response.read1
        try:
            while block := read(BLOCK, decode_content=False):
                yield block
            self.done = True
        except HTTPError as error:  # headers are out: the server must cut the connection
            logger.error("Upstream %s failed while sending its body: %s", self.upstream.url, error)
            raise

    def close(self) -> None:
        """Release the connection, or close it if the body was not read to its end."""
        if not self.done:
            self.response.close()
        self.response.release_conn()


class Proxy:
    """Forward requests under some path prefixes to upstream HTTP servers, load-balanced.

    ::

        application = Proxy(app, routes={
            "/api": ["http://127.0.0.1:9001", "http://127.0.0.1:9002"],
            "/search": ["http://search.internal:8080/v2"],
        }, timeout=10.0, strip_prefix=True)

    The path goes to the upstream as the client sent it under this layer (the raw
    request path when the server gives one, else ``PATH_INFO`` quoted again), after the
    upstream's base path, without the prefix when ``strip_prefix`` is true; the query
    string as it came. A ``.`` or ``..`` segment is refused with a 400.

    Headers (``docs/proxy.md`` has the table): hop-by-hop fields are dropped both ways
    (RFC 9110 7.6.1), ``Via`` is appended both ways; the upstream gets
    ``X-Forwarded-For/-Proto/-Host/-Prefix`` and its own ``Host`` (the client's with
    ``preserve_host``); ``Location``, ``Content-Location`` and ``Set-Cookie`` paths are
    mapped back under the prefix.

    :param app: The WSGI application answering every other request.
    :param routes: Path prefix -> list of upstream base URLs (``http://host:port/path``).
    :param timeout: Seconds to wait for an upstream's answer (each read) before a 504.
    :param connect_timeout: Seconds to wait for a connection before trying the next upstream.
    :param strip_prefix: Send the path without the route's prefix.
    :param preserve_host: Send the client's ``Host`` instead of the upstream's.
    :param backoff: Seconds an upstream that refused a connection is left alone.
    :param via: The name in ``Via`` (RFC 9110 7.6.3); ``None``: no ``Via``.
    :param pool_size: Connections kept alive to each upstream.
    """

    def __init__(self, app: WSGIApplication, *, routes: Mapping[str, Sequence[str]], timeout: float = 10.0,
                 connect_timeout: float = 3.0, strip_prefix: bool = False, preserve_host: bool = False,
                 backoff: float = 5.0, via: str | None = "onion-wsgi", pool_size: int = 10) -> None:
        if not isinstance(routes, Mapping) or not routes:
            raise ValueError("Proxy needs routes: a path prefix -> a list of upstream URLs, "
                             "e.g. {'/api': ['http://127.0.0.1:9001']}.")
        for name, value in (("timeout", timeout), ("connect_timeout", connect_timeout), ("backoff", backoff)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or \
                    (value == 0 and name != "backoff"):
                raise ValueError(f"Proxy's {name} must be a positive number of seconds, not {value!r}.")
        if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
            raise ValueError(f"Proxy's pool_size must be a whole number of at least 1, not {pool_size!r}.")
        if via is not None and (not isinstance(via, str) or not via or any(c in via for c in " ,\r\n")):
            raise ValueError(f"Proxy's via must be a name without spaces or commas, e.g. 'gateway', "
                             f"or None, not {via!r}.")
        self.app = app
        self.timeout = float(timeout)
        self.connect_timeout = float(connect_timeout)
        self.strip_prefix = bool(strip_prefix)
        self.preserve_host = bool(preserve_host)
        self.backoff = float(backoff)
        self.via = via
        # Not ``.routes``: that names an App's URL rules (``python -m framework routes``).
        self._routes: PrefixMap[_Route] = PrefixMap()
        #: Route prefix -> its :class:`Upstream` objects (their pools, whether they are down).
        self.upstreams: dict[str, list[Upstream]] = {}
        for prefix, urls in routes.items():
            if not isinstance(prefix, str) or not prefix.startswith("/"):
                raise ValueError(f"Each Proxy route prefix must start with '/', e.g. '/api', not {prefix!r}.")
            if isinstance(urls, str) or not isinstance(urls, Iterable):
                raise TypeError(f"The upstreams of {prefix!r} must be a list of URLs, "
                                f"e.g. ['http://127.0.0.1:9001'], not {urls!r}.")
            upstreams = [Upstream(url, timeout=self.timeout, connect_timeout=self.connect_timeout,
                                  pool_size=pool_size) for url in urls]
            if not upstreams:
                raise ValueError(f"The route {prefix!r} has no upstream; give at least one URL, "
                                 f"e.g. ['http://127.0.0.1:9001'].")
            key = prefix.rstrip("/") or "/"
            if key in self.upstreams:
                raise ValueError(f"The route {key!r} is given twice (as {prefix!r} too); merge the lists.")
            self._routes[prefix] = _Route(key, upstreams)
            self.upstreams[key] = upstreams

    def describe(self) -> str:
        """One line for ``python -m framework stack``."""
        routes = {prefix: [upstream.url for upstream in upstreams]
                  for prefix, upstreams in self.upstreams.items()}
        return (f"Proxy(routes={routes!r}, timeout={self.timeout!r}, strip_prefix={self.strip_prefix!r}, "
                f"preserve_host={self.preserve_host!r}, backoff={self.backoff!r})")

    def close(self) -> None:
        """Close the kept-alive connections to every upstream, at shutdown (later requests get a 502)."""
        for upstreams in self.upstreams.values():
            for upstream in upstreams:
                upstream.pool.close()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Forward the request if a route covers its path; else call the wrapped app."""
        found = self._routes.find(environ.get("PATH_INFO") or "")
        if found is None:
            return self.app(environ, start_response)
        prefix, route = found
        try:
            target = request_target(environ, len(prefix) if self.strip_prefix else 0)
            body = _request_body(environ)
        except (ValueError, _ClientGone) as error:
            logger.warning("Refused a request for %s from %s: %s", route.prefix,
                           environ.get("REMOTE_ADDR"), error)
            refusal = LengthRequired if isinstance(error, _LengthRequired) else BadRequest
            return error_app(refusal(str(error)))(environ, start_response)
        return self._forward(environ, start_response, prefix, route, target, body)

    def _forward(self, environ: WSGIEnvironment, start_response: StartResponse, prefix: str,
                 route: _Route, target: str, body: _RequestBody | None) -> Iterable[bytes]:
        """Try the route's upstreams in turn until one answers; then stream its answer."""
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO") or ""
        headers = request_headers(environ, prefix, strip_prefix=self.strip_prefix, via=self.via)
        for upstream in route.candidates(time.monotonic()):
            headers["Host"] = (environ.get("HTTP_HOST") or upstream.netloc) if self.preserve_host \
                else upstream.netloc
            try:
                response = upstream.pool.urlopen(
                    method, (upstream.path + target) or "/", body=body, headers=headers,
                    redirect=False, retries=False, preload_content=False, decode_content=False,
                    chunked=body is not None and body.remaining is None)
            except ConnectTimeoutError as error:  # NewConnectionError too: nothing was sent
                upstream.down_until = time.monotonic() + self.backoff
                logger.warning("Upstream %s is down for %s s: %s", upstream.url, self.backoff, error)
                continue
            except ReadTimeoutError:
                logger.error("Upstream %s did not answer %s %s within %s s.", upstream.url, method,
                             path, self.timeout)
                return error_app(GatewayTimeout(f"The upstream server did not answer within "
                                                f"{self.timeout:g} seconds."))(environ, start_response)
            except _ClientGone as error:
                logger.warning("Dropped %s %s from %s: %s", method, path, environ.get("REMOTE_ADDR"), error)
                return error_app(BadRequest("The request body ended early."))(environ, start_response)
            except (HTTPError, OSError) as error:
                logger.warning("Upstream %s failed on %s %s: %s", upstream.url, method, path, error)
                if method in IDEMPOTENT and (body is None or not body.started):
                    continue
                break
            body_out = _ResponseBody(response, upstream)
            try:
                status = f"{response.status} {response.reason or _phrase(response.status)}"
                mapping = PathMap(upstream, environ, prefix, self.strip_prefix)
                start_response(status, response_headers(list(response.headers.iteritems()), mapping,
                                                        version=response.version, via=self.via))
            except BaseException:
                body_out.close()
                raise
            if method == "HEAD" or response.status in (204, 304):
                body_out.done = True  # no body (RFC 9112 6.3): the connection goes back to the pool
                body_out.close()
                return []
            return body_out
        logger.error("No upstream of %s answered %s %s.", route.prefix, method, path)
        return error_app(BadGateway("No upstream server could take the request."))(environ, start_response)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _request_body(environ: WSGIEnvironment) -> _RequestBody | None:
    """The request body to send on, or ``None`` for none.

    ``ValueError`` for a bad ``Content-Length``; :class:`_LengthRequired` for a body of
    unknown length the server does not end for us.
    """
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        if not length.isdigit():
            raise ValueError(f"Content-Length {length!r} is not a number of bytes.")
        return _RequestBody(stream, int(length)) if int(length) else None
    # No length: a chunked body (or none), which we may read to its end only when the
    # server says it ends the input for us (wsgi.input_terminated, as Werkzeug reads
    # it); PEP 3333 forbids reading past CONTENT_LENGTH otherwise.
    if environ.get("wsgi.input_terminated"):
        first = _read(stream, BLOCK)
        return _RequestBody(stream, None, first) if first else None
    if environ.get("HTTP_TRANSFER_ENCODING"):
        raise _LengthRequired("This server cannot pass on a request body without Content-Length.")
    return None


class _LengthRequired(ValueError):
    """A chunked request body on a server without ``wsgi.input_terminated`` (RFC 9110 15.5.12: 411)."""
