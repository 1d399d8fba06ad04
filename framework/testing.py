"""Test helpers: PEP 3333 checks around every layer of an onion.

::

    from framework.testing import validated
    from webtest import TestApp

    client = TestApp(validated(Stack(app, partial(Layer, option=1))))

:func:`validated` puts ``wsgiref.validate.validator`` around the outermost callable
and around each ``.app`` inside it, down to the innermost application (and around
every app a ``Mount`` or ``App.mount`` serves), so a layer that breaks the WSGI
contract on either side (bad headers, a missing ``close()``, an iterable used after
close) fails the test that exercised it.
"""

from __future__ import annotations

from typing import Any
from wsgiref.validate import validator

from werkzeug.test import Client

from .mounting import MountTable

__all__ = ["TestClient", "validated"]


class TestClient(Client):
    """Werkzeug's test ``Client`` for an app (placeholder: being written)."""



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
