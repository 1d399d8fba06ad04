"""``Dispatcher``: a router of WSGI applications, and the request path through it.

::

    from framework import Dispatcher

    d = Dispatcher()
    d.add("/hi/<name>", hello_app, methods=["GET"])
    application = d            # a WSGI app: no rule -> 404, wrong method -> 405

One request goes: ``PATH_INFO`` decoded (:func:`~framework.routing.request_path`)
-> :meth:`Router.match <framework.routing.Router.match>` -> the target, or the
:class:`~framework.routing.Miss`'s error -> the body dropped for ``HEAD``. The ``App``
takes the same steps through :meth:`Dispatcher.resolve` and
:func:`~framework.errors.drop_body`, adding its hooks and error handlers.

Routes are set up before the first request: adding one afterwards raises
``RuntimeError`` (Flask's rule), so every worker thread and process serves the same
routes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import BaseConverter

from .errors import drop_body, error_app
from .routing import NOT_FOUND, Route, Router, converter_class, request_path

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["Dispatcher"]


class Dispatcher:
    """A router of WSGI applications: the first layer of every ``App``.

    ::

        d = Dispatcher()
        d.add("/hi/<name>", hello_app, methods=["GET"])
        d.add("/files/<path:name>", files_app)

    A matched target is called with the environ unchanged but for
    ``environ["framework.params"]`` (the converted URL parameters). No rule gives
    404, a rule with other methods 405 with ``Allow``; ``HEAD`` is answered by every
    ``GET`` rule (the body dropped), ``OPTIONS`` with ``Allow``; a rule ending in
    ``/`` requested without it redirects (308) to the slashed URL.
    """

    def __init__(self) -> None:
        self._routes: list[Route] = []
        self._converters: dict[str, type[BaseConverter]] = {}
        self._router: Router | None = None
        #: The router that serves requests, fixed at the first one (``None`` before).
        self._serving: Router | None = None

    def _check_setup(self, what: str) -> None:
        """Refuse *what* once requests are served (Flask's rule: setup comes first)."""
        if self._serving is not None:
            raise RuntimeError(
                f"{what} after {self!r} has served its first request; register routes, "
                "converters, mounts, hooks and error handlers before serving (at import time).")

    def add(
        self,
        rule: str,
        target: Any,
        methods: Iterable[str] | None = None,
        name: str | None = None,
    ) -> Route:
        """Register *target* for *rule*.

        :param rule: A Werkzeug rule string: ``/users/<int:user_id>``.
        :param target: A WSGI application (in an ``App``: a handler).
        :param methods: The methods it answers; default ``GET``. ``HEAD`` comes with ``GET``.
        :param name: The name to build URLs by; default the target's ``__name__``.
        """
        self._check_setup(f"Adding the route {rule!r}")
        if isinstance(methods, str):
            raise TypeError(f"methods must be a list such as [{methods!r}], not a string.")
        wanted = {method.upper() for method in (methods or ("GET",))}
        if "GET" in wanted:
            wanted.add("HEAD")
        if name is None:
            name = getattr(target, "__name__", None) or rule
        route = Route(rule, target, frozenset(wanted), name)
        self._routes.append(route)
        self._router = None  # rebuilt on next use
        return route

    def converter(
        self,
        name: str,
        cls: type[BaseConverter] | None = None,
        *,
        regex: str | None = None,
        to_python: Callable[[str], Any] = str,
        to_url: Callable[[Any], str] = str,
    ) -> None:
        """Register a URL converter usable as ``<name:param>`` in rules.

        Either a Werkzeug :class:`~werkzeug.routing.BaseConverter` subclass, or a
        ``regex`` with ``to_python``/``to_url`` functions.
        """
        self._check_setup(f"Registering the converter {name!r}")
        if cls is None:
            if regex is None:
                raise TypeError("converter() needs a BaseConverter subclass or regex=..., e.g. "
                                "app.converter('slug', regex=r'[a-z0-9-]+').")
            cls = converter_class(regex, to_python, to_url, name=f"{name.title()}Converter")
        elif not (isinstance(cls, type) and issubclass(cls, BaseConverter)):
            raise TypeError(f"converter {name!r} must be a werkzeug.routing.BaseConverter subclass.")
        self._converters[name] = cls
        self._router = None

    @property
    def router(self) -> Router:
        """The compiled router (built on first use, and again after any change)."""
        router = self._router
        if router is None:
            router = self._router = Router(self._routes, self._converters)
        return router

    @property
    def routes(self) -> list[Route]:
        """The registered routes, in registration order."""
        return list(self._routes)

    def resolve(self, environ: WSGIEnvironment) -> tuple[Route, dict[str, Any]]:
        """The route and parameters for this request, or raise the HTTP error that answers it.

        The one routing step of ``Dispatcher`` and ``App``: ``PATH_INFO`` decoded (400
        for invalid UTF-8 or percent-encoding), matched, and a miss turned into its
        exception (404, 405 with ``Allow``, 308 to the slashed URL, or the ``OPTIONS``
        answer).
        """
        router = self._serving
        if router is None:
            router = self._serving = self.router
        path = environ.get("PATH_INFO") or "/"
        if "%" in path or not path.isascii():  # request_path's own test, here to save a call
            path = request_path(environ)
        found = router.match(path, environ["REQUEST_METHOD"])
        if type(found) is tuple:
            return found
        if found is NOT_FOUND:  # the common miss, without a call
            raise NotFound()
        raise found.error(environ)  # type: ignore[union-attr]

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Dispatch one WSGI request to the matching target."""
        try:
            route, params = self.resolve(environ)
        except HTTPException as error:
            return error_app(error)(environ, start_response)
        environ["framework.params"] = params
        app: WSGIApplication = route.target
        if environ["REQUEST_METHOD"] == "HEAD":
            return drop_body(app(environ, start_response))
        return app(environ, start_response)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {len(self._routes)} routes>"
