"""``Stack``: an onion of layers declared as data, built once.

::

    from functools import partial
    from middleware import Mount, ProxyFix, Stack

    application = Stack(
        app,
        partial(ProxyFix, x_for=1),               # outermost: sees requests first
        partial(Mount, mounts={"/api": api_app}), # innermost: next to the app
    )

A request goes through the layers in the order given, the response back out in
reverse. ``application.describe()`` lists them, outermost first, ending with the app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from framework.introspection import describe_stack

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["Stack"]

Layer = Callable[[Any], Any]


class Stack:
    """Wrap *app* in *layers*, the first given outermost.

    :param app: The innermost WSGI application.
    :param layers: Callables taking the inner app and returning the wrapped one:
        a layer class, ``functools.partial(Layer, **options)``, or any function.
    """

    #: Listed through (``framework.introspection``): the onion shows its layers, not the Stack.
    transparent = True

    def __init__(self, app: WSGIApplication, *layers: Layer) -> None:
        if not callable(app):
            raise TypeError(f"Stack needs a WSGI application first, not {app!r}.")
        built: Any = app
        for layer in reversed(layers):
            if not callable(layer):
                raise TypeError(f"Each layer must be callable(app) -> app, e.g. "
                                f"functools.partial(RateLimit, limit='10/second'); got {layer!r}.")
            built = layer(built)
            if not callable(built):
                raise TypeError(f"The layer {layer!r} returned {built!r}, which is not a WSGI callable.")
        #: The outermost layer (the app itself when there are no layers).
        self.app: WSGIApplication = built
        #: The innermost application.
        self.inner = app
        self.layers = layers

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Hand the request to the outermost layer."""
        return self.app(environ, start_response)

    def describe(self) -> list[str]:
        """One line per layer, outermost first, with its key options; the app last.

        Unlike a layer's ``describe()``, which returns its own one line, this is the
        list for the whole onion: :func:`framework.introspection.describe_stack`, which
        ``python -m framework stack`` prints. A Stack never appears in it as a line.
        """
        return describe_stack(self)

    def __repr__(self) -> str:
        return f"<Stack of {len(self.layers)} layers around {self.inner!r}>"
