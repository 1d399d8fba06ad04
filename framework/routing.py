"""URL routing: Werkzeug's rule syntax, matched by a compiled segment tree. Pure: no WSGI.

::

    from framework.routing import Route, Router

    router = Router([Route("/users/<int:id>", "user", frozenset({"GET", "HEAD"}), "user")])
    router.match("/users/7", "GET")    # (route, {"id": 7})
    router.match("/users/x", "GET")    # Miss(404, ...): why nothing matched

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
from .parsing import BAD_PERCENT, wsgi_text
from .wrappers import Response

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["NOT_FOUND", "Miss", "Route", "Router", "converter_class", "request_path", "slash_redirect"]


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


class Miss:
    """The router's answer when no route serves a request: why, and what to say.

    ``status`` is one of:

    - 404: no rule matches the path;
    - 405: rules match with other methods, listed in ``allowed`` (with ``OPTIONS``);
    - 308: no rule matches, but one does with a trailing slash: ``location`` is that
      slashed path (RFC 9110 15.4.9: a 308 keeps the method and body);
    - 200: an ``OPTIONS`` request to a path whose rules do not register ``OPTIONS``:
      answered with ``Allow`` (RFC 9110 9.3.7).

    :meth:`error` turns it into the HTTP exception that answers it, so the bare
    :class:`Dispatcher` and the ``App`` (with its error handlers) answer alike.
    """

    __slots__ = ("status", "allowed", "location")

    def __init__(self, status: int, allowed: tuple[str, ...] = (), location: str = "") -> None:
        self.status = status
        self.allowed = allowed
        self.location = location

    def __repr__(self) -> str:
        return f"Miss({self.status}, allowed={self.allowed!r}, location={self.location!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Miss) and (self.status, self.allowed, self.location) == (
            other.status, other.allowed, other.location)

    __hash__ = None  # type: ignore[assignment]

    def error(self, environ: WSGIEnvironment) -> HTTPException:
        """The exception that answers this miss for the request *environ*."""
        if self.status == 404:
            return NotFound()
        if self.status == 405:
            return MethodNotAllowed(valid_methods=list(self.allowed))
        if self.status == 308:
            return slash_redirect(environ, self.location)
        # 200: the OPTIONS answer, a ready response (sent as is, not an error).
        allow = ", ".join(self.allowed)
        return HTTPException(response=Response(b"", 200, {"Allow": allow}, mimetype="text/plain"))


NOT_FOUND = Miss(404)


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

    Pure: no WSGI here. :meth:`match` returns ``(route, params)``, or a :class:`Miss`
    that says why nothing matched (404, 405 with the allowed methods, 308 to the
    slashed path, or the ``Allow`` answer to ``OPTIONS``).

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
        self.dynamic = False  # is there a rule with a converter?
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
            self.dynamic = True
            node = self.root
            remaining = iter(converters.values())
            for part in parts:
                count = 0 if part.static else part.content.count("(?P<__werkzeug_")
                node = node.child(part, tuple((f"__werkzeug_{i}", next(remaining)) for i in range(count)))
        node.add_route(route)

    # -- matching ---------------------------------------------------------------------------

    def match(self, path: str, method: str) -> tuple[Route, dict[str, Any]] | Miss:
        """The route for *path* and *method* with its converted parameters, or a :class:`Miss`."""
        node = self.static.get(path)
        if node is not None:
            route = node.routes.get(method)
            if route is not None:
                return route, {}
            allowed = set(node.methods)
        else:
            allowed = set()
        if self.dynamic:
            found = self._walk(self.root, path.split("/"), 0, (), method, allowed)
            if found is not None:
                return found
        if self.slashed and not path.endswith("/") and self._find(path + "/", method):
            return Miss(308, location=path + "/")
        if not allowed:
            return NOT_FOUND
        # OPTIONS is answered for every rule, so it is allowed too (RFC 9110 10.2.1).
        methods = tuple(sorted(allowed | {"OPTIONS"}))
        return Miss(200 if method == "OPTIONS" else 405, methods)

    def _find(self, path: str, method: str) -> bool:
        """Whether a rule answers *path* with *method* (for the slash redirect)."""
        node = self.static.get(path)
        if node is not None and method in node.routes:
            return True
        return self.dynamic and self._walk(self.root, path.split("/"), 0, (), method, set()) is not None

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


def request_path(environ: WSGIEnvironment) -> str:
    """``PATH_INFO`` as text; 400 for invalid UTF-8 or malformed percent-encoding."""
    path: str = environ.get("PATH_INFO") or "/"
    if "%" not in path and path.isascii():
        return path
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
