"""Request and response objects: Werkzeug's, with lazy constructors.

:class:`Request` is a :class:`werkzeug.wrappers.Request` whose constructor only
stores the environ: ``method``, ``path``, ``headers`` and the rest are computed on
first use, so a handler that reads nothing costs nothing. Everything Werkzeug
offers (``args``, ``form``, ``files``, ``cookies``, ``json``, ...) is there; a
URL-encoded form body is parsed by a direct path (multipart stays on Werkzeug's
parser).

:class:`Response` is a :class:`werkzeug.wrappers.Response` whose constructor, for
a ``str`` or ``bytes`` body, only stores the body, the status and the header pairs;
the :class:`~werkzeug.datastructures.Headers` object is built on first use of
``response.headers``, and :func:`framework.responses.emit` sends an untouched
response without building it at all.
"""

from __future__ import annotations

from functools import lru_cache
from io import BytesIO
from typing import TYPE_CHECKING, Any, Protocol, overload, runtime_checkable

from werkzeug.datastructures import EnvironHeaders, Headers, MultiDict
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.utils import get_content_type
from werkzeug.wrappers import Request as _Request
from werkzeug.wrappers import Response as _Response

from .compat import Fields, headers_from_pairs, prime_response
from .parsing import BAD_PERCENT, FORM_URLENCODED, lazy, parse_urlencoded, read_exactly, wsgi_text

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["Request", "Response", "URLBuilder"]

#: ``"404 NOT FOUND"`` for ``404``: the status lines Werkzeug's ``status`` setter makes.
STATUS_LINES = {code: f"{code} {reason.upper()}" for code, reason in HTTP_STATUS_CODES.items()}

_SPECIAL_HEADERS = frozenset(("content-type", "content-length", "location", "content-location"))


@lru_cache(maxsize=128)
def _content_type(mimetype: str) -> str:
    # "text/plain" -> "text/plain; charset=utf-8", as Werkzeug's constructor does.
    return get_content_type(mimetype, "utf-8")


class _LazyHeaders:
    """``Response.headers``: a ``Headers`` over the stored pairs, built on first access.

    A non-data descriptor: once built (or assigned), the instance's own attribute
    answers, at the cost of a plain attribute lookup.
    """

    @overload
    def __get__(self, response: None, owner: type[Any] | None = None) -> _LazyHeaders: ...

    @overload
    def __get__(self, response: Response, owner: type[Any] | None = None) -> Headers: ...

    def __get__(self, response: Response | None,
                owner: type[Any] | None = None) -> Headers | _LazyHeaders:
        if response is None:
            return self
        state = response.__dict__
        headers = headers_from_pairs(state["_header_pairs"])
        state["headers"] = headers
        return headers


