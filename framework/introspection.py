"""Introspection of an onion: one line per layer, outermost first.

``Stack.describe()`` and ``python -m framework stack`` walk an onion from outside in
through each layer's ``.app`` and print one line for each. A layer takes part
through the :class:`Layer` protocol: the ``.app`` it wraps and, optionally,
``describe()`` returning that line; without it, the line is built from the layer's
simple public attributes, never from anything that looks like a secret::

    RateLimit(limit='100/minute', storage='redis://127.0.0.1:6379/0')
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["DescribedLayer", "Layer", "describe_object", "describe_stack", "layer_options"]


@runtime_checkable
class Layer(Protocol):
    """A WSGI layer: a callable that keeps the application it wraps as ``.app``."""

    app: Any

    def __call__(self, environ: Any, start_response: Any) -> Any:
        """Answer one WSGI request."""


@runtime_checkable
class DescribedLayer(Layer, Protocol):
    """A layer that says itself what ``describe_object`` prints for it."""

    def describe(self) -> str:
        """One line: the layer's class and key options, without secrets."""


_SECRET_WORDS = ("secret", "password", "passwd", "token", "key", "users", "verify", "credential")
_SIMPLE = (str, int, float, bool, type(None))


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
    """The key options of a layer, for display: its ``summary()`` or its simple attributes.

    Secrets (names with ``secret``, ``password``, ``token``, ``key``, ``users``, ...)
    are never shown.
    """
    summary = getattr(obj, "summary", None)
    if callable(summary):
        return dict(summary())
    options = {}
    for name, value in vars(obj).items() if hasattr(obj, "__dict__") else ():
        if name.startswith("_") or name == "app" or any(word in name for word in _SECRET_WORDS):
            continue
        text = _option_value(value)
        if text is not None:
            options[name] = text
    return options


def describe_object(obj: Any) -> str:
    """One line for a layer or app: ``RateLimit(limit='100/minute')``, ``<App 'blog'>``, ..."""
    if hasattr(obj, "import_name"):  # our App's repr; Flask's is just as telling
        return repr(obj) if hasattr(obj, "routes") else f"<{type(obj).__name__} {obj.import_name!r}>"
    if hasattr(obj, "app"):
        options = ", ".join(f"{name}={value}" for name, value in layer_options(obj).items())
        return f"{type(obj).__name__}({options})"
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    module = getattr(obj, "__module__", None) or type(obj).__module__
    return f"{module}.{name}"


def describe_stack(app: Any) -> list[str]:
    """The onion, outermost first: one line per layer (found through ``.app``), then the app.

    A ``Stack`` is transparent: its layers are listed, not the ``Stack`` itself.
    """
    lines = []
    seen = set()
    while hasattr(app, "app") and id(app) not in seen and not hasattr(app, "routes"):
        seen.add(id(app))
        if not getattr(app, "is_stack", False):
            lines.append(describe_object(app))
        app = app.app
    if app is None:
        lines.append("None (404 for everything else)")
    else:
        lines.append(describe_object(app))
    return lines


