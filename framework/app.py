"""The application: a :class:`~framework.dispatcher.Dispatcher` of handlers.

::

    from framework import App

    app = App(__name__)

    @app.get("/users/<int:user_id>")
    def user(request, user_id):
        return {"id": user_id}

A request goes: mounts -> :meth:`Dispatcher.resolve` (path checks, router) ->
``before_request`` hooks -> handler -> return value coerced -> ``after_request``
hooks -> WSGI, the body dropped for ``HEAD`` as the bare ``Dispatcher`` does. When no
``after_request`` hook is registered, a ``str``, ``bytes``, ``dict`` or ``list``
(alone or in a tuple) goes straight to ``start_response`` without a ``Response``
object; everything else goes through Werkzeug's :class:`~werkzeug.wrappers.Response`.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import traceback
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    InternalServerError,
    RequestEntityTooLarge,
)
from werkzeug.wrappers import Response as BaseResponse

from .dispatcher import Dispatcher
from .errors import drop_body, error_body, error_headers, wants_json
from .mounting import MountTable
from .responses import ReturnValueError, answer_plain, emit, make_response
from .templating import TemplateResponse, create_environment, module_folder
from .wrappers import Request, Response

if TYPE_CHECKING:
    import jinja2
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from .testing import TestClient

__all__ = ["App"]

F = TypeVar("F", bound=Callable[..., Any])
ErrorKey = int | type[BaseException]


class App(Dispatcher):
    """A WSGI application: routes, hooks, error handling and templates.

    :param import_name: The module's ``__name__``; templates are looked up in the
        folder *template_folder* next to that module, then in the built-in ones.
    :param debug: Show tracebacks in 500 responses.
    :param max_content_length: Answer request bodies larger than this (bytes) with 413.
    :param template_folder: The app's template folder, relative to the module.
    :param server_name: ``host[:port]`` for ``app.url_for(..., _external=True)``
        outside a request.
    """

    request_class: type[Request] = Request
    response_class: type[Response] = Response

    def __init__(
        self,
        import_name: str,
        *,
        debug: bool = False,
        max_content_length: int | None = None,
        template_folder: str | None = "templates",
        server_name: str | None = None,
    ) -> None:
        super().__init__()
        self.import_name = import_name
        self.debug = debug
        self.max_content_length = max_content_length
        self.server_name = server_name
        self.root_path = module_folder(import_name)
        self.template_folder = (
            None if template_folder is None else os.path.join(self.root_path, template_folder)
        )
        #: Let unhandled exceptions reach the server (``app.run(debug=True)`` sets it,
        #: so Werkzeug's debugger can show them).
        self.propagate_exceptions = False
        self.logger = logging.getLogger("framework")
        self.mounts = MountTable()
        self._before: list[Callable[[Request], Any]] = []
        self._after: list[Callable[[Request, BaseResponse], BaseResponse]] = []
        self._error_handlers: dict[ErrorKey, Callable[[Request, Any], Any]] = {}
        self._jinja: jinja2.Environment | None = None
        self._error_pages: dict[tuple[int, str], bytes] = {}
        self._templates: dict[str, tuple[jinja2.Template, str]] = {}

    def __repr__(self) -> str:
        return f"<App {self.import_name!r}: {len(self._routes)} routes>"

    # -- registration -------------------------------------------------------------------------

    def route(self, rule: str, methods: Iterable[str] | None = None,
              name: str | None = None) -> Callable[[F], F]:
        """Register the decorated ``handler(request, **params)`` for *rule*.

        :param methods: Methods it answers (default ``["GET"]``; ``HEAD`` comes with ``GET``).
        :param name: The name ``url_for`` knows it by (default: the function's name).
        """

        def decorator(handler: F) -> F:
            self.add(rule, handler, methods=methods, name=name)
            return handler

        return decorator

    def get(self, rule: str, name: str | None = None) -> Callable[[F], F]:
        """``route(rule, methods=["GET"])``."""
        return self.route(rule, ["GET"], name)

    def post(self, rule: str, name: str | None = None) -> Callable[[F], F]:
        """``route(rule, methods=["POST"])``."""
        return self.route(rule, ["POST"], name)

    def put(self, rule: str, name: str | None = None) -> Callable[[F], F]:
        """``route(rule, methods=["PUT"])``."""
        return self.route(rule, ["PUT"], name)

    def patch(self, rule: str, name: str | None = None) -> Callable[[F], F]:
        """``route(rule, methods=["PATCH"])``."""
        return self.route(rule, ["PATCH"], name)

    def delete(self, rule: str, name: str | None = None) -> Callable[[F], F]:
        """``route(rule, methods=["DELETE"])``."""
        return self.route(rule, ["DELETE"], name)

    def before_request(self, hook: F) -> F:
        """Call ``hook(request)`` before each handler; a non-``None`` return is the response."""
        self._check_setup("Adding a before_request hook")
        self._before.append(hook)
        return hook

    def after_request(self, hook: F) -> F:
        """Call ``hook(request, response)`` on every response; it returns the response.

        Hooks run in reverse order of registration, as in Flask.
        """
        self._check_setup("Adding an after_request hook")
        self._after.insert(0, hook)
        return hook

    def errorhandler(self, key: ErrorKey) -> Callable[[F], F]:
        """Register ``handler(request, error)`` for a status code or an exception class.

        A handler for 500 also receives unhandled exceptions (as an
        ``InternalServerError`` whose ``original_exception`` is the error). A plain
        body returned without a status keeps the error's status.
        """
        if not (isinstance(key, int) or (isinstance(key, type) and issubclass(key, BaseException))):
            raise TypeError(f"errorhandler() takes a status code or an exception class, not {key!r}.")

        def decorator(handler: F) -> F:
            self._check_setup(f"Registering an error handler for {key!r}")
            self._error_handlers[key] = handler
            return handler

        return decorator

    def mount(self, prefix: str, app: WSGIApplication) -> None:
        """Serve the WSGI application *app* under *prefix* (PEP 3333 path shifting)."""
        self._check_setup(f"Mounting an app at {prefix!r}")
        self.mounts.add(prefix, app)

    # -- templates and URLs -------------------------------------------------------------------

    @property
    def jinja_env(self) -> jinja2.Environment:
        """The Jinja2 environment (created on first use; add filters and globals here)."""
        if self._jinja is None:
            self._jinja = create_environment(self.template_folder, auto_reload=self.debug)
        return self._jinja

    def render(self, template: str, /, **context: Any) -> TemplateResponse:
        """A response rendering *template* with *context* (plus ``request`` and ``url_for``)."""
        found = self._templates.get(template)
        if found is None:
            mimetype = mimetypes.guess_type(template)[0] or "text/html"
            if mimetype.startswith("text/") or mimetype.endswith("xml"):
                mimetype += "; charset=utf-8"
            found = (self.jinja_env.get_template(template), mimetype)
            if not self.debug:  # in debug mode Jinja reloads changed files: ask it each time
                self._templates[template] = found
        return TemplateResponse(found[0], context, self.url_for, content_type=found[1])

    def url_for(self, name: str, /, *, _external: bool = False, _anchor: str | None = None,
                _scheme: str | None = None, _request: Request | None = None,
                **values: Any) -> str:
        """Build the URL of the route *name*; values the rule lacks go in the query string.

        Outside a request the URL has no ``SCRIPT_NAME``, and ``_external=True`` needs
        ``App(server_name=...)``; ``request.url_for`` uses the request's own.
        """
        url = self.router.build(name, values)
        if _request is not None and _request.root_path:
            url = quote(_request.root_path, safe="/:@!$&'()*+,;=~") + url
        if _anchor:
            url += "#" + quote(_anchor, safe="/?:@!$&'()*+,;=~")
        if not (_external or _scheme):
            return url
        if _request is not None:
            return f"{_scheme or _request.scheme}://{_request.host}{url}"
        if self.server_name is None:
            raise RuntimeError("app.url_for(..., _external=True) outside a request needs "
                               "App(server_name='example.com'); or use request.url_for.")
        return f"{_scheme or 'http'}://{self.server_name}{url}"

    # -- WSGI ---------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer one WSGI request (through :meth:`wsgi_app`)."""
        return self.wsgi_app(environ, start_response)

    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI application proper (wrap this to add middleware inside the app)."""
        if self.mounts.active:
            mounted = self.mounts.dispatch(environ, start_response)
            if mounted is not None:
                return mounted
        request = self.request_class(environ)
        request.app = self
        method = environ["REQUEST_METHOD"]
        try:
            length = environ.get("CONTENT_LENGTH")
            if length and (not length.isdigit() or self.max_content_length is not None):
                self._check_length(request, length)
            route, params = self.resolve(environ)
            environ["framework.params"] = params
            rv = self._run_before(request) if self._before else None
            if rv is None:
                rv = route.target(request, **params)
        except HTTPException as error:
            rv = self._handle_http_error(request, error)
        except Exception as error:
            rv = self._handle_exception(request, error)
        if "files" in request.__dict__:
            request.close()  # uploaded files are spooled to temporary files: free them now
        answered: Iterable[bytes] | None = None if self._after else answer_plain(rv, start_response)
        if answered is None:
            if self._after or not isinstance(rv, BaseResponse) or isinstance(rv, TemplateResponse):
                rv = self._answer(request, rv)  # coerced to a Response, through the hooks
            answered = emit(rv, environ, start_response)
        return drop_body(answered) if method == "HEAD" else answered

    def _run_before(self, request: Request) -> Any:
        """The first non-``None`` return of the ``before_request`` hooks, or ``None``."""
        for hook in self._before:
            rv = hook(request)
            if rv is not None:
                return rv
        return None

    def _answer(self, request: Request, rv: Any) -> BaseResponse:
        """Coerce *rv* to a Response and run the ``after_request`` hooks."""
        try:
            response = self._to_response(request, rv)
            for hook in self._after:
                response = hook(request, response)
            return response
        except Exception as error:
            return self._to_response(request, self._handle_exception(request, error))

    def _to_response(self, request: Request, rv: Any) -> BaseResponse:
        response = make_response(rv, self.response_class)
        if isinstance(response, TemplateResponse):
            response.render(request)
        return response

    # -- input checks -------------------------------------------------------------------------

    def _check_length(self, request: Request, length: str) -> None:
        """400 for a malformed ``Content-Length``, 413 for one over the limit."""
        if not length.isdigit():
            raise BadRequest("The Content-Length header is not a number.")
        if self.max_content_length is not None:
            if int(length) > self.max_content_length:
                raise RequestEntityTooLarge()
            request.max_content_length = self.max_content_length

    # -- errors -------------------------------------------------------------------------------

    def _find_error_handler(self, error: BaseException) -> Callable[[Request, Any], Any] | None:
        handlers = self._error_handlers
        if not handlers:
            return None
        if isinstance(error, HTTPException) and error.code in handlers:
            return handlers[error.code]
        for cls in type(error).__mro__:
            if cls in handlers:
                return handlers[cls]
        return None

    def _call_error_handler(self, handler: Callable[[Request, Any], Any], request: Request,
                            error: BaseException, status: int) -> Any:
        rv = handler(request, error)
        if isinstance(rv, tuple) and len(rv) == 2 and not isinstance(rv[1], (int, str)):
            return rv[0], status, rv[1]
        if isinstance(rv, (BaseResponse, tuple)):
            return rv
        return rv, status

    def _handle_http_error(self, request: Request, error: HTTPException) -> Any:
        environ = request.environ
        if error.code is None:
            # It carries its own response (``abort(response)``, the router's OPTIONS
            # answer): sent as is, as Flask does, without error handlers.
            return error.get_response(environ)
        code = error.code
        if code >= 400:
            self.logger.info("%s %s -> %s: %s", environ["REQUEST_METHOD"], environ.get("PATH_INFO"),
                             code, error.description)
        handler = self._find_error_handler(error)
        try:
            if handler is not None:
                return self._call_error_handler(handler, request, error, code)
            if error.response is not None or code < 400:
                return error.get_response(environ)
            return self._error_value(request, code, error.description or "", error)
        except Exception as failure:
            return self._handle_exception(request, failure, handled=True)

    def _handle_exception(self, request: Request, error: Exception, handled: bool = False) -> Any:
        """Answer an exception: its registered handler first, in every mode.

        A handled exception is logged at DEBUG only; an unhandled one at ERROR with
        its traceback, then re-raised for the debugger (``propagate_exceptions``) or
        answered by the 500 handler or the built-in 500 page. *handled*: an error
        handler itself failed, so no handler is tried again.
        """
        environ = request.environ
        handler = None if handled else self._find_error_handler(error)
        if handler is not None:
            self.logger.debug("%s %s raised %r, answered by %s", environ.get("REQUEST_METHOD"),
                              environ.get("PATH_INFO"), error, getattr(handler, "__name__", handler))
            try:
                return self._call_error_handler(handler, request, error, 500)
            except Exception as failure:
                self.logger.error("The error handler for %r failed", error, exc_info=failure)
                if self.propagate_exceptions:
                    raise
                error = failure
        else:
            what = "returned a value that is not a response" if isinstance(
                error, ReturnValueError) else "failed"
            self.logger.error("%s %s %s: %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"),
                              what, error, exc_info=error)
            if self.propagate_exceptions:
                raise error
            handler = None if handled else self._error_handlers.get(500)
            if handler is not None:
                try:
                    return self._call_error_handler(
                        handler, request, InternalServerError(original_exception=error), 500)
                except Exception as failure:
                    self.logger.error("The error handler for %r failed", error, exc_info=failure)
        details = "".join(traceback.format_exception(error)) if self.debug else None
        return self._error_value(request, 500, InternalServerError.description, None, details)

    def _error_value(self, request: Request, status: int, message: str,
                     error: HTTPException | None = None,
                     details: str | None = None) -> tuple[bytes, int, list[tuple[str, str]]]:
        """``(body, status, headers)`` of an error: plain values, for the fast path."""
        as_json = wants_json(request.environ.get("HTTP_ACCEPT"))
        key = (status, message)
        cached = None if as_json or details else self._error_pages.get(key)
        if cached is not None:
            body, content_type = cached, "text/html; charset=utf-8"
        else:
            body, content_type = error_body(status, message, as_json, self._render_error, details)
            if not as_json and not details and len(self._error_pages) < 256:
                self._error_pages[key] = body
        return body, status, error_headers(content_type, error, request.environ)

    def _render_error(self, **context: Any) -> str:
        return self.jinja_env.get_template("error.html").render(context)

    def test_client(self, **options: Any) -> TestClient:
        """A test client for this app (Werkzeug's ``Client``): ``client.get("/").json``.

        Needs nothing beyond the framework's own dependencies; see
        :class:`framework.testing.TestClient`.
        """
        from .testing import TestClient

        return TestClient(self, **options)

    # -- development server -------------------------------------------------------------------

    def run(self, host: str = "127.0.0.1", port: int = 8000, debug: bool = False,
            reload: bool = False, **options: Any) -> None:
        """Serve the app with Werkzeug's development server (never in production).

        ``debug=True`` shows tracebacks and turns on Werkzeug's interactive debugger;
        ``reload=True`` restarts the server when a source file changes.
        """
        from werkzeug.serving import run_simple

        from .servers import debugged

        if debug:
            self.debug = True
            self.propagate_exceptions = True
        # Werkzeug prints the debugger PIN only in its reloader's child: without the
        # reloader, wrap the app here, which prints it.
        app: Any = debugged(self, host) if debug and not reload else self
        options.setdefault("threaded", True)
        run_simple(host, port, app, use_reloader=reload, use_debugger=debug and reload, **options)
