"""Serve WSGI applications under path prefixes and host names (PEP 3333 shifting).

The one implementation behind ``App.mount`` and ``middleware.Mount``::

    table = MountTable({"/api": api_app, "/blog": blog_app}, hosts={"*.example.com": shop})
    app, prefix = table.find(host, path_info)

A prefix matches at a segment boundary only (``/api`` serves ``/api`` and
``/api/x``, never ``/apix``) and the longest one wins; :func:`shift` then moves the
prefix from ``PATH_INFO`` to ``SCRIPT_NAME``. A host matches without its port;
``*.example.com`` matches any depth of subdomain, never ``example.com`` itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["MountTable", "PrefixMap", "normalize_prefix", "path_matches", "request_host", "shift"]

T = TypeVar("T")


def normalize_prefix(prefix: str) -> str:
    """``"/api/"`` -> ``"/api"``, as a PEP 3333 (latin-1) string; ``"/"`` -> ``""``."""
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise ValueError(f"A mount prefix must start with '/', e.g. '/api', not {prefix!r}.")
    return prefix.rstrip("/").encode("utf-8").decode("latin-1")


def path_matches(prefix: str, path: str) -> bool:
    """Whether *prefix* covers *path* at a segment boundary (``/a`` covers ``/a/b``, not ``/ab``)."""
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/") or not prefix


class PrefixMap(Generic[T]):
    """Path prefix -> value, looked up by the longest prefix at a segment boundary.

    ::

        rules = PrefixMap({"/admin": "staff", "/admin/billing": "finance"})
        rules.find("/admin/billing/2024")   # ("/admin/billing", "finance")
        rules.find("/administrator")        # None

    The cost of a lookup is one dict probe per path segment, whatever the number of
    prefixes. ``"/"`` (stored as ``""``) covers every path.

    :param items: Prefix -> value; a prefix must start with ``/``.
    """

    def __init__(self, items: Mapping[str, T] | None = None) -> None:
        self.items: dict[str, T] = {}
        for prefix, value in (items or {}).items():
            self[prefix] = value

    def __setitem__(self, prefix: str, value: T) -> None:
        self.items[normalize_prefix(prefix)] = value

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def find(self, path: str) -> tuple[str, T] | None:
        """``(prefix, value)`` for the longest prefix covering *path* (a PEP 3333 string)."""
        items = self.items
        candidate = path
        while candidate:
            if candidate in items:
                return candidate, items[candidate]
            candidate = candidate[: candidate.rfind("/")]
        if "" in items:
            return "", items[""]
        return None


def request_host(environ: WSGIEnvironment) -> str:
    """The request's host name, lower case, without the port (RFC 9110 7.2)."""
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or ""
    host = host.strip().lower()
    if host.startswith("["):  # an IPv6 literal: "[::1]:8000"
        return host[: host.find("]") + 1]
    return host.partition(":")[0].rstrip(".")


def shift(environ: WSGIEnvironment, prefix: str) -> None:
    """Move *prefix* from the front of ``PATH_INFO`` to the end of ``SCRIPT_NAME``."""
    if prefix:
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
        environ["PATH_INFO"] = environ.get("PATH_INFO", "")[len(prefix):]


class MountTable:
    """Which application serves a host and path: the pure decision of mounting.

    :param mounts: Path prefix -> application.
    :param hosts: Host name (or ``*.domain`` wildcard) -> application.
    """

    def __init__(self, mounts: Mapping[str, Any] | None = None,
                 hosts: Mapping[str, Any] | None = None) -> None:
        self.prefixes: PrefixMap[Any] = PrefixMap()
        self.hosts: dict[str, Any] = {}
        self.wildcards: dict[str, Any] = {}  # ".example.com" -> app
        #: Whether anything is mounted (a plain attribute: read on every request).
        self.active = False
        for prefix, app in (mounts or {}).items():
            self.add(prefix, app)
        for host, app in (hosts or {}).items():
            self.add_host(host, app)

    def __bool__(self) -> bool:
        return self.active

    def add(self, prefix: str, app: Any) -> None:
        """Serve *app* under the path *prefix*."""
        if not callable(app):
            raise TypeError(f"The app mounted at {prefix!r} must be a WSGI callable, not {app!r}.")
        self.prefixes[prefix] = app
        self.active = True

    def add_host(self, host: str, app: Any) -> None:
        """Serve *app* for requests to *host* (``*.example.com`` for subdomains)."""
        if not callable(app):
            raise TypeError(f"The app mounted for host {host!r} must be a WSGI callable.")
        name = host.strip().lower().rstrip(".")
        if name.startswith("*."):
            self.wildcards[name[1:]] = app
            self.active = True
        elif "*" in name or not name:
            raise ValueError(f"Host {host!r}: use an exact name or '*.example.com'.")
        else:
            self.hosts[name.partition(":")[0] if not name.startswith("[") else name] = app
            self.active = True

    def find_prefix(self, path: str) -> tuple[Any, str] | None:
        """``(app, prefix)`` for the longest prefix of *path*, or ``None``."""
        found = self.prefixes.find(path)
        return None if found is None else (found[1], found[0])

    def find_host(self, host: str) -> Any | None:
        """The app mounted for *host* (a name without port), or ``None``."""
        app = self.hosts.get(host)
        if app is None and self.wildcards:
            dot = host.find(".")
            while dot != -1 and app is None:
                app = self.wildcards.get(host[dot:])
                dot = host.find(".", dot + 1)
        return app

    def entries(self) -> Iterator[tuple[str, Any]]:
        """``(where, app)`` for every mount: ``"/api"``, ``"admin.example.com"``, ``"*.example.com"``."""
        for prefix, app in self.prefixes.items.items():
            yield prefix or "/", app
        yield from self.hosts.items()
        for suffix, app in self.wildcards.items():
            yield "*" + suffix, app

    def wrap_apps(self, wrap: Callable[[Any], Any]) -> None:
        """Replace every mounted app by ``wrap(app)`` (``framework.testing.validated`` uses it)."""
        for mapping in (self.prefixes.items, self.hosts, self.wildcards):
            for key, app in list(mapping.items()):
                mapping[key] = wrap(app)

    def dispatch(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes] | None:
        """Serve the request with the mounted app that matches, or return ``None`` for no match.

        The one dispatch step of ``App.mount`` and ``middleware.Mount``: the prefix moves
        from ``PATH_INFO`` to ``SCRIPT_NAME`` (PEP 3333) before the app is called.
        """
        found = self.find(environ)
        if found is None:
            return None
        app, prefix = found
        shift(environ, prefix)
        served: Iterable[bytes] = app(environ, start_response)
        return served

    def find(self, environ: WSGIEnvironment) -> tuple[Any, str] | None:
        """``(app, prefix)`` for this request: host mounts first, then path prefixes."""
        if self.hosts or self.wildcards:
            app = self.find_host(request_host(environ))
            if app is not None:
                return app, ""
        if self.prefixes:
            return self.find_prefix(environ.get("PATH_INFO") or "")
        return None
