"""framework.routing.Router alone: pure matching, no WSGI call (table-driven).

The router returns one result for every request: ``(route, params)`` on a match, or
a :class:`~framework.routing.Miss` saying why nothing matched (404, 405 with the
allowed methods, 308 to the slashed path, or the ``OPTIONS`` answer).
"""

from __future__ import annotations

import uuid

import pytest
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import BuildError, RequestRedirect

from framework.routing import NOT_FOUND, Miss, Route, Router


def route(rule, name, *methods):
    wanted = set(methods or ("GET",))
    if "GET" in wanted:
        wanted.add("HEAD")
    return Route(rule, name, frozenset(wanted), name)


ROUTER = Router([
    route("/", "index"),
    route("/users", "users", "GET", "POST"),
    route("/users/<int:id>", "user"),
    route("/users/<int:id>", "user_put", "PUT"),
    route("/users/new", "user_new"),
    route("/files/<path:rest>", "file"),
    route("/files/<path:rest>/raw", "file_raw"),
    route("/x/<float:v>", "float"),
    route("/u/<uuid:u>", "uuid"),
    route("/dir/", "dir"),
    route("/p-<a>-<b>", "pair"),
    route("/only-post", "only_post", "POST"),
])


@pytest.mark.parametrize(
    ("path", "method", "name", "params"),
    [
        pytest.param("/", "GET", "index", {}, id="root"),
        pytest.param("/", "HEAD", "index", {}, id="head-with-get"),
        pytest.param("/users", "POST", "users", {}, id="static-post"),
        pytest.param("/users/7", "GET", "user", {"id": 7}, id="int"),
        pytest.param("/users/7", "PUT", "user_put", {"id": 7}, id="same-rule-other-method"),
        pytest.param("/users/new", "GET", "user_new", {}, id="static-beats-dynamic"),
        pytest.param("/files/a/b/c", "GET", "file", {"rest": "a/b/c"}, id="path-spans-slashes"),
        pytest.param("/files/a/b/raw", "GET", "file_raw", {"rest": "a/b"}, id="path-then-static"),
        pytest.param("/x/1.5", "GET", "float", {"v": 1.5}, id="float"),
        pytest.param("/u/" + "12345678-1234-5678-1234-567812345678", "GET", "uuid",
                     {"u": uuid.UUID("12345678-1234-5678-1234-567812345678")}, id="uuid"),
        pytest.param("/dir/", "GET", "dir", {}, id="slashed-rule"),
        pytest.param("/p-1-2", "GET", "pair", {"a": "1", "b": "2"}, id="two-converters-in-a-segment"),
    ],
)
def test_match(path, method, name, params):
    found = ROUTER.match(path, method)
    assert type(found) is tuple, found
    assert (found[0].name, found[1]) == (name, params)


@pytest.mark.parametrize(
    ("path", "method", "miss"),
    [
        pytest.param("/nope", "GET", NOT_FOUND, id="no-rule"),
        pytest.param("/users/x", "GET", NOT_FOUND, id="converter-refuses"),
        pytest.param("/users/7/", "GET", NOT_FOUND, id="extra-slash"),
        pytest.param("/users", "DELETE", Miss(405, ("GET", "HEAD", "OPTIONS", "POST")), id="405"),
        pytest.param("/users/7", "DELETE", Miss(405, ("GET", "HEAD", "OPTIONS", "PUT")),
                     id="405-merges-rules"),
        pytest.param("/only-post", "GET", Miss(405, ("OPTIONS", "POST")), id="405-no-get"),
        pytest.param("/users", "OPTIONS", Miss(200, ("GET", "HEAD", "OPTIONS", "POST")), id="options"),
        pytest.param("/dir", "GET", Miss(308, location="/dir/"), id="slash-redirect"),
        pytest.param("/dir", "HEAD", Miss(308, location="/dir/"), id="slash-redirect-head"),
        pytest.param("/dir", "POST", NOT_FOUND, id="no-slash-redirect-to-a-method-it-refuses"),
        pytest.param("/nope", "OPTIONS", NOT_FOUND, id="options-no-rule"),
    ],
)
def test_miss(path, method, miss):
    assert ROUTER.match(path, method) == miss


@pytest.mark.parametrize(
    ("miss", "environ", "error", "check"),
    [
        pytest.param(NOT_FOUND, {}, NotFound, None, id="404"),
        pytest.param(Miss(405, ("GET", "HEAD", "OPTIONS")), {}, MethodNotAllowed,
                     lambda e: e.valid_methods == ["GET", "HEAD", "OPTIONS"], id="405-allow"),
        pytest.param(Miss(308, location="/dir/"), {"SCRIPT_NAME": "/app", "QUERY_STRING": "a=1"},
                     RequestRedirect, lambda e: (e.code, e.new_url) == (308, "/app/dir/?a=1"),
                     id="308-under-script-name-with-query"),
        pytest.param(Miss(200, ("GET", "HEAD", "OPTIONS")), {}, HTTPException,
                     lambda e: e.code is None and e.response.headers["Allow"] == "GET, HEAD, OPTIONS"
                     and e.response.status_code == 200, id="options-answer"),
    ],
)
def test_miss_error(miss, environ, error, check):
    raised = miss.error({"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", **environ})
    assert isinstance(raised, error)
    assert check is None or check(raised)


@pytest.mark.parametrize(
    ("name", "values", "url"),
    [
        pytest.param("user", {"id": 3}, "/users/3", id="int"),
        pytest.param("user", {"id": 3, "q": "a b"}, "/users/3?q=a+b", id="extra-values-query"),
        pytest.param("file", {"rest": "a/b"}, "/files/a/b", id="path"),
        pytest.param("index", {"x": None}, "/", id="none-dropped"),
    ],
)
def test_build(name, values, url):
    assert ROUTER.build(name, values) == url


def test_build_unknown_name():
    with pytest.raises(BuildError):
        ROUTER.build("nope", {})


def test_cost_is_flat_in_the_number_of_rules():
    """Structure, not timing: a dynamic path is one walk down the tree, whatever the rule count."""
    many = Router([route(f"/r{i}/<int:id>/items", f"r{i}") for i in range(200)])
    # Below the empty segment before the leading slash, one static child per prefix:
    # a dict lookup each, whatever their number.
    assert len(many.root.static[""].static) == 200
    found = many.match("/r199/7/items", "GET")
    assert type(found) is tuple and found[0].name == "r199"
