"""The pure rules of :class:`~middleware.proxy.Proxy`: the request path, the headers both ways.

::

    from middleware.proxy_rules import PathMap, connection_tokens, is_hop_by_hop, request_target

    request_target({"PATH_INFO": "/api/a b", "QUERY_STRING": "q=1"}, 4)   # '/a%20b?q=1'
    listed = connection_tokens(["close, X-Secret"])           # frozenset({'close', 'x-secret'})
    is_hop_by_hop("x-secret", listed)                                     # True
    PathMap(upstream, environ, "/api", strip=True).url("http://10.0.0.5:8000/login")

:func:`request_headers` and :func:`response_headers` apply the header rules (RFC 9110
7.6: hop-by-hop fields, ``Via``, ``X-Forwarded-*``, ``Location`` and ``Set-Cookie``
paths); ``docs/proxy.md`` has the table. Functions of strings, headers and the environ
that return values: nothing here opens a connection or calls ``start_response``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, unquote_to_bytes, urlsplit

from urllib3.util import SKIP_HEADER

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["HOP_BY_HOP", "PathMap", "UpstreamAddress", "append_via", "client_host", "connection_tokens",
           "is_hop_by_hop", "quote_path", "request_headers", "request_target", "response_headers"]

#: Fields meant for one hop only (RFC 9110 7.6.1; RFC 9112 9.6 ``Keep-Alive``), lower case;
#: with the names ``Connection`` lists and every ``Proxy-*`` one, see :func:`is_hop_by_hop`.
HOP_BY_HOP = frozenset(("connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"))
# PEP 3333 PATH_INFO is percent-decoded; quote it again, keeping RFC 3986 pchar and "/".
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_DOT_SEGMENT = re.compile(r"(?:^|/)\.\.?(?:/|$)")
_HEX = re.compile(r"[0-9A-Fa-f]{2}")
# Request fields the proxy sets itself, or that the WSGI server already acted on.
_REPLACED = frozenset(("host", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-prefix",
                       "x-forwarded-for", "via", "expect", "content-length", "content-type"))


def is_hop_by_hop(name: str, listed: frozenset[str]) -> bool:
    """Whether the field *name* (lower case) stays on this hop (RFC 9110 7.6.1)."""
    return name in HOP_BY_HOP or name in listed or name.startswith("proxy-")


def connection_tokens(values: Iterable[str]) -> frozenset[str]:
    """The field names a ``Connection`` header lists (RFC 9110 7.6.1), lower case."""
    return frozenset(token.strip().lower() for value in values for token in value.split(",") if token.strip())


class UpstreamAddress(Protocol):
    """What :class:`PathMap` reads of an upstream (a :class:`~middleware.proxy.Upstream`)."""

    #: The host name, lower case: a ``Set-Cookie`` ``Domain`` naming it is dropped.
    host: str
    #: ``host[:port]``, lower case: a ``Location`` naming it is pointed back.
    netloc: str
    #: The base path, without a trailing slash: ``""`` for none.
    path: str


class PathMap:
    """Map the upstream's URLs and cookie paths back to the client's (pure, per request).

    An upstream path ``<base path>[<prefix>]<rest>`` (the prefix there unless stripped)
    is ``<SCRIPT_NAME><prefix><rest>`` for the client.
    """

    def __init__(self, upstream: UpstreamAddress, environ: WSGIEnvironment, prefix: str, strip: bool) -> None:
        script = environ.get("SCRIPT_NAME", "")
        self.upstream = upstream
        self.upstream_root = upstream.path + ("" if strip else quote_path(prefix))
        self.client_root = quote_path(script + prefix)
        self.client_origin = f"{environ.get('wsgi.url_scheme', 'http')}://{client_host(environ)}"
        self.client_netloc = client_host(environ).lower()

    def path(self, path: str) -> str | None:
        """The client's path for an upstream *path*, or ``None`` when it is outside the route."""
        root = self.upstream_root
        if path == root or path.startswith(root + "/") or (not root and path.startswith("/")):
            return self.client_root + path[len(root):]
        if path.startswith(root + "?") or path.startswith(root + "#"):
            return self.client_root + path[len(root):]
        return None

    def url(self, value: str) -> str:
        """A ``Location``/``Content-Location`` value pointing at the upstream, pointed back."""
        if value.startswith("/") and not value.startswith("//"):
            mapped = self.path(value)
            return value if mapped is None else mapped
        parts = urlsplit(value)
        netloc = parts.netloc.lower()
        if parts.scheme not in ("http", "https") or netloc not in (self.upstream.netloc, self.client_netloc):
            return value
        mapped = self.path(value[len(f"{parts.scheme}://{parts.netloc}"):] or "/")
        return value if mapped is None else self.client_origin + mapped

    def cookie(self, value: str) -> str:
        """A ``Set-Cookie`` with ``Path`` moved under the prefix, a ``Domain`` naming the upstream dropped."""
        attributes = value.split(";")
        kept = [attributes[0]]
        for attribute in attributes[1:]:
            name, _, content = attribute.partition("=")
            key = name.strip().lower()
            if key == "domain" and content.strip().lstrip(".").lower() == self.upstream.host:
                continue
            path = content.strip()
            if key == "path" and path.startswith("/"):
                mapped = self.path(path)
                if path.rstrip("/") == self.upstream_root:  # the root itself: /api covers /api/x too
                    mapped = self.client_root or "/"
                if mapped is not None:
                    attribute = f"{name}={mapped}"
            kept.append(attribute)
        return ";".join(kept)


