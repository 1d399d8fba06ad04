"""onion-wsgi's application core: ``App``, ``Dispatcher``, requests and responses.

::

    from framework import App

    app = App(__name__)

    @app.get("/")
    def index(request):
        return "Hello, World!"
"""

from werkzeug.utils import redirect as _redirect

from .app import App
from .errors import (
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
from .routing import Dispatcher
from .templating import TemplateResponse
from .wrappers import Request, Response

__version__ = "0.1.0"


def redirect(location: str, code: int = 302) -> Response:
    """A redirect response to *location* (302 by default; 303 after a POST form)."""
    response = _redirect(location, code, Response=Response)
    assert isinstance(response, Response)
    return response


__all__ = [
    "App", "BadGateway", "BadRequest", "Conflict", "Dispatcher", "ExpectationFailed",
    "FailedDependency", "Forbidden", "GatewayTimeout", "Gone", "HTTPException",
    "HTTPVersionNotSupported", "ImATeapot", "InternalServerError", "LengthRequired", "Locked",
    "MethodNotAllowed", "MisdirectedRequest", "NotAcceptable", "NotFound", "NotImplemented",
    "PreconditionFailed", "PreconditionRequired", "Request", "RequestEntityTooLarge",
    "RequestHeaderFieldsTooLarge", "RequestTimeout", "RequestURITooLarge",
    "RequestedRangeNotSatisfiable", "Response", "ServiceUnavailable", "TemplateResponse",
    "TooManyRequests", "Unauthorized", "UnavailableForLegalReasons", "UnprocessableEntity",
    "UnsupportedMediaType", "abort", "redirect",
]
