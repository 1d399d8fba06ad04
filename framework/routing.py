"""URL routing: Werkzeug's rule syntax, matched by a compiled segment tree.

::

    from framework import Dispatcher

    d = Dispatcher()
    d.add("/hi/<name>", hello_app, methods=["GET"])
    application = d            # a WSGI app: no rule -> 404, wrong method -> 405

Rules are parsed and built (``url_for``) by Werkzeug's :class:`~werkzeug.routing.Rule`,
so syntax, converters and URL building behave exactly as in Werkzeug and Flask.
Matching is ours: fully static paths are one dict lookup, dynamic rules live in a
tree of path segments (static children in a dict, dynamic ones as precompiled
regular expressions tried by converter weight), so the cost of a match depends on
the depth of the path, not on the number of rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote_to_bytes

from werkzeug.exceptions import BadRequest, HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import BaseConverter, BuildError, Map, Rule, ValidationError
from werkzeug.routing.exceptions import RequestRedirect

from .compat import rule_converters, rule_parts
from .errors import error_app
from .wrappers import BAD_PERCENT, wsgi_text

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "Dispatcher", "Route", "Router", "SlashRedirect", "converter_class", "request_path", "slash_redirect",
]


@dataclass(eq=False)
class Route:
    """One registered rule: its target and the methods it answers.

    :param rule: The rule string, in Werkzeug syntax (``/users/<int:user_id>``).
    :param target: What the rule dispatches to (a WSGI app, or a handler in ``App``).
    :param methods: Upper-case methods; ``HEAD`` is implied by ``GET``.
    :param name: The name ``url_for`` builds it by.
    """

    rule: str
    target: Any
    methods: frozenset[str]
    name: str
    werkzeug_rule: Rule | None = field(default=None, repr=False)
    arguments: tuple[str, ...] = field(default=(), repr=False)


def converter_class(
    regex: str,
    to_python: Callable[[str], Any] = str,
    to_url: Callable[[Any], str] = str,
    name: str = "Converter",
) -> type[BaseConverter]:
    """Build a Werkzeug converter class from a regular expression and two functions.

    ``to_python`` may raise :class:`ValueError` to refuse a segment that matched the
    regex: the rule then does not match (as Werkzeug's ``ValidationError``).
    """
    re.compile(regex)  # fail at registration, not at the first request

    def _to_python(self: BaseConverter, value: str) -> Any:
        try:
            return to_python(value)
        except ValueError:
            raise ValidationError() from None

    def _to_url(self: BaseConverter, value: Any) -> str:
        return BaseConverter.to_url(self, to_url(value))

    return type(name, (BaseConverter,), {"regex": regex, "to_python": _to_python, "to_url": _to_url})


class SlashRedirect(RequestRedirect):
    """The router's 308 to the slashed path (made absolute under ``SCRIPT_NAME`` later)."""


class _Node:
    """A state of the segment tree: static children, dynamic children, routes."""

    __slots__ = ("static", "dynamic", "routes", "methods", "_weights")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        # (key, fullmatch, final, converters, child), in Werkzeug's weight order
        self.dynamic: list[tuple[Any, Callable[[str], Any], bool, tuple[Any, ...], _Node]] = []
        self._weights: dict[int, Any] = {}
        self.routes: dict[str, Route] = {}  # method -> route, first registered wins
        self.methods: frozenset[str] = frozenset()

    def add_route(self, route: Route) -> None:
        for method in route.methods:
            self.routes.setdefault(method, route)
        self.methods = frozenset(self.routes)

    def child(self, part: Any, converters: tuple[tuple[str, BaseConverter], ...]) -> _Node:
        if part.static:
            return self.static.setdefault(part.content, _Node())
        # Two rules share a state only if their regex and converters are the same:
        # <int(min=1):a> and <int:b> both match \d+ but validate differently.
        key = (part.content, part.final, tuple(
            (type(conv), sorted((k, repr(v)) for k, v in vars(conv).items() if k != "map"))
            for _group, conv in converters))
        for entry in self.dynamic:
            if entry[0] == key:
                return entry[4]
        node = _Node()
        self._weights[id(node)] = part.weight
        pattern = re.compile(part.content)
        groups = tuple((pattern.groupindex[group], conv) for group, conv in converters)
        self.dynamic.append((key, pattern.fullmatch, part.final, groups, node))
        self.dynamic.sort(key=lambda entry: self._weights[id(entry[4])])
        return node


class Router:
    """Match a path and method to a :class:`Route`; build URLs back from names.

    Pure: no WSGI here. :meth:`match` returns ``(route, params)`` or raises a
    Werkzeug ``NotFound``, ``MethodNotAllowed`` (with the allowed methods) or
    ``SlashRedirect`` (308 to the slashed URL for a rule ending in ``/``).

    :param routes: The routes, in registration order (earlier wins a tie).
    :param converters: Extra converter classes by name, beside Werkzeug's defaults.
    """

    def __init__(self, routes: Iterable[Route],
                 converters: Mapping[str, type[BaseConverter]] | None = None) -> None:
        self.map = Map(converters=dict(converters or {}), strict_slashes=True, merge_slashes=False)
        self.static: dict[str, _Node] = {}
        self.root = _Node()
        self.by_name: dict[str, list[Route]] = {}
        self.routes: list[Route] = []
        self.slashed = False  # is there a rule ending in "/" (other than "/")?
        for route in routes:
            self._add(route)

    def _add(self, route: Route) -> None:
        if not route.rule.startswith("/"):
            raise ValueError(f"URL rule {route.rule!r} must start with '/', e.g. '/{route.rule}'.")
        rule = Rule(route.rule, endpoint=route.name, methods=sorted(route.methods))
        try:
            self.map.add(rule)
        except LookupError as error:
            raise LookupError(
                f"{error} in rule {route.rule!r}: register it first with "
                "app.converter(name, ConverterClass) or app.converter(name, regex=...)."
            ) from None
        route.werkzeug_rule = rule
        converters = rule_converters(rule)
        route.arguments = tuple(converters)
        self.slashed = self.slashed or (route.rule.endswith("/") and route.rule != "/")
        self.routes.append(route)
        self.by_name.setdefault(route.name, []).append(route)
        parts = rule_parts(rule)
        if all(part.static for part in parts):
            node = self.static.setdefault("/".join(part.content for part in parts), _Node())
        else:
            node = self.root
            remaining = iter(converters.values())
            for part in parts:
                count = 0 if part.static else part.content.count("(?P<__werkzeug_")
                node = node.child(part, tuple((f"__werkzeug_{i}", next(remaining)) for i in range(count)))
        node.add_route(route)

    # -- matching ---------------------------------------------------------------------------

    def match(self, path: str, method: str) -> tuple[Route, dict[str, Any]]:
        """Return the route for *path* and *method* and its converted parameters."""
        allowed: set[str] = set()
        found = self._find(path, method, allowed)
        if found is not None:
            return found
        if self.slashed and not path.endswith("/"):
            # RFC 9110 15.4.9: 308 keeps the method and body of the request.
            slashed = self._find(path + "/", method, set())
            if slashed is not None:
                raise SlashRedirect(path + "/")
        if allowed:
            # OPTIONS is answered for every rule, so it is allowed too (RFC 9110 10.2.1).
            raise MethodNotAllowed(valid_methods=sorted(allowed | {"OPTIONS"}))
        raise NotFound()

    def _find(self, path: str, method: str, allowed: set[str]) -> tuple[Route, dict[str, Any]] | None:
        node = self.static.get(path)
        if node is not None:
            route = node.routes.get(method)
            if route is not None:
                return route, {}
            allowed.update(node.methods)
        if not self.root.dynamic and not self.root.static:
            return None
        return self._walk(self.root, path.split("/"), 0, (), method, allowed)

    def _walk(
        self, node: _Node, parts: list[str], index: int, values: tuple[Any, ...],
        method: str, allowed: set[str],
    ) -> tuple[Route, dict[str, Any]] | None:
        end = len(parts)
        while index < end and not node.dynamic:  # no alternatives: descend without recursion
            node = node.static.get(parts[index])  # type: ignore[assignment]
            if node is None:
                return None
            index += 1
        if index == end:
            route = node.routes.get(method)
            if route is None:
                allowed.update(node.methods)
                return None
            return route, dict(zip(route.arguments, values, strict=True))
        part = parts[index]
        child = node.static.get(part)
        if child is not None:
            found = self._walk(child, parts, index + 1, values, method, allowed)
            if found is not None:
                return found
        for _key, fullmatch, final, converters, child in node.dynamic:
            if final:
                target, following = "/".join(parts[index:]), end
            else:
                target, following = part, index + 1
            matched = fullmatch(target)
            if matched is None:
                continue
            try:
                if len(converters) == 1:  # the common case: one converter per segment
                    group, conv = converters[0]
                    converted: tuple[Any, ...] = (conv.to_python(matched.group(group)),)
                else:
                    converted = tuple(conv.to_python(matched.group(group)) for group, conv in converters)
            except ValidationError:
                continue
            found = self._walk(child, parts, following, values + converted, method, allowed)
            if found is not None:
                return found
        return None

    # -- building ---------------------------------------------------------------------------

    def build(self, name: str, values: Mapping[str, Any]) -> str:
        """Build the path (and query string for extra values) of the route *name*."""
        values = {key: value for key, value in values.items() if value is not None}
        for route in self.by_name.get(name, ()):
            rule = route.werkzeug_rule
            assert rule is not None
            if rule.suitable_for(values):
                built = rule.build(values)
                if built is not None:
                    return built[1]
        raise BuildError(name, values, None)


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
        if isinstance(methods, str):
            raise TypeError(f"methods must be a list such as [{methods!r}], not a string.")
        wanted = {method.upper() for method in (methods or ("GET",))}
        if "GET" in wanted:
            wanted.add("HEAD")
        if name is None:
            name = getattr(target, "__name__", None) or rule
        route = Route(rule, target, frozenset(wanted), name)
        self._routes.append(route)
        self._router = None  # rebuilt at the next request
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

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Dispatch one WSGI request to the matching target."""
        method = environ["REQUEST_METHOD"]
        try:
            path = environ.get("PATH_INFO") or "/"
            if "%" in path or not path.isascii():
                path = request_path(environ)
            route, params = self.router.match(path, method)
        except SlashRedirect as redirect:
            return slash_redirect(environ, redirect.new_url)(environ, start_response)
        except HTTPException as error:
            if method == "OPTIONS" and isinstance(error, MethodNotAllowed):
                return options_response(error.valid_methods or ())(environ, start_response)
            return error_app(error)(environ, start_response)
        environ["framework.params"] = params
        app: WSGIApplication = route.target
        if method == "HEAD":
            return drop_body(app(environ, start_response))
        return app(environ, start_response)


def request_path(environ: WSGIEnvironment) -> str:
    """``PATH_INFO`` as text; 400 for invalid UTF-8 or malformed percent-encoding."""
    path = wsgi_text(environ, "PATH_INFO") or "/"
    if "%" in path:
        # Servers decode valid escapes; one left in the raw URI is malformed
        # (RFC 3986 2.1). Without the raw URI, judge the decoded path.
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if BAD_PERCENT.search(raw.partition("?")[0] if raw else path):
            raise BadRequest("The URL path has malformed percent-encoding.")
    if "\ufffd" in path:
        # Werkzeug's dev server decodes %ff with errors="replace": the damage shows as
        # U+FFFD, and the raw URI tells whether the client really sent invalid UTF-8.
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if raw:
            try:
                unquote_to_bytes(raw.partition("?")[0].encode("latin-1")).decode("utf-8")
            except UnicodeError:
                raise BadRequest("The URL path is not valid UTF-8 once decoded.") from None
    return path


def slash_redirect(environ: WSGIEnvironment, path: str) -> RequestRedirect:
    """The 308 to *path* (the slashed path), under ``SCRIPT_NAME``, keeping the query."""
    root = environ.get("SCRIPT_NAME", "").encode("latin-1").decode("utf-8", "replace")
    location = quote(root + path, safe="/:@!$&'()*+,;=~")
    query = environ.get("QUERY_STRING")
    return RequestRedirect(f"{location}?{query}" if query else location)


def options_response(methods: Iterable[str]) -> WSGIApplication:
    """A WSGI app answering ``OPTIONS`` with ``Allow`` and an empty body."""
    allow = ", ".join(sorted({*methods, "OPTIONS"}))

    def options(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Allow", allow), ("Content-Type", "text/plain; charset=utf-8"),
                                  ("Content-Length", "0")])
        return []

    return options


def drop_body(iterable: Iterable[bytes]) -> Iterable[bytes]:
    """Answer a ``HEAD``: no body, but the inner iterable is still closed."""
    close = getattr(iterable, "close", None)
    if close is not None:
        close()
    return []
