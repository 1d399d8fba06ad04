"""What a handler returns, turned into a response.

=====================================  ==============================================
returned                               answered with
=====================================  ==============================================
a :class:`Response`                    itself
``str`` (or ``bytes``)                 200 ``text/html; charset=utf-8``
``dict`` or ``list``                   200 ``application/json``
an iterator or generator               a streamed body (never buffered)
``(body, status)``                     *body* as above, with that status
``(body, headers)``                    *body* as above, plus those headers
``(body, status, headers)``            both
anything else                          a programming error: :class:`ReturnValueError`
=====================================  ==============================================

:func:`plain_body` is the fast path the ``App`` uses to answer ``str``/``dict``
returns straight to ``start_response`` when no hook needs a ``Response`` object.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import uuid
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from werkzeug.http import http_date
from werkzeug.utils import redirect as _redirect
from werkzeug.wrappers import Response as BaseResponse

from .compat import headers_list, json_encoder, response_has_close_callbacks
from .errors import status_line
from .wrappers import Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = [
    "ReturnValueError", "answer_plain", "emit", "json_dumps", "json_response", "make_response", "plain_body",
    "redirect", "split_return",
]

_NO_BODY = frozenset((204, 304))

HTML = "text/html; charset=utf-8"
JSON = "application/json"


class ReturnValueError(TypeError):
    """A handler returned something that cannot become a response."""


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return http_date(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_encode = json_encoder(_json_default)


def json_dumps(value: Any) -> bytes:
    """Compact JSON as UTF-8 bytes; dates, UUIDs, decimals and dataclasses included.

    No circular check: a cycle recurses until ``RecursionError``, answered as a 500
    like any handler error.
    """
    return "".join(_encode(value, 0)).encode()


def plain_body(value: Any) -> tuple[bytes, str] | None:
    """``(body, content type)`` for a ``str``/``bytes``/``dict``/``list``, else ``None``."""
    kind = type(value)
    if kind is str:
        return value.encode(), HTML
    if kind is dict or kind is list:
        return json_dumps(value), JSON
    if kind is bytes:
        return value, HTML
    return None


def split_return(value: tuple[Any, ...]) -> tuple[Any, int | str | None, Any]:
    """Split ``(body, status)``, ``(body, headers)`` or ``(body, status, headers)``."""
    if len(value) == 3:
        return value[0], value[1], value[2]
    if len(value) == 2:
        if isinstance(value[1], (int, str)):
            return value[0], value[1], None
        return value[0], None, value[1]
    raise ReturnValueError(
        f"a returned tuple must be (body, status), (body, headers) or (body, status, headers), "
        f"not a tuple of {len(value)} items"
    )


def make_response(value: Any, response_class: type[Response] = Response) -> BaseResponse:
    """Turn a handler's return value into a :class:`Response`."""
    status: int | str | None = None
    headers: Any = None
    if type(value) is tuple:
        value, status, headers = split_return(value)
    if isinstance(value, BaseResponse):
        response = value
    else:
        plain = plain_body(value)
        if plain is not None:
            response = response_class(plain[0], content_type=plain[1])
        elif isinstance(value, Iterator):
            response = response_class(value, content_type=HTML)  # streamed as it comes
        else:
            raise ReturnValueError(
                f"a handler returned {value!r} (type {type(value).__name__}); return a Response, "
                "str, bytes, dict, list, an iterator, or a (body, status, headers) tuple"
            )
    if status is not None:
        response.status = status  # type: ignore[assignment]
    if headers is not None:
        # A mapping replaces headers of the same name; a list (or Headers) adds to them,
        # so several Set-Cookie lines survive.
        replace = isinstance(headers, Mapping)
        for key, header_value in headers.items() if replace else headers:
            if replace or key.lower() == "content-type":
                response.headers[key] = header_value
            else:
                response.headers.add(key, header_value)
    return response


def redirect(location: str, code: int = 302) -> Response:
    """A redirect response to *location* (302 by default; 303 after a POST form)."""
    return cast(Response, _redirect(location, code, Response=Response))


