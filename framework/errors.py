"""HTTP errors: Werkzeug's exceptions, ``abort``, and the error response bodies.

An error answers in JSON, ``{"error": {"status": 404, "message": "..."}}``, when the
client's ``Accept`` prefers ``application/json`` to ``text/html``, and otherwise with
the HTML page rendered from the ``error.html`` template (the app's own, if it has
one, else the built-in one).
"""

from __future__ import annotations

import json
from collections.abc import Callable

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
