"""``CORS``: cross-origin resource sharing (the Fetch standard's CORS protocol) for any WSGI app.

::

    from middleware.cors import CORS

    application = CORS(app, origins=["https://app.example.com"], methods=["GET", "POST", "DELETE"],
                       headers=["Authorization", "Content-Type"], credentials=True)

Preflight requests (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``)
are answered here and never reach the app: an allowed origin asking for an allowed
method and allowed headers gets a ``204`` with ``Access-Control-Allow-Origin``,
``-Allow-Methods``, ``-Allow-Headers``, ``-Max-Age`` (and ``-Allow-Credentials``); any
other preflight gets a ``403`` without CORS headers (the framework's error body, and
an INFO line on the logger ``middleware.cors``). The browser then refuses to send the
actual request and the page's ``fetch()`` fails with a network error: the status is
never shown to the script, only in the browser's console.

Actual requests from an allowed origin reach the app and get
``Access-Control-Allow-Origin`` (and ``-Allow-Credentials``, ``-Expose-Headers``) added
to its response; requests from other origins, and requests without ``Origin``, get the
app's response untouched. Every response whose CORS headers depend on the ``Origin``
carries ``Vary: Origin`` (merged into the app's ``Vary``), so a shared cache never
serves one origin's answer to another: that is every response unless ``origins="*"``
without credentials, whose answer is the same ``*`` for all.

The headers are added as the response starts: the body streams through untouched and
the app's iterable is returned as it is (``close()`` reaches it from the server).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import Forbidden

from .toolkit import add_vary, error_app, is_preflight, rewrite_start_response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["CORS", "SAFELISTED_HEADERS", "SAFELISTED_METHODS"]

logger = logging.getLogger("middleware.cors")

#: Methods a browser sends cross-origin without asking (Fetch standard, "CORS-safelisted method").
SAFELISTED_METHODS = frozenset(("GET", "HEAD", "POST"))
#: Request headers a browser may send without asking (Fetch, "CORS-safelisted request-header");
#: a browser still preflights some of their values (a JSON ``Content-Type``), so they are always allowed.
SAFELISTED_HEADERS = frozenset(("accept", "accept-language", "content-language", "content-type"))

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 5.6.2: a method or a field name
# RFC 6454 7.1 serialized origin: scheme "://" host [":" port], no path, lower case.
_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://(?:\[[0-9a-f:.]+\]|[a-z0-9._~%!$&'()*+,;=-]+)(?::[0-9]{1,5})?")

OriginRule = str | Iterable[str] | Callable[[str], bool]
_Pairs = list[tuple[str, str]]


def _names(option: str, value: Any, example: str, upper: bool) -> frozenset[str] | None:
    """A list option of tokens as a set (``None`` for ``"*"``: anything)."""
    if value == "*":
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(f"CORS's {option} must be a list such as {example} or '*', not {value!r}.")
    names = list(value)
    for name in names:
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise ValueError(f"Each of CORS's {option} must be a name without spaces or commas, as in "
                             f"{example}, not {name!r}.")
    return frozenset(name.upper() if upper else name.lower() for name in names)


def _origins(origins: Any) -> tuple[bool, frozenset[str], Callable[[str], bool] | None]:
    """``origins`` as (any origin, the listed ones, a callable)."""
    if origins == "*":
        return True, frozenset(), None
    if callable(origins):
        return False, frozenset(), origins
    if isinstance(origins, str) or not isinstance(origins, Iterable):
        raise TypeError("CORS's origins must be a list such as ['https://app.example.com'], '*', or a "
                        f"callable origin -> bool, not {origins!r}.")
    listed = []
    for origin in origins:
        if not isinstance(origin, str) or not _ORIGIN.fullmatch(origin.lower()):
            raise ValueError("Each of CORS's origins must be a scheme, host and optional port without a "
                             f"path or trailing slash, e.g. 'https://app.example.com:8443', not {origin!r} "
                             "('null' is never allowed: sandboxed pages and local files all send it).")
        listed.append(origin.lower())
    return False, frozenset(listed), None


class CORS:
    """Answer CORS preflight requests and add CORS headers for allowed origins.

    ::

        application = CORS(app, origins=["https://app.example.com"], methods=["GET", "PUT"],
                           headers=["Content-Type", "Authorization"], expose_headers=["ETag"])
        application = CORS(app, origins="*")                      # a public, credential-less API
        application = CORS(app, origins=lambda origin: origin.endswith(".example.com"))

    :param app: The WSGI application to wrap.
    :param origins: The allowed origins: a list of serialized origins
        (``"https://app.example.com"``, compared case-insensitively), ``"*"`` for every
        origin, or a callable ``origin -> bool``.
    :param methods: Methods a preflight may ask for (``"*"``: any); ``GET``, ``HEAD`` and
        ``POST`` are always allowed, as browsers send them without asking.
    :param headers: Request headers a preflight may ask for (``"*"``: any); the
        CORS-safelisted ones (``Accept``, ``Accept-Language``, ``Content-Language``,
        ``Content-Type``) are always allowed.
    :param expose_headers: Response headers the page's script may read beyond the
        safelisted ones (``Access-Control-Expose-Headers``); ``"*"`` (every header) only
        without credentials, as the Fetch standard reads it literally otherwise.
    :param credentials: Whether the page may send cookies and HTTP authentication and read
        the answer (``Access-Control-Allow-Credentials: true``); never with ``origins="*"``.
    :param max_age: Seconds a browser may cache a preflight's answer
        (``Access-Control-Max-Age``); ``None`` leaves it to the browser (5 s in Chromium).
    """

    def __init__(self, app: WSGIApplication, *, origins: OriginRule,
                 methods: Iterable[str] | str = ("GET", "HEAD", "POST"), headers: Iterable[str] | str = (),
                 expose_headers: Iterable[str] | str = (), credentials: bool = False,
                 max_age: int | None = 600) -> None:
        if type(credentials) is not bool:
            raise TypeError(f"CORS's credentials must be True or False, not {credentials!r}.")
        if credentials and origins == "*":
            raise ValueError("CORS cannot allow credentials for every origin: browsers refuse "
                             "'Access-Control-Allow-Origin: *' with credentials, and reflecting any origin "
                             "would let every site act as the user; list the origins, or pass a callable.")
        if max_age is not None and (type(max_age) is not int or max_age < 0):
            raise ValueError("CORS's max_age must be a number of seconds, 0 or more, or None, "
                             f"not {max_age!r}.")
        self.app = app
        self.any_origin, self.origins, self.origin_check = _origins(origins)
        self.methods = _names("methods", methods, "['GET', 'PUT']", upper=True)
        self.headers = _names("headers", headers, "['Content-Type', 'Authorization']", upper=False)
        if not isinstance(expose_headers, str) and isinstance(expose_headers, Iterable):
            expose_headers = list(expose_headers)  # read twice below
        exposed = _names("expose_headers", expose_headers, "['ETag', 'Link']", upper=False)
        if exposed is not None:  # as given: the case the app's own headers are written in
            exposed = frozenset(expose_headers)
        if exposed is None and credentials:
            raise ValueError("CORS's expose_headers='*' does not work with credentials=True (browsers read "
                             "it as a header named '*'); list the headers to expose.")
        self.expose_headers = ["*"] if exposed is None else sorted(exposed)
        self.credentials = credentials
        self.max_age = max_age
        # The answer depends on the Origin unless it is '*' for everyone.
        self.varies = not (self.any_origin and not credentials)
        extra = [("Access-Control-Allow-Credentials", "true")] if credentials else []
        if self.expose_headers:
            extra.append(("Access-Control-Expose-Headers", ", ".join(self.expose_headers)))
        self._extra: _Pairs = extra

    def allows(self, origin: str) -> bool:
        """Whether *origin* (an ``Origin`` header value) may read the responses."""
        if self.any_origin:
            return True
        if self.origin_check is not None:
            return bool(self.origin_check(origin))
        return origin.lower() in self.origins

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer a preflight, or let the request through and add the CORS headers."""
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and is_preflight(environ):
            return self._preflight(environ, start_response, origin)
        if origin is None or not self.allows(origin):
            if not self.varies:
                return self.app(environ, start_response)
            return self.app(environ, rewrite_start_response(start_response, self._vary_only))
        allow = [("Access-Control-Allow-Origin", origin if self.varies else "*"), *self._extra]

        def add_headers(status: str, headers: _Pairs) -> tuple[str, _Pairs]:
            kept = [(name, value) for name, value in headers
                    if not name.lower().startswith("access-control-")]
            return status, add_vary([*kept, *allow], "Origin") if self.varies else [*kept, *allow]

        return self.app(environ, rewrite_start_response(start_response, add_headers))

    @staticmethod
    def _vary_only(status: str, headers: _Pairs) -> tuple[str, _Pairs]:
        return status, add_vary(headers, "Origin")

    def preflight_headers(self, origin: str, method: str, requested: str) -> _Pairs | None:
        """The headers of a successful preflight answer, or ``None`` to refuse it.

        :param origin: The ``Origin`` value.
        :param method: The ``Access-Control-Request-Method`` value.
        :param requested: The ``Access-Control-Request-Headers`` value (comma-separated).
        """
        if not self.allows(origin):
            return None
        if not _TOKEN.fullmatch(method):
            return None
        if method not in SAFELISTED_METHODS and self.methods is not None and \
                method.upper() not in self.methods:
            return None
        names = [name.strip() for name in requested.split(",") if name.strip()]
        for name in names:
            if not _TOKEN.fullmatch(name):
                return None
            if self.headers is not None and name.lower() not in self.headers and \
                    name.lower() not in SAFELISTED_HEADERS:
                return None
        allowed_methods = method if self.methods is None else ", ".join(sorted(self.methods | {method}))
        headers = [("Access-Control-Allow-Origin", origin if self.varies else "*"),
                   ("Access-Control-Allow-Methods", allowed_methods)]
        if names:  # echoed: a '*' would be read literally with credentials
            headers.append(("Access-Control-Allow-Headers", ", ".join(names)))
        if self.credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        if self.max_age is not None:
            headers.append(("Access-Control-Max-Age", str(self.max_age)))
        # The echoed methods and headers depend on the request too.
        vary = "Access-Control-Request-Method, Access-Control-Request-Headers"
        headers.append(("Vary", "Origin, " + vary if self.varies else vary))
        return headers

    def _preflight(self, environ: WSGIEnvironment, start_response: StartResponse,
                   origin: str) -> Iterable[bytes]:
        headers = self.preflight_headers(origin, environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD", ""),
                                         environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", ""))
        if headers is None:
            logger.info("CORS preflight refused: origin %r, method %r, headers %r, path %r", origin,
                        environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"),
                        environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", ""), environ.get("PATH_INFO", ""))
            refused = Forbidden("This cross-origin request is not allowed from this origin, or with "
                                "this method or these headers.")
            return error_app(refused)(environ, start_response)
        start_response("204 No Content", headers)
        return []

    def describe(self) -> str:
        """One line for ``python -m framework stack``."""
        origins: Any = ("*" if self.any_origin else
                        getattr(self.origin_check, "__name__", "callable") if self.origin_check
                        else sorted(self.origins))
        methods = "*" if self.methods is None else sorted(self.methods)
        headers = "*" if self.headers is None else sorted(self.headers)
        return (f"CORS(origins={origins!r}, methods={methods!r}, headers={headers!r}, "
                f"credentials={self.credentials}, max_age={self.max_age!r})")