def request_headers(environ: WSGIEnvironment, prefix: str, *, strip_prefix: bool,
                    via: str | None) -> dict[str, str]:
    """The fields to send upstream for a request under the route *prefix* (``Host`` is set per upstream).

    The client's fields without the hop-by-hop ones and those the proxy sets itself,
    then ``X-Forwarded-For/-Proto/-Host/-Prefix`` and ``Via``.

    :param strip_prefix: The route's prefix is not sent: ``X-Forwarded-Prefix`` names it.
    :param via: This hop's name in ``Via``; ``None``: no ``Via`` added.
    """
    fields: list[tuple[str, str]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            fields.append((key[5:].replace("_", "-").title(), value))
    listed = connection_tokens(value for name, value in fields if name == "Connection")
    headers = {name: value for name, value in fields
               if not is_hop_by_hop(name.lower(), listed) and name.lower() not in _REPLACED}
    for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
        if environ.get(key):
            headers[name] = environ[key]
    headers.setdefault("User-Agent", SKIP_HEADER)  # not urllib3's own: nothing the client did not send
    headers.setdefault("Accept-Encoding", SKIP_HEADER)
    remote = environ.get("REMOTE_ADDR") or "unknown"
    forwarded = environ.get("HTTP_X_FORWARDED_FOR")
    headers["X-Forwarded-For"] = f"{forwarded}, {remote}" if forwarded else remote
    headers["X-Forwarded-Proto"] = environ.get("wsgi.url_scheme", "http")
    headers["X-Forwarded-Host"] = client_host(environ)
    forwarded_prefix = environ.get("SCRIPT_NAME", "") + (prefix if strip_prefix else "")
    if forwarded_prefix:
        headers["X-Forwarded-Prefix"] = quote_path(forwarded_prefix)
    if via is not None:
        headers["Via"] = append_via(environ.get("HTTP_VIA"), environ, via)
    return headers


def response_headers(pairs: list[tuple[str, str]], mapping: PathMap, *, version: int,
                     via: str | None) -> list[tuple[str, str]]:
    """The upstream's fields for the client: hop-by-hop ones dropped, locations mapped back.

    The upstream's ``Date`` and ``Server`` are dropped too, as nginx does by default:
    the server that answers the client writes its own, and a WSGI server that adds
    them without looking (Werkzeug's) would otherwise send two of each.

    :param pairs: The upstream's fields, in order.
    :param mapping: The paths of this request's route, upstream -> client.
    :param version: The upstream's HTTP version as urllib3 gives it (``11``: HTTP/1.1).
    :param via: This hop's name in ``Via``; ``None``: the upstream's ``Via`` as it came.
    """
    listed = connection_tokens(value for name, value in pairs if name.lower() == "connection")
    chunked = any(name.lower() == "transfer-encoding" for name, _ in pairs)
    headers: list[tuple[str, str]] = []
    received = None
    for name, value in pairs:
        lower = name.lower()
        if is_hop_by_hop(lower, listed) or (chunked and lower == "content-length"):
            continue  # RFC 9112 6.3: Transfer-Encoding overrides Content-Length
        if lower == "date" or lower == "server":
            continue
        if lower in ("location", "content-location"):
            value = mapping.url(value)
        elif lower == "set-cookie":
            value = mapping.cookie(value)
        elif lower == "via":
            received = value if received is None else f"{received}, {value}"
            continue
        headers.append((name, value))
    if via is not None:
        headers.append(("Via", append_via(received, {"SERVER_PROTOCOL": f"HTTP/{version / 10:.1f}"}, via)))
    elif received is not None:
        headers.append(("Via", received))
    return headers


def quote_path(path: str) -> str:
    """A PEP 3333 (latin-1) path as it goes on the wire."""
    return quote(path.encode("latin-1"), safe=_PATH_SAFE)


def client_host(environ: WSGIEnvironment) -> str:
    """The host (and port) the client asked for (PEP 3333 "URL Reconstruction")."""
    host = environ.get("HTTP_HOST")
    if host:
        return str(host)
    name, port = environ.get("SERVER_NAME", "localhost"), str(environ.get("SERVER_PORT", ""))
    default = "443" if environ.get("wsgi.url_scheme") == "https" else "80"
    return name if port in ("", default) else f"{name}:{port}"


def append_via(existing: str | None, environ: Mapping[str, Any], name: str) -> str:
    """*existing* ``Via`` with this hop appended (RFC 9110 7.6.3: ``1.1 name``)."""
    protocol = str(environ.get("SERVER_PROTOCOL") or "HTTP/1.1")
    hop = f"{protocol.partition('/')[2] or '1.1'} {name}"
    return f"{existing}, {hop}" if existing else hop


def request_target(environ: WSGIEnvironment, skip: int) -> str:
    """The request target after the upstream's base path: ``PATH_INFO`` from *skip* on, and the query.

    The server's raw request path (``RAW_URI``: gunicorn, ``REQUEST_URI``: uWSGI,
    Werkzeug) when it decodes to ``SCRIPT_NAME + PATH_INFO``, so escapes such as ``%2F``
    reach the upstream as the client sent them; else ``PATH_INFO`` quoted again. A
    ``.`` or ``..`` segment is a ``ValueError``: the upstream would resolve it, maybe
    outside the route.
    """
    script, path = environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO") or ""
    if _DOT_SEGMENT.search(path):
        raise ValueError(f"The path {path!r} has a '.' or '..' segment; it is not forwarded.")
    wire = None
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    if raw.startswith("/"):
        raw = raw.partition("?")[0]
        if unquote_to_bytes(raw) == (script + path).encode("latin-1"):
            wire = _raw_suffix(raw, len(script) + skip)
    if wire is None:
        wire = quote(path[skip:].encode("latin-1"), safe=_PATH_SAFE)
    query = environ.get("QUERY_STRING")
    return f"{wire}?{query}" if query else wire


def _raw_suffix(raw: str, skip: int) -> str | None:
    """What follows the first *skip* decoded bytes of the raw path *raw*; ``None`` if no boundary is there."""
    index = decoded = 0
    while decoded < skip and index < len(raw):
        if raw[index] == "%" and _HEX.fullmatch(raw[index + 1:index + 3]):
            index += 3
            decoded += 1
        else:
            decoded += len(raw[index].encode())
            index += 1
    return raw[index:] if decoded == skip else None

