"""framework/introspection.py: one line per layer, the protocol, secrets never shown (no WSGI calls)."""

from __future__ import annotations

import pytest

from framework.introspection import (
    DescribedLayer,
    Layer,
    Transparent,
    describe_object,
    describe_stack,
    layer_options,
)


def inner_app(environ, start_response):
    """The innermost app of every onion here; never called."""


INNER = f"{__name__}.inner_app"


class Plain:
    """A layer without ``describe()``: its line is built from its attributes."""

    def __init__(self, app, **options):
        self.app = app
        for name, value in options.items():
            setattr(self, name, value)

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


class Described(Plain):
    """A layer that says its own line."""

    def describe(self):
        return f"Described, its own line: {self.line}"


class Wrapper(Plain):
    """A transparent wrapper, as ``middleware.Stack`` is."""

    transparent = True

    def describe(self):  # a Stack's returns the whole list: never used for the line
        return ["not", "a", "line"]


class FakeApp:
    """Looks like an App (``import_name`` and ``routes``) or Flask (``import_name`` only)."""

    def __init__(self, name, routes=True):
        self.import_name = name
        if routes:
            self.routes = []

    def __repr__(self):
        return f"<FakeApp {self.import_name!r}: 0 routes>"


SECRET_LOOKING = ["secret_key", "client_secret", "password", "db_passwd", "tokens", "api_token", "key",
                  "signing_keys", "users", "verify", "credentials"]


@pytest.mark.parametrize("name", SECRET_LOOKING)
def test_secret_looking_options_are_never_shown(name):
    layer = Plain(inner_app, **{name: "hunter2-VALUE", "realm": "Restricted"})
    line = describe_object(layer)
    assert "hunter2-VALUE" not in line and name not in line
    assert line == "Plain(realm='Restricted')"
    assert "hunter2-VALUE" not in "\n".join(describe_stack(layer))


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param({"limit": "100/minute"}, {"limit": "'100/minute'"}, id="string"),
        pytest.param({"max_age": 60, "ratio": 0.5, "strict": True, "realm": None},
                     {"max_age": "60", "ratio": "0.5", "strict": "True", "realm": "None"}, id="scalars"),
        pytest.param({"methods": ("GET", "POST")}, {"methods": "['GET', 'POST']"}, id="tuple-as-list"),
        pytest.param({"origins": {"b", "a"}}, {"origins": "['a', 'b']"}, id="set-sorted"),
        pytest.param({"rules": {"/feeds": object(), "/api": object()}}, {"rules": "{'/feeds', '/api'}"},
                     id="dict-keys-only"),
        pytest.param({"long": "x" * 100}, {"long": "'" + "x" * 56 + "..."}, id="long-cut-at-60"),
        pytest.param({"storage": object(), "callback": print, "mixed": [1, object()]}, {},
                     id="non-data-left-out"),
        pytest.param({"_private": 1, "app": 2}, {}, id="private-and-app-left-out"),
    ],
)
def test_layer_options_shows_simple_public_attributes(options, expected):
    layer = Plain(inner_app)
    vars(layer).update(options)
    assert layer_options(layer) == expected


@pytest.mark.parametrize(
    ("obj", "line"),
    [
        pytest.param(Described(inner_app, line="mine", secret_key="s"), "Described, its own line: mine",
                     id="describe-used-when-present"),
        pytest.param(Plain(inner_app, name="t", max_age=5), "Plain(name='t', max_age=5)",
                     id="attributes-without-describe"),
        pytest.param(Plain(inner_app), "Plain()", id="no-options"),
        pytest.param(Wrapper(Plain(inner_app, name="a")), f"Wrapper(Plain(name='a') > {INNER})",
                     id="transparent-in-one-line"),
        pytest.param(FakeApp("blog"), "<FakeApp 'blog': 0 routes>", id="app-with-routes-by-repr"),
        pytest.param(FakeApp("flaskapp", routes=False), "<FakeApp 'flaskapp'>", id="flask-like-by-name"),
        pytest.param(inner_app, INNER, id="function-by-qualified-name"),
        pytest.param(Plain, f"{__name__}.Plain", id="class-by-qualified-name"),
    ],
)
def test_describe_object(obj, line):
    assert describe_object(obj) == line


def cycle_of_two():
    outer = Plain(None, name="a")
    outer.app = Plain(outer, name="b")
    return outer


def layer_with_routes():
    """A layer with a ``routes`` table of its own (as ``Proxy`` has) is not taken for the app."""
    layer = Plain(Plain(inner_app, name="q"), name="p")
    layer.routes = {"/api": ["http://127.0.0.1:9001"]}
    return layer


def self_describing_table():
    """A layer whose ``describe()`` describes what it serves, which is itself (a Mount in itself)."""

    class Table(Plain):
        def describe(self):
            return f"Table(serves={describe_object(self.served)})"

    table = Table(inner_app)
    table.served = table
    return table


@pytest.mark.parametrize(
    ("onion", "lines"),
    [
        pytest.param(inner_app, [INNER], id="bare-app"),
        pytest.param(Plain(Described(inner_app, line="x"), name="p"),
                     ["Plain(name='p')", "Described, its own line: x", INNER], id="outermost-first"),
        pytest.param(Wrapper(Plain(inner_app, name="p")), ["Plain(name='p')", INNER],
                     id="transparent-listed-through"),
        pytest.param(Plain(Wrapper(Wrapper(Plain(inner_app, name="q"))), name="p"),
                     ["Plain(name='p')", "Plain(name='q')", INNER], id="nested-transparent"),
        pytest.param(Plain(None, name="p"), ["Plain(name='p')", "None (404 for everything else)"],
                     id="none-at-the-end"),
        pytest.param(Plain(FakeApp("site"), name="p"), ["Plain(name='p')", "<FakeApp 'site': 0 routes>"],
                     id="stops-at-an-app-with-routes"),
        pytest.param(layer_with_routes(), ["Plain(name='p', routes={'/api'})", "Plain(name='q')", INNER],
                     id="a-layer-with-routes-is-walked-through"),
        pytest.param(cycle_of_two(), ["Plain(name='a')", "Plain(name='b')", "Plain(name='a') (cycle)"],
                     id="app-cycle-stops"),
        pytest.param(self_describing_table(), ["Table(serves=<Table: cycle>)", INNER],
                     id="describe-cycle-stops"),
    ],
)
def test_describe_stack(onion, lines):
    assert describe_stack(onion) == lines


@pytest.mark.parametrize(
    ("obj", "layer", "described", "transparent"),
    [
        pytest.param(Plain(inner_app), True, False, False, id="plain-layer"),
        pytest.param(Described(inner_app, line="x"), True, True, False, id="described-layer"),
        pytest.param(Wrapper(inner_app), True, True, True, id="transparent-wrapper"),
        pytest.param(inner_app, False, False, False, id="plain-app"),
    ],
)
def test_the_protocols_are_runtime_checkable(obj, layer, described, transparent):
    assert isinstance(obj, Layer) is layer
    assert isinstance(obj, DescribedLayer) is described
    assert isinstance(obj, Transparent) is transparent
