"""Shared fixtures for the framework tests: raw WSGI calls and environ building."""

from __future__ import annotations

import io
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest


def build_environ(path="/", method="GET", query="", body=b"", script_name="", **extra):
    """A PEP 3333 environ; ``path`` is the WSGI (latin-1) ``PATH_INFO`` string."""
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "wsgi.input": io.BytesIO(body),
    }
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    environ.update(extra)
    setup_testing_defaults(environ)
    return environ


class Result:
    """What a WSGI app answered: status line, headers, body bytes."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def status_code(self):
        return int(self.status.split(" ", 1)[0])

    def header(self, name, default=None):
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return default

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


def call_wsgi(app, environ, *, validate=True):
    """Call ``app`` once, read the whole body, close the iterable, return a Result."""
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = status
        captured["headers"] = headers
        return lambda data: None

    target = validator(app) if validate else app
    iterable = target(environ, start_response)
    try:
        body = b"".join(iterable)
    finally:
        if hasattr(iterable, "close"):
            iterable.close()
    return Result(captured["status"], captured["headers"], body)


@pytest.fixture
def make_environ():
    return build_environ


@pytest.fixture
def call():
    """``call(app, path, method=..., query=..., body=..., validate=..., **environ)``."""

    def _call(app, path="/", *, validate=True, **kwargs):
        return call_wsgi(app, build_environ(path, **kwargs), validate=validate)

    return _call
