"""Jinja2 templates: the app's folder first, then the built-in templates.

``app.render("page.html", title="Home")`` returns a :class:`TemplateResponse`. The
template is looked up at once (a missing one fails in the handler), and rendered
when the ``App`` finishes the request, so what the template gets is the current
request's, without any context-local state:

- ``request`` and ``url_for`` (which honours ``SCRIPT_NAME``);
- ``get_flashed_messages(with_categories=False, category_filter=())``: the flash
  messages, as :func:`framework.context.get_flashed_messages` gives them;
- ``csrf_token()``: the token a login layer put in the environ
  (:func:`framework.context.csrf_token`);
- ``static_url(path)``: the URL of a static file, fingerprinted, under the mount and
  ``SCRIPT_NAME`` of the ``StaticFiles`` layer outside the app
  (:func:`framework.context.static_url`).

A response rendered outside a request gets ``request=None``, the app's own
``url_for``, a ``get_flashed_messages()`` that returns ``[]`` (no request, nothing
flashed), and a ``csrf_token()`` (a form without a token would be refused on submit)
and a ``static_url()`` (no layer to ask) that raise ``RuntimeError``. Keys given to
``render`` win over all of these, and a ``get_flashed_messages``, ``csrf_token`` or
``static_url`` the app put in ``app.jinja_env.globals`` wins over ours.

Jinja2 is imported on the first render or error page, not with ``framework``: an
app that renders nothing starts without it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from .context import csrf_token, get_flashed_messages, static_url
from .wrappers import Response

if TYPE_CHECKING:
    import jinja2

    from .wrappers import Request

__all__ = ["BUILTIN_TEMPLATES", "TemplateResponse", "create_environment", "module_folder", "request_globals"]


def _builtin_templates() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(here, "templates")  # wheel/sdist: framework/templates
    if os.path.isdir(installed):
        return installed
    return os.path.join(os.path.dirname(here), "templates")  # a source checkout


#: The folder of the built-in templates (error page, login form, ...).
BUILTIN_TEMPLATES = _builtin_templates()


def module_folder(import_name: str) -> str:
    """The folder of the module *import_name* (the cwd when it has no file)."""
    module = sys.modules.get(import_name)
    filename = getattr(module, "__file__", None)
    if filename is None and import_name != "__main__":
        try:
            spec = find_spec(import_name)
        except (ImportError, ValueError):
            spec = None
        filename = spec.origin if spec is not None and spec.has_location else None
    if filename is None:
        return os.getcwd()
    return os.path.dirname(os.path.abspath(filename))


def create_environment(folder: str | None, auto_reload: bool = False) -> jinja2.Environment:
    """A Jinja2 environment that looks in *folder*, then in the built-in templates.

    Autoescaping is on for ``.html``, ``.htm`` and ``.xml`` templates. With
    *auto_reload* (the app's debug mode, as in Flask) a changed file is reloaded;
    otherwise a template is read and compiled once.
    """
    import jinja2  # here, not at the top: apps that render nothing never load it

    loaders: list[jinja2.BaseLoader] = []
    if folder is not None:
        loaders.append(jinja2.FileSystemLoader(folder))
    loaders.append(jinja2.FileSystemLoader(BUILTIN_TEMPLATES))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(("html", "htm", "xml")),
        auto_reload=auto_reload,
    )


class TemplateResponse(Response):
    """A response whose body is a template, rendered once the request is known.

    :param template: The loaded Jinja2 template.
    :param context: The variables given to ``render``.
    :param url_for: The ``url_for`` to offer when rendered without a request.
    """

    def __init__(self, template: jinja2.Template, context: dict[str, Any],
                 url_for: Callable[..., str], **kwargs: Any) -> None:
        self.template = template
        self.context = context
        self._pending: Callable[..., str] | None = url_for
        super().__init__(**kwargs)

    @property  # type: ignore[override]
    def response(self) -> Any:
        """The body; reading it renders the template if that has not happened yet."""
        if self._pending is not None:
            self.render()
        return self._body

    @response.setter
    def response(self, value: Any) -> None:
        self._body = value

    def render(self, request: Request | None = None) -> None:
        """Render the template now, for *request* (only the first call renders)."""
        url_for = self._pending
        if url_for is None:
            return
        self._pending = None
        if request is not None and request.app is not None:
            url_for = request.url_for
        context: dict[str, Any] = {"request": request, "url_for": url_for}
        own = self.template.environment.globals  # an app's own jinja_env.globals win over ours
        context.update((name, function) for name, function in request_globals(request).items()
                       if name not in own)
        context.update(self.context)
        self.set_data(self.template.render(context))


def _no_token() -> str:
    raise RuntimeError("csrf_token() was called in a template rendered outside a request; "
                       "render it for a request (app.render in a handler) to get a token.")


def _no_static_url(path: str) -> str:
    raise RuntimeError(f"static_url() needs a StaticFiles layer outside the app, and this template "
                       f"(asking for {path!r}) was rendered outside a request; render it for a request "
                       f"(app.render in a handler) of an app wrapped in StaticFiles.")


def request_globals(request: Request | None) -> dict[str, Callable[..., Any]]:
    """``get_flashed_messages``, ``csrf_token`` and ``static_url`` for a template, bound to *request*.

    Without a request: no messages, and ``csrf_token()`` and ``static_url()`` raise
    ``RuntimeError``.
    """
    if request is None:
        return {"get_flashed_messages": lambda with_categories=False, category_filter=(): [],
                "csrf_token": _no_token, "static_url": _no_static_url}

    def flashed(with_categories: bool = False, category_filter: Iterable[str] = ()) -> list[Any]:
        return get_flashed_messages(request, with_categories, category_filter)

    return {"get_flashed_messages": flashed, "csrf_token": lambda: csrf_token(request),
            "static_url": lambda path: static_url(request, path)}