def answer_plain(rv: Any, start_response: StartResponse) -> list[bytes] | None:
    """Answer a plain ``str``/``dict``/... (alone or in a tuple) without a Response.

    ``None`` when *rv* needs a Response object. The caller drops the body of a ``HEAD``.
    """
    status = "200 OK"
    headers: Any = None
    if type(rv) is tuple:
        if len(rv) == 2:
            if type(rv[1]) is int:
                rv, code = rv
                if code < 200 or code in _NO_BODY:
                    return None
                status = status_line(code)
            elif isinstance(rv[1], (dict, list)):
                rv, headers = rv
            else:
                return None
        elif len(rv) == 3 and type(rv[1]) is int and 200 <= rv[1] and rv[1] not in _NO_BODY:
            status = status_line(rv[1])
            rv, headers = rv[0], rv[2]
        else:
            return None
    kind = type(rv)
    if kind is str:
        body, content_type = rv.encode(), HTML
    elif kind is dict or kind is list:
        body, content_type = json_dumps(rv), JSON
    elif kind is bytes:
        body, content_type = rv, HTML
    else:
        return None
    if headers:
        wsgi_headers = [("Content-Type", content_type)]
        for key, value in headers.items() if type(headers) is dict else headers:
            lower = key.lower()
            if lower == "content-type":
                wsgi_headers[0] = (key, value)
            elif lower != "content-length":
                wsgi_headers.append((key, value))
        wsgi_headers.append(("Content-Length", str(len(body))))
    else:
        wsgi_headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    start_response(status, wsgi_headers)
    return [body]


def emit(response: BaseResponse, environ: WSGIEnvironment,
         start_response: StartResponse) -> Iterable[bytes]:
    """Send *response*: a buffered body straight to the server, the rest via Werkzeug.

    Werkzeug's ``Response.__call__`` is general (streams, ranges, ``Location``
    fixing, 1xx/204/304 header rules, close callbacks). A body that is a list,
    of a class that sends as Werkzeug's does, needs none of that: its headers go
    out as Werkzeug's would (``Content-Length`` added when missing) and its body as
    is. A :class:`~framework.wrappers.Response` whose headers were never touched
    sends the pairs its constructor stored, without building a ``Headers``.
    The caller drops the body of a ``HEAD`` (:func:`~framework.errors.drop_body`).
    """
    body = response.response
    if (type(body) is not list or response.direct_passthrough or not _sends_plainly(type(response))  # type: ignore[arg-type]
            or response_has_close_callbacks(response)):
        return response(environ, start_response)
    code = response.status_code
    if code < 200 or code in _NO_BODY:
        return response(environ, start_response)
    state = response.__dict__
    headers = state.get("headers")
    if headers is None:
        # framework.Response's cheap constructor: exactly the pairs Werkzeug would send.
        pairs = state["_header_pairs"].copy()
    else:
        pairs = headers_list(headers).copy()  # to_wsgi_list() also hands out a copy
        has_length = False
        for name, _ in pairs:
            lower = name.lower()
            if lower == "content-length":
                has_length = True
            elif lower == "location" or lower == "content-location":
                return response(environ, start_response)  # Werkzeug makes them URIs
        if not has_length and response.automatically_set_content_length:
            body = [chunk.encode() if isinstance(chunk, str) else chunk for chunk in body]
            pairs.append(("Content-Length", str(sum(map(len, body)))))
    start_response(response.status, pairs)
    if len(body) == 1 and type(body[0]) is bytes:
        return [body[0]]
    return [chunk.encode() if isinstance(chunk, str) else chunk for chunk in body]


@lru_cache(maxsize=64)
def _sends_plainly(cls: type[BaseResponse]) -> bool:
    """Whether *cls* sends itself as Werkzeug's ``Response`` does (no override on the way)."""
    return all(getattr(cls, name) is getattr(BaseResponse, name) for name in (
        "__call__", "get_wsgi_response", "get_wsgi_headers", "get_app_iter", "iter_encoded", "close"))


def json_response(value: Any, status: int = 200,
                  headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None) -> Response:
    """A :class:`Response` whose body is *value* as compact JSON (``application/json``).

    ::

        response = json_response({"id": 1}, 201)
        response.set_cookie("seen", "1")
        return response

    *value* is encoded by :func:`json_dumps` (dates, UUIDs, decimals and dataclasses
    included), as a returned ``dict`` is. A function rather than ``Response.json``:
    Werkzeug's ``response.json`` already reads a response's JSON body back.
    """
    return Response(json_dumps(value), status, headers, content_type=JSON)
