"""Request and response objects: Werkzeug's, with a lazy constructor.

:class:`Request` is a :class:`werkzeug.wrappers.Request` whose constructor only
stores the environ: ``method``, ``path``, ``headers`` and the rest are computed on
first use, so a handler that reads nothing costs nothing. Everything Werkzeug
offers (``args``, ``form``, ``files``, ``cookies``, ``json``, ...) is there.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import EnvironHeaders, MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.utils import cached_property
from werkzeug.wrappers import Request as _Request
from werkzeug.wrappers import Response as _Response

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

    from .app import App

__all__ = ["BAD_PERCENT", "Request", "Response", "wsgi_text"]

# RFC 3986 2.1: "%" must be followed by two hexadecimal digits.
BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def wsgi_text(environ: WSGIEnvironment, key: str) -> str:
    """Decode a PEP 3333 "bytes as latin-1" string as UTF-8, refusing invalid bytes."""
    value: str = environ.get(key) or ""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise BadRequest(f"The {key.replace('_', ' ').lower()} is not valid UTF-8.") from None


class Response(_Response):
    """A Werkzeug response; the default mimetype is ``text/html`` (as in Flask)."""

    default_mimetype = "text/html"


class Request(_Request):
    """A Werkzeug request built lazily, with the framework's extras.

    ``.params`` (the matched URL parameters), ``.session`` (set by the
    ``Sessions`` layer), ``.url_for`` (with ``SCRIPT_NAME``). Malformed input gives
    ``400 Bad Request``: invalid JSON (``.json``), invalid UTF-8 or percent-encoding
    in the query string (``.args``).
    """

    #: The ``App`` that dispatched this request (``None`` outside one).
    app: App | None = None
    shallow = False

    def __init__(self, environ: WSGIEnvironment, populate_request: bool = True,
                 shallow: bool = False) -> None:
        # Werkzeug computes a dozen attributes here; we defer each to first use.
        self.environ = environ
        if shallow:
            self.shallow = True
        elif populate_request:
            environ["werkzeug.request"] = self

    @cached_property
    def method(self) -> str:  # type: ignore[override]
        """The request method, upper case (``GET``)."""
        return str(self.environ.get("REQUEST_METHOD", "GET")).upper()

    @cached_property
    def scheme(self) -> str:  # type: ignore[override]
        """The URL scheme (``http`` or ``https``)."""
        return str(self.environ.get("wsgi.url_scheme", "http"))

    @cached_property
    def server(self) -> tuple[str, int | None] | None:  # type: ignore[override]
        """The server address ``(host, port)``, if known."""
        name = self.environ.get("SERVER_NAME")
        if name is None:
            return None
        try:
            return name, int(self.environ.get("SERVER_PORT") or "")
        except ValueError:
            return name, None

    @cached_property
    def root_path(self) -> str:  # type: ignore[override]
        """The prefix the application is mounted under (``SCRIPT_NAME``), no trailing slash."""
        return wsgi_text(self.environ, "SCRIPT_NAME").rstrip("/")

    @cached_property
    def path(self) -> str:  # type: ignore[override]
        """The path after :attr:`root_path`, always starting with ``/``."""
        return "/" + wsgi_text(self.environ, "PATH_INFO").lstrip("/")

    @cached_property
    def query_string(self) -> bytes:  # type: ignore[override]
        """The raw query string, as bytes."""
        return str(self.environ.get("QUERY_STRING", "")).encode("latin-1")

    @cached_property
    def headers(self) -> EnvironHeaders:  # type: ignore[override]
        """The request headers (read-only, from the environ)."""
        return EnvironHeaders(self.environ)

    @cached_property
    def remote_addr(self) -> str | None:  # type: ignore[override]
        """The client's address (``REMOTE_ADDR``)."""
        return self.environ.get("REMOTE_ADDR")

    @cached_property
    def args(self) -> MultiDict[str, str]:
        """The parsed query string; 400 for malformed percent-encoding or invalid UTF-8."""
        raw = self.environ.get("QUERY_STRING", "")
        if BAD_PERCENT.search(raw):
            raise BadRequest("The query string has malformed percent-encoding.")
        if not raw.isascii():
            wsgi_text(self.environ, "QUERY_STRING")
        try:
            pairs = parse_qsl(raw.encode("latin-1").decode("utf-8"), keep_blank_values=True,
                              errors="strict")
        except (UnicodeError, ValueError):
            raise BadRequest("The query string is not valid UTF-8 once decoded.") from None
        return self.parameter_storage_class(pairs)

    @property
    def params(self) -> dict[str, Any]:
        """The converted URL parameters of the matched rule."""
        params: dict[str, Any] = self.environ.get("framework.params", {})
        return params

    @property
    def session(self) -> Any:
        """The session dict set by the ``Sessions`` layer (``RuntimeError`` without it)."""
        try:
            return self.environ["framework.session"]
        except KeyError:
            raise RuntimeError(
                "request.session needs the Sessions layer: wrap the app in "
                "middleware.Sessions(app, secret_key=...)."
            ) from None

    def url_for(self, name: str, /, **values: Any) -> str:
        """Build a URL to the route *name*, under this request's ``SCRIPT_NAME``.

        ``_external=True`` gives an absolute URL on this request's host; ``_anchor``
        adds a fragment, ``_scheme`` picks the scheme of an external URL.
        """
        if self.app is None:
            raise RuntimeError("request.url_for works only on requests dispatched by an App.")
        return self.app.url_for(name, _request=self, **values)