def _plain_pairs(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[tuple[str, str]] | None:
    """*headers* (a ``dict`` or ``list`` of ``str`` pairs) as a list, or ``None`` for Werkzeug.

    ``None`` when Werkzeug's ``Headers`` would do more than append each pair: a
    value that is not a ``str`` (converted) or holds a newline (refused), or a
    name the constructor or the sending treats specially.
    """
    kind = type(headers)
    if kind is dict:
        items: Any = headers.items()  # type: ignore[union-attr]
    elif kind is list:
        items = headers
    else:
        return None
    pairs = []
    for item in items:
        if type(item) is not tuple or len(item) != 2:
            return None
        name, value = item
        if (type(name) is not str or type(value) is not str or "\n" in value or "\r" in value
                or name.lower() in _SPECIAL_HEADERS):
            return None
        pairs.append(item)
    return pairs


class Response(_Response):
    """A Werkzeug response; the default mimetype is ``text/html`` (as in Flask).

    Every Werkzeug API works (``headers``, ``set_cookie``, ``status``,
    ``get_data``/``set_data``, ``call_on_close``, iterables, ``make_conditional``,
    ...). A ``str`` or ``bytes`` body without ``direct_passthrough`` takes a cheap
    constructor: the headers Werkzeug's would build (the given ones, then
    ``Content-Type``, then ``Content-Length``) are kept as plain pairs until
    ``response.headers`` is first used.
    """

    default_mimetype = "text/html"
    direct_passthrough = False  # an instance attribute only when True (or set later)
    headers = _LazyHeaders()  # type: ignore[assignment]
    #: Whether this class may take the cheap constructor (decided per subclass).
    cheap_init = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A subclass that changes how the body, the status or the length are stored
        # gets Werkzeug's own constructor.
        below = cls.__mro__[: cls.__mro__.index(Response)]
        cls.cheap_init = (
            not any(name in vars(klass) for klass in below for name in ("set_data", "status", "status_code"))
            and cls.automatically_set_content_length is True and cls.default_status in STATUS_LINES
        )

    def __init__(
        self,
        response: Iterable[bytes] | bytes | Iterable[str] | str | None = None,
        status: int | str | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        mimetype: str | None = None,
        content_type: str | None = None,
        direct_passthrough: bool = False,
    ) -> None:
        kind = type(response)
        if (kind is str or kind is bytes) and not direct_passthrough and self.cheap_init:
            if status is None:
                status = self.default_status
            line = STATUS_LINES.get(status) if type(status) is int else None  # type: ignore[call-overload]
            pairs = None if headers is None else _plain_pairs(headers)
            if line is not None and (headers is None or pairs is not None):
                body: bytes = response.encode() if kind is str else response  # type: ignore[union-attr,assignment]
                if content_type is None:
                    if mimetype is None:
                        mimetype = self.default_mimetype
                    if mimetype is not None:
                        content_type = _content_type(mimetype)
                length = ("Content-Length", str(len(body)))
                if pairs is None and content_type is not None:
                    pairs = [("Content-Type", content_type), length]
                else:
                    pairs = pairs or []
                    if content_type is not None:
                        pairs.append(("Content-Type", content_type))
                    pairs.append(length)
                # Until ``headers`` is built, the pairs live here (``emit`` sends them as is).
                self._header_pairs = pairs
                prime_response(self, line, status)  # type: ignore[arg-type]
                self.response = [body]
                return
        super().__init__(response, status, headers, mimetype, content_type, direct_passthrough)


@runtime_checkable
class URLBuilder(Protocol):
    """What a request needs of the application that dispatched it (an ``App`` is one)."""

    def url_for(self, name: str, /, *, _request: Request | None = None, **values: Any) -> str:
        """Build the URL of the route *name* (see ``App.url_for``)."""
        ...


class Request(_Request):
    """A Werkzeug request built lazily, with the framework's extras.

    ``.params`` (the matched URL parameters), ``.session`` (set by the
    ``Sessions`` layer), ``.url_for`` (with ``SCRIPT_NAME``). Malformed input gives
    ``400 Bad Request``: invalid JSON (``.json``), invalid UTF-8 or percent-encoding
    in the query string (``.args``).
    """

    #: The ``App`` that dispatched this request (``None`` outside one).
    app: URLBuilder | None = None
    shallow = False
    #: ``args``, ``form`` and ``values`` are Werkzeug's ``ImmutableMultiDict`` with a direct ``get``.
    parameter_storage_class = Fields

    def __init__(self, environ: WSGIEnvironment, populate_request: bool = True,
                 shallow: bool = False) -> None:
        # Werkzeug computes a dozen attributes here; we defer each to first use.
        self.environ = environ
        if shallow:
            self.shallow = True
        elif populate_request:
            environ["werkzeug.request"] = self

    @lazy
    def method(self) -> str:  # type: ignore[override]
        """The request method, upper case (``GET``)."""
        return str(self.environ.get("REQUEST_METHOD", "GET")).upper()

    @lazy
    def scheme(self) -> str:  # type: ignore[override]
        """The URL scheme (``http`` or ``https``)."""
        return str(self.environ.get("wsgi.url_scheme", "http"))

    @lazy
    def server(self) -> tuple[str, int | None] | None:  # type: ignore[override]
        """The server address ``(host, port)``, if known."""
        name = self.environ.get("SERVER_NAME")
        if name is None:
            return None
        try:
            return name, int(self.environ.get("SERVER_PORT") or "")
        except ValueError:
            return name, None

    @lazy
    def root_path(self) -> str:  # type: ignore[override]
        """The prefix the application is mounted under (``SCRIPT_NAME``), no trailing slash."""
        return wsgi_text(self.environ, "SCRIPT_NAME").rstrip("/")

    @lazy
    def path(self) -> str:  # type: ignore[override]
        """The path after :attr:`root_path`, always starting with ``/``."""
        return "/" + wsgi_text(self.environ, "PATH_INFO").lstrip("/")

    @lazy
    def query_string(self) -> bytes:  # type: ignore[override]
        """The raw query string, as bytes."""
        return str(self.environ.get("QUERY_STRING", "")).encode("latin-1")

    @lazy
    def headers(self) -> EnvironHeaders:  # type: ignore[override]
        """The request headers (read-only, from the environ)."""
        return EnvironHeaders(self.environ)

    @lazy
    def remote_addr(self) -> str | None:  # type: ignore[override]
        """The client's address (``REMOTE_ADDR``)."""
        return self.environ.get("REMOTE_ADDR")

    @lazy
    def args(self) -> MultiDict[str, str]:
        """The parsed query string; 400 for malformed percent-encoding or invalid UTF-8."""
        raw = self.environ.get("QUERY_STRING", "")
        if not raw:
            return self.parameter_storage_class()
        if "%" in raw and BAD_PERCENT.search(raw):
            raise BadRequest("The query string has malformed percent-encoding.")
        text = raw if raw.isascii() else wsgi_text(self.environ, "QUERY_STRING")
        try:
            return parse_urlencoded(text, self.parameter_storage_class)
        except UnicodeDecodeError:
            raise BadRequest("The query string is not valid UTF-8 once decoded.") from None

    @lazy
    def form(self) -> MultiDict[str, str]:  # type: ignore[override]
        """The form fields of a URL-encoded or multipart body (empty for other bodies).

        A URL-encoded body is read and parsed here, with Werkzeug's limits
        (``max_content_length``, ``max_form_memory_size``: 413) and ``max_form_parts``
        counted in fields (413); malformed percent-escapes, invalid UTF-8 or a body
        shorter than its ``Content-Length`` give 400. Multipart bodies, and bodies
        whose stream was already touched, go through Werkzeug's parser.
        """
        fields = self._urlencoded_form()
        if fields is None:
            form: MultiDict[str, str] = super().form
            return form
        return fields

    @lazy
    def files(self) -> MultiDict[str, Any]:  # type: ignore[override]
        """The uploaded files of a multipart body (empty for any other body)."""
        self.form  # noqa: B018  (Werkzeug's parser sets both form and files)
        files: MultiDict[str, Any] | None = self.__dict__.get("files")
        if files is None:  # the direct URL-encoded path: no files
            files = self.parameter_storage_class()
        return files

    def _urlencoded_form(self) -> MultiDict[str, str] | None:
        """Parse a URL-encoded body whose length is known; ``None`` for Werkzeug's parser."""
        environ = self.environ
        content_type = environ.get("CONTENT_TYPE", "")
        if content_type != FORM_URLENCODED and (
                content_type.partition(";")[0].strip().lower() != FORM_URLENCODED):
            return None
        if self.shallow or "stream" in self.__dict__:
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None  # no length (chunked) or a malformed one: Werkzeug decides
        if length < 0:
            return None
        limit = self.max_content_length
        if limit is not None and length > limit:
            raise RequestEntityTooLarge()
        limit = self.max_form_memory_size
        if limit is not None and length > limit:
            raise RequestEntityTooLarge()
        stream = environ["wsgi.input"]
        data = stream.read(length) if length else b""
        if len(data) < length:  # a short read is not the end yet: read the rest, or 400
            data = read_exactly(stream, length, data)
        try:
            text = data.decode()
        except UnicodeDecodeError:
            raise BadRequest("The form body is not valid UTF-8.") from None
        if "%" in text and BAD_PERCENT.search(text):
            raise BadRequest("The form body has malformed percent-encoding.")
        try:
            fields = parse_urlencoded(text, self.parameter_storage_class)
        except UnicodeDecodeError:
            raise BadRequest("The form body is not valid UTF-8 once decoded.") from None
        limit = self.max_form_parts
        if limit is not None and text.count("&") >= limit and sum(map(len, fields.listvalues())) > limit:
            raise RequestEntityTooLarge("The form has more fields than max_form_parts allows.")
        # As after Werkzeug's parser, the stream is consumed (``files``, empty, is made
        # when asked for).
        self.__dict__["stream"] = BytesIO()
        return fields

    @property
    def params(self) -> dict[str, Any]:
        """The converted URL parameters of the matched rule."""
        params: dict[str, Any] = self.environ.get("framework.params", {})
        return params

    @property
    def session(self) -> Any:
        """The session dict at ``environ["framework.session"]``, put there by a sessions layer.

        ``RuntimeError`` without one: wrap the app in ``middleware.Sessions``.
        """
        try:
            return self.environ["framework.session"]
        except KeyError:
            raise RuntimeError(
                "request.session needs a sessions layer around the app, one that puts the "
                "session dict at environ['framework.session']: middleware.Sessions(app, "
                "secret_key=...) (see docs/auth.md)."
            ) from None

    def url_for(self, name: str, /, **values: Any) -> str:
        """Build a URL to the route *name*, under this request's ``SCRIPT_NAME``.

        ``_external=True`` gives an absolute URL on this request's host; ``_anchor``
        adds a fragment, ``_scheme`` picks the scheme of an external URL.
        """
        if self.app is None:
            raise RuntimeError("request.url_for works only on requests dispatched by an App.")
        return self.app.url_for(name, _request=self, **values)
