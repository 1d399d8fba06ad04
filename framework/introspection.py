"""Introspection of an onion: one line per layer, outermost first, ending with the app.

``Stack.describe()`` and ``python -m framework stack`` walk an onion from outside in
through each layer's ``.app`` and print one line for each. A layer takes part
through the :class:`Layer` protocol:

- ``.app``: the application it wraps (required: it is how the walk goes in);
- ``describe(self) -> str`` (optional, :class:`DescribedLayer`): its own one line,
  its class and key options, never a secret. Without it, the line is built from the
  layer's simple public attributes, leaving out any whose name looks like a secret::

      RateLimit(limit='100/minute', storage='redis://127.0.0.1:6379/0')

- ``transparent = True`` (optional, :class:`Transparent`): a wrapper that is not a
  layer of its own, such as ``middleware.Stack``; the walk lists what it wraps, not it.

:func:`describe_object` gives the one line of one object, :func:`describe_stack` the
list for a whole onion. (``Stack.describe()`` returns that list, as the public API
says, which is why a ``Stack`` is transparent rather than a :class:`DescribedLayer`.)
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Protocol, runtime_checkable

__all__ = ["DescribedLayer", "Layer", "Transparent", "describe_object", "describe_stack", "layer_options"]


@runtime_checkable
class Layer(Protocol):
    """A WSGI layer: a callable that keeps the application it wraps as ``.app``."""

    app: Any

    def __call__(self, environ: Any, start_response: Any) -> Any:
        """Answer one WSGI request."""


@runtime_checkable
class DescribedLayer(Layer, Protocol):
    """A layer that says itself what :func:`describe_object` prints for it."""

    def describe(self) -> str:
        """One line: the layer's class and key options, without secrets."""


@runtime_checkable
class Transparent(Layer, Protocol):
    """A wrapper listed through: :func:`describe_stack` shows what it wraps, not it."""

    transparent: bool


# Option names that may hold a secret (or a table of them) and are never shown.
_SECRET_WORDS = ("secret", "password", "passwd", "token", "key", "users", "verify", "credential")
_SIMPLE = (str, int, float, bool, type(None))
# The objects being described in this context, so a table that contains itself stops.
_DESCRIBING: ContextVar[frozenset[int]] = ContextVar("describing", default=frozenset())


def _option_value(value: Any) -> str | None:
    """A short repr of a simple option value, or ``None`` for anything else."""
    if isinstance(value, _SIMPLE):
        text = repr(value)
    elif isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(v, _SIMPLE) for v in value):
        text = repr(sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value))
    elif isinstance(value, dict) and all(isinstance(k, str) for k in value):
        text = "{" + ", ".join(repr(k) for k in value) + "}"  # the keys say enough
    else:
        return None
    return text if len(text) <= 60 else text[:57] + "..."


def layer_options(obj: Any) -> dict[str, str]:
    """The simple public attributes of a layer, for display: name -> short repr.

    Private names, ``app``, values that are not plain data, and names that look like
    a secret (``secret``, ``password``, ``token``, ``key``, ``users``, ...) are left out.
    """
    options = {}
    for name, value in vars(obj).items() if hasattr(obj, "__dict__") else ():
        if name.startswith("_") or name == "app" or any(word in name for word in _SECRET_WORDS):
            continue
        text = _option_value(value)
        if text is not None:
            options[name] = text
    return options


def describe_object(obj: Any) -> str:
    """One line for a layer or app: ``RateLimit(limit='100/minute')``, ``<App 'blog'>``, ...

    A layer's own ``describe()`` when it has one; a transparent wrapper (a ``Stack``)
    as its onion in one line, ``Stack(ProxyFix(...) > <App 'site'>)``.
    """
    describing = _DESCRIBING.get()
    if id(obj) in describing:
        return f"<{type(obj).__name__}: cycle>"
    token = _DESCRIBING.set(describing | {id(obj)})
    try:
        return _describe(obj)
    finally:
        _DESCRIBING.reset(token)


def _describe(obj: Any) -> str:
    if hasattr(obj, "import_name"):  # our App's repr; Flask's is just as telling
        return repr(obj) if hasattr(obj, "routes") else f"<{type(obj).__name__} {obj.import_name!r}>"
    if getattr(obj, "transparent", False) is True and hasattr(obj, "app"):
        return f"{type(obj).__name__}({' > '.join(describe_stack(obj.app))})"
    describe = getattr(obj, "describe", None)
    if callable(describe) and hasattr(obj, "app"):
        return str(describe())
    if hasattr(obj, "app"):
        options = ", ".join(f"{name}={value}" for name, value in layer_options(obj).items())
        return f"{type(obj).__name__}({options})"
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    module = getattr(obj, "__module__", None) or type(obj).__module__
    return f"{module}.{name}"


def _is_app(obj: Any) -> bool:
    return hasattr(obj, "routes") and hasattr(obj, "import_name")


def describe_stack(app: Any) -> list[str]:
    """The onion, outermost first: one line per layer (found through ``.app``), then the app.

    A transparent wrapper (a ``Stack``) is walked through, not listed. The walk stops
    at an app (an ``App``: ``import_name`` and ``routes``), at the end of the ``.app``
    chain, or where the chain comes back to a layer already listed (marked ``(cycle)``).
    A layer with a ``routes`` table of its own (``Proxy``) is a layer like any other.
    """
    lines = []
    seen = set()
    while hasattr(app, "app") and id(app) not in seen and not _is_app(app):
        seen.add(id(app))
        if getattr(app, "transparent", False) is not True:
            lines.append(describe_object(app))
        app = app.app
    if id(app) in seen:
        lines.append(f"{describe_object(app)} (cycle)")
    elif app is None:
        lines.append("None (404 for everything else)")
    else:
        lines.append(describe_object(app))
    return lines
