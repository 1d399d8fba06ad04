"""HTTP errors: Werkzeug's exceptions, ``abort``, and the error response bodies.

An error answers in JSON, ``{"error": {"status": 404, "message": "..."}}``, when the
client's ``Accept`` prefers ``application/json`` to ``text/html``, and otherwise with
the HTML page rendered from the ``error.html`` template (the app's own, if it has
one, else the built-in one).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import (
    BadGateway,
    BadRequest,
    Conflict,
    ExpectationFailed,
    FailedDependency,
    Forbidden,
    GatewayTimeout,
    Gone,
    HTTPException,
    HTTPVersionNotSupported,
    ImATeapot,
    InternalServerError,
    LengthRequired,
    Locked,
    MethodNotAllowed,
    MisdirectedRequest,
    NotAcceptable,
    NotFound,
    NotImplemented,
    PreconditionFailed,
    PreconditionRequired,
    RequestedRangeNotSatisfiable,
    RequestEntityTooLarge,
    RequestHeaderFieldsTooLarge,
    RequestTimeout,
    RequestURITooLarge,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnavailableForLegalReasons,
    UnprocessableEntity,
    UnsupportedMediaType,
    abort,
)
from werkzeug.http import HTTP_STATUS_CODES, parse_accept_header

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "BadGateway", "BadRequest", "Conflict", "ExpectationFailed", "FailedDependency",
    "Forbidden", "GatewayTimeout", "Gone", "HTTPException", "HTTPVersionNotSupported",
    "ImATeapot", "InternalServerError", "LengthRequired", "Locked", "MethodNotAllowed",
    "MisdirectedRequest", "NotAcceptable", "NotFound", "NotImplemented", "PreconditionFailed",
    "PreconditionRequired", "RequestEntityTooLarge", "RequestHeaderFieldsTooLarge",
    "RequestTimeout", "RequestURITooLarge", "RequestedRangeNotSatisfiable",
    "ServiceUnavailable", "TooManyRequests", "Unauthorized", "UnavailableForLegalReasons",
    "UnprocessableEntity", "UnsupportedMediaType", "abort",
]

_OFFERS = ("text/html", "application/json")
_STATUS_LINES: dict[int, str] = {code: f"{code} {phrase}" for code, phrase in HTTP_STATUS_CODES.items()}


def status_line(code: int) -> str:
    """The WSGI status line for *code*: ``"404 Not Found"``."""
    line = _STATUS_LINES.get(code)
    if line is None:
        if not 100 <= code <= 999:
            raise ValueError(f"{code} is not an HTTP status code; use a number from 100 to 999.")
        line = f"{code} {HTTP_STATUS_CODES.get(code, 'Unknown')}"
    return line


def wants_json(accept: str | None) -> bool:
    """Whether an ``Accept`` header prefers ``application/json`` to ``text/html``.

    A tie, ``*/*`` or no header at all means HTML (RFC 9110 12.5.1).
    """
    if not accept or "json" not in accept:
        return False
    preferred = parse_accept_header(accept, MIMEAccept).best_match(_OFFERS)
    return preferred == "application/json"


def error_body(
    status: int,
    message: str,
    as_json: bool,
    render_html: Callable[..., str],
    traceback: str | None = None,
) -> tuple[bytes, str]:
    """The body and content type of an error response.

    :param render_html: Renders the ``error.html`` template with the given context.
    :param traceback: Shown only in debug mode.
    """
    if as_json:
        error: dict[str, object] = {"status": status, "message": message}
        if traceback:
            error["traceback"] = traceback
        body = json.dumps({"error": error}).encode()
        return body, "application/json"
    html = render_html(status=status, name=HTTP_STATUS_CODES.get(status, "Error"),
                       message=message, traceback=traceback)
    return html.encode(), "text/html; charset=utf-8"


def error_headers(content_type: str, error: HTTPException | None,
                  environ: WSGIEnvironment) -> list[tuple[str, str]]:
    """The headers of an error response.

    Its content type, ``Vary: Accept`` (the body was chosen by ``Accept``) and the
    exception's own headers (``Allow``, ``WWW-Authenticate``, ...).
    """
    headers = [("Content-Type", content_type), ("Vary", "Accept")]
    if error is not None:
        headers += [item for item in error.get_headers(environ) if item[0].lower() != "content-type"]
    return headers


@lru_cache(maxsize=1)
def _builtin_pages() -> Callable[..., str]:
    from .templating import create_environment  # templating imports wrappers, not errors

    return create_environment(None).get_template("error.html").render


def drop_body(iterable: Iterable[bytes]) -> Iterable[bytes]:
    """Answer a ``HEAD``: no body (RFC 9110 9.3.2), but the inner iterable is still closed."""
    close = getattr(iterable, "close", None)
    if close is not None:
        close()
    return []


def error_app(error: HTTPException) -> WSGIApplication:
    """A WSGI app answering *error* as an ``App`` does, for layers and the bare ``Dispatcher``.

    JSON when the client's ``Accept`` prefers it, else the built-in HTML page; the
    exception's own headers (``Allow``, ``WWW-Authenticate``, ...) are kept. An
    exception that carries its own response, or whose status is not an error (a
    redirect), answers with Werkzeug's ``get_response``.
    """

    def respond(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        code = error.code or 500
        if error.response is not None or code < 400:
            return error.get_response(environ)(environ, start_response)
        body, content_type = error_body(code, error.description or "",
                                        wants_json(environ.get("HTTP_ACCEPT")), _builtin_pages())
        headers = [*error_headers(content_type, error, environ), ("Content-Length", str(len(body)))]
        start_response(status_line(code), headers)
        return drop_body([body]) if environ.get("REQUEST_METHOD") == "HEAD" else [body]

    return respond
