"""middleware/stack.py: ``Stack(app, *layers)``, the first layer given outermost."""

from __future__ import annotations

from functools import partial
from wsgiref.util import setup_testing_defaults

import pytest
from webtest import TestApp

from framework.testing import validated
from middleware import Mount, ProxyFix, Stack
from middleware.toolkit import ClosingIterator, rewrite_start_response


class Trace:
    """Records its name on the way in (environ and a request header) and out (``X-Trace``)."""

    def __init__(self, app, *, name, log=None):
        self.app = app
        self.name = name
        self.log = log if log is not None else []

    def __call__(self, environ, start_response):
        environ.setdefault("test.trace", []).append(self.name)
        seen = environ.get("HTTP_X_TRACE_IN")
        environ["HTTP_X_TRACE_IN"] = f"{seen},{self.name}" if seen else self.name

        def rewrite(status, headers):
            trace = [value for key, value in headers if key.lower() == "x-trace"]
            headers = [(key, value) for key, value in headers if key.lower() != "x-trace"]
            return status, [*headers, ("X-Trace", ",".join([*trace, self.name]))]

        iterable = self.app(environ, rewrite_start_response(start_response, rewrite))
        return ClosingIterator(iterable, lambda: self.log.append(f"{self.name} closed"))


class Tracked:
    """An inner response body that counts how many chunks were read and ``close()`` calls."""

    def __init__(self, chunks, log):
        self.chunks = list(chunks)
        self.read = 0
        self.closes = 0
        self.log = log

    def __iter__(self):
        for chunk in self.chunks:
            self.read += 1
            yield chunk

    def close(self):
        self.closes += 1
        self.log.append("inner closed")


def echo(environ, start_response):
    """The innermost app: shows what the layers did on the way in."""
    trace = ",".join(environ.get("test.trace", []))
    body = f"in: {trace}; header: {environ.get('HTTP_X_TRACE_IN', '')}"
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Trace", "app")])
    return [body.encode()]


def c_layer(app):
    return Trace(app, name="c")


@pytest.mark.parametrize(
    "layers",
    [
        pytest.param([partial(Trace, name="a"), partial(Trace, name="b"), partial(Trace, name="c")],
                     id="partials"),
        pytest.param([partial(Trace, name="a"), lambda app: Trace(app, name="b"), c_layer],
                     id="partial-lambda-function"),
        pytest.param([lambda app: Trace(app, name="a"), lambda app: Trace(app, name="b"),
                      lambda app: Trace(app, name="c")], id="lambdas"),
    ],
)
def test_first_layer_given_is_outermost(layers):
    client = TestApp(validated(Stack(echo, *layers)))
    response = client.get("/")
    assert response.text == "in: a,b,c; header: a,b,c"  # way in: outermost first
    assert response.headers["X-Trace"] == "app,c,b,a"  # way out: outermost last


def test_app_attribute_walks_the_onion_from_outside_in():
    stack = Stack(echo, partial(Trace, name="a"), lambda app: Trace(app, name="b"), c_layer)
    names = []
    layer = stack.app
    while isinstance(layer, Trace):
        names.append(layer.name)
        layer = layer.app
    assert names == ["a", "b", "c"]
    assert layer is echo


def test_a_stack_without_layers_is_the_app():
    stack = Stack(echo)
    assert stack.app is echo
    assert stack.describe() == [f"{echo.__module__}.{echo.__qualname__}"]
    response = TestApp(validated(stack)).get("/")
    assert response.text == "in: ; header: "
    assert response.headers["X-Trace"] == "app"


def test_describe_lists_layers_outermost_first_with_key_options_and_the_app_last():
    api = echo
    stack = Stack(
        echo,
        partial(ProxyFix, x_for=1, x_proto=1),
        partial(Mount, mounts={"/api": api}),
        partial(Trace, name="t"),
    )
    lines = stack.describe()
    assert len(lines) == 4
    assert lines[0].startswith("ProxyFix(")
    assert "x_for=1" in lines[0] and "x_proto=1" in lines[0]
    assert lines[1].startswith("Mount(")
    assert "'/api'" in lines[1]
    assert lines[2].startswith("Trace(") and "name='t'" in lines[2]
    assert lines[3] == f"{echo.__module__}.{echo.__qualname__}"


