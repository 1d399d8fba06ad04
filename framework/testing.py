"""Test helpers: a test client of the framework's own, and PEP 3333 checks.

::

    from framework import App

    app = App(__name__)

    @app.post("/echo")
    def echo(request):
        return {"got": request.json}

    client = app.test_client()
    assert client.post("/echo", json={"a": 1}).json == {"got": {"a": 1}}

:class:`TestClient` is Werkzeug's test ``Client`` with three test-friendly defaults
(see its docstring); it needs only the framework's own dependencies. WebTest's
``TestApp`` (in the ``[test]`` extra) works on any app too and offers more
(``status=`` checks, forms, ``.follow()``).

:func:`validated` puts ``wsgiref.validate.validator`` around the outermost callable
and around each ``.app`` inside it, down to the innermost application (and around
every app a ``Mount`` or ``App.mount`` serves), so a layer that breaks the WSGI
contract on either side (bad headers, a missing ``close()``, an iterable used after
close) fails the test that exercised it::

    client = TestClient(validated(Stack(app, partial(Layer, option=1))))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast
from wsgiref.validate import validator

from werkzeug.test import Client
from werkzeug.test import TestResponse as _TestResponse

from .mounting import MountTable

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication
    from werkzeug.wrappers import Response as _Response

__all__ = ["TestClient", "TestResponse", "validated"]


class TestResponse(_TestResponse):
    """Werkzeug's test response, whose :attr:`json` refuses a body that is not JSON.

    It has everything a Werkzeug response has: ``.status_code``, ``.status``,
    ``.headers``, ``.mimetype``, ``.location``, ``.text``, ``.data``, and
    ``.request`` (the request that was made) and ``.history`` (the redirects
    followed).
    """

    __test__ = False  # not a pytest test class, whatever its name

    @property
    def json(self) -> Any:
        """The body parsed as JSON.

        Raises :exc:`ValueError` naming the status and media type when the response is
        not JSON (Werkzeug returns ``None`` there, which makes a failing
        ``assert response.json == {...}`` say little); use ``get_json(force=True)`` to
        parse a body whatever its ``Content-Type``.
        """
        if not self.is_json:
            body = self.get_data(as_text=True)
            excerpt = body[:200] + ("..." if len(body) > 200 else "")
            raise ValueError(
                f"The response is not JSON: {self.status}, Content-Type "
                f"{self.headers.get('Content-Type')!r}, body {excerpt!r}."
            )
        return self.get_json()


class TestClient(Client):
    """Make requests to a WSGI application in-process, as a test would.

    ::

        client = app.test_client()            # or TestClient(any_wsgi_app)
        response = client.get("/users/7", headers={"Accept": "application/json"})
        assert response.status_code == 200
        assert response.json == {"id": 7}
        client.post("/login", data={"name": "ada"})      # a form post
        client.post("/api/todos", json={"title": "milk"})  # a JSON body
        client.get("/", follow_redirects=True)

    Werkzeug's :class:`werkzeug.test.Client`: every method (``get``, ``post``,
    ``put``, ``patch``, ``delete``, ``head``, ``options``, ``open``) takes Werkzeug's
    ``EnvironBuilder`` arguments (``query_string=``, ``data=``, ``json=``,
    ``headers=``, ``content_type=``, ...). What it changes:

    - Each response is read to the end and the app's iterable is closed, as a
      server does (Werkzeug leaves both to the caller unless ``buffered=True``),
      so ``wsgiref.validate`` and cleanup in ``close()`` see a finished request.
      Pass ``buffered=False`` to read a streamed body piece by piece, and close the
      response yourself.
    - ``response.json`` raises a :exc:`ValueError` with the status and media type
      when the body is not JSON, instead of returning ``None``
      (:class:`TestResponse`).
    - It is not collected by pytest as a test class.

    Cookies the app sets are sent back on later requests (``use_cookies=False`` to
    turn that off; ``client.get_cookie(name)`` reads one).

    :param application: Any WSGI application: an ``App``, a layer, a Flask app.
    :param response_wrapper: A response class to build responses from; it is
        combined with :class:`TestResponse`.
    :param use_cookies: Keep cookies between requests.
    :param allow_subdomain_redirects: Follow redirects to subdomains.
    """

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(
        self,
        application: WSGIApplication,
        response_wrapper: type[_Response] | None = None,
        use_cookies: bool = True,
        allow_subdomain_redirects: bool = False,
    ) -> None:
        wrapper: type[_Response] = TestResponse
        if response_wrapper is not None and not issubclass(response_wrapper, TestResponse):
            wrapper = type("WrapperTestResponse", (TestResponse, response_wrapper), {})
        super().__init__(application, wrapper, use_cookies, allow_subdomain_redirects)

    def open(
        self, *args: Any, buffered: bool = True, follow_redirects: bool = False, **kwargs: Any
    ) -> TestResponse:
        """Make a request (see :meth:`werkzeug.test.Client.open`), buffered by default.

        :param buffered: Read the whole body and close the app's iterable before
            returning (``False``: stream it; close the response when done).
        :param follow_redirects: Follow redirects; ``response.history`` lists them.
        """
        # The response class is always TestResponse or a subclass (see __init__).
        return cast(
            TestResponse, super().open(*args, buffered=buffered, follow_redirects=follow_redirects, **kwargs)
        )


def _validate_mounts(obj: Any) -> None:
    # Mount keeps its MountTable as .table, App as .mounts.
    for table in (getattr(obj, "table", None), getattr(obj, "mounts", None)):
        if isinstance(table, MountTable):
            table.wrap_apps(validated)


def validated(app: Any) -> Any:
    """Wrap *app* and every layer and app inside it in ``wsgiref.validate.validator``.

    Changes the layers in place (each ``.app`` becomes a validator around the old
    one) and returns the validated outermost callable.
    """
    seen: set[int] = set()
    layer = app
    while layer is not None and id(layer) not in seen:
        seen.add(id(layer))
        _validate_mounts(layer)
        inner = getattr(layer, "app", None)
        if inner is None or not callable(inner):
            break
        layer.app = validator(inner)
        layer = inner
    return validator(app)