def test_describe_never_shows_secrets():
    class Signer:
        def __init__(self, app, *, secret_key, cookie_name="session"):
            self.app = app
            self.secret_key = secret_key
            self.cookie_name = cookie_name

        def __call__(self, environ, start_response):
            return self.app(environ, start_response)

    lines = Stack(echo, partial(Signer, secret_key="s3cr3t-VALUE")).describe()
    assert "s3cr3t-VALUE" not in "\n".join(lines)
    assert "cookie_name='session'" in lines[0]


ECHO = f"{echo.__module__}.{echo.__qualname__}"


@pytest.mark.parametrize(
    ("application", "lines"),
    [
        pytest.param(Stack(Stack(echo, partial(Trace, name="a")), partial(Trace, name="b")),
                     ["Trace(name='b', log=[])", "Trace(name='a', log=[])", ECHO], id="stack-in-a-stack"),
        pytest.param(Stack(echo, partial(Mount, mounts={"/api": Stack(echo, partial(Trace, name="a"))})),
                     [f"Mount(mounts={{'/api': Stack(Trace(name='a', log=[]) > {ECHO})}})", ECHO],
                     id="stack-mounted-in-one-line"),
        pytest.param(Stack(echo, partial(Mount, mounts={"/": echo}, hosts={"*.example.com": echo})),
                     [f"Mount(mounts={{'/': {ECHO}}}, hosts={{'*.example.com': {ECHO}}})", ECHO],
                     id="mount-paths-and-hosts"),
        pytest.param(Stack(echo, partial(Mount, hosts={"admin.example.com": echo})),
                     [f"Mount(hosts={{'admin.example.com': {ECHO}}})", ECHO], id="mount-hosts-only"),
    ],
)
def test_describe_lists_a_stack_through_and_mount_describes_itself(application, lines):
    assert application.describe() == lines


def make_environ(path="/"):
    environ = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": ""}
    setup_testing_defaults(environ)
    return environ


@pytest.mark.parametrize(
    "read_all", [pytest.param(True, id="read-all"), pytest.param(False, id="stopped-early")]
)
def test_close_reaches_the_innermost_iterable_exactly_once_through_three_layers(read_all):
    log = []
    inner = Tracked([b"a", b"b", b"c"], log)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return inner

    stack = Stack(app, *(partial(Trace, name=name, log=log) for name in "abc"))
    iterable = validated(stack)(make_environ(), lambda status, headers, exc_info=None: None)
    try:
        chunks = iter(iterable)
        if read_all:
            assert list(chunks) == [b"a", b"b", b"c"]
        else:
            assert next(chunks) == b"a"
    finally:
        iterable.close()
    assert inner.closes == 1
    assert inner.read == (3 if read_all else 1)
    assert log == ["inner closed", "c closed", "b closed", "a closed"]


@pytest.mark.parametrize(
    ("app", "layers", "message"),
    [
        pytest.param(echo, ["not a layer"], "must be callable", id="non-callable-layer"),
        pytest.param(echo, [partial(Trace, name="a"), None], "must be callable", id="none-layer"),
        pytest.param(echo, [lambda app: None], "not a WSGI callable", id="layer-returns-none"),
        pytest.param(echo, [lambda app: "oops"], "not a WSGI callable", id="layer-returns-string"),
        pytest.param(None, [], "WSGI application", id="app-none"),
        pytest.param("module:app", [partial(Trace, name="a")], "WSGI application", id="app-string"),
    ],
)
def test_bad_configuration_is_a_clear_type_error(app, layers, message):
    with pytest.raises(TypeError, match=message):
        Stack(app, *layers)
