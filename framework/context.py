"""What the layers give a request: flash messages, the CSRF token, static file URLs.

::

    from framework import App, flash, redirect
    from framework.context import get_flashed_messages

    @app.post("/todos")
    def add(request):
        ...
        flash(request, "Saved.", "success")
        return redirect("/todos")

    @app.get("/todos")
    def todos(request):
        return app.render("todos.html")   # {% for m in get_flashed_messages() %}...

The framework never imports the layers: they meet through the environ. A sessions
layer (``middleware.sessions.Sessions``) puts the session dict at
``environ["framework.session"]``; a login layer puts the current CSRF token at
``environ["framework.csrf_token"]``. Flash messages are kept in the session under
``"_flashes"``, as Flask keeps them, so they survive a redirect.

A static files layer (``middleware.static.StaticFiles``) puts at
``environ["framework.static_url"]`` a function that gives the URL of one of its
files (fingerprinted when it has a ``manifest.json``): :func:`static_url` calls it.

Templates rendered by ``App.render`` get :func:`get_flashed_messages`,
:func:`csrf_token` and :func:`static_url` bound to the current request
(``framework/templating.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .wrappers import Request

__all__ = ["FLASHES_KEY", "STATIC_URL_KEY", "csrf_token", "flash", "get_flashed_messages", "static_url"]

#: The session key the messages wait under until they are shown (Flask's).
FLASHES_KEY = "_flashes"

#: The environ key of the static files layer's ``(path) -> url`` function.
STATIC_URL_KEY = "framework.static_url"


def flash(request: Request, message: str, category: str = "message") -> None:
    """Keep *message* in the session until a later page shows it (Flask's ``flash``).

    ::

        flash(request, "Your profile was saved.")
        flash(request, "That did not work.", "error")

    The message is shown by the next :func:`get_flashed_messages` that reads the
    session, usually on the page the redirect leads to. Messages are stored as JSON,
    so *message* is a string (a ``markupsafe.Markup`` comes back as a plain string and
    is escaped when shown).

    :param request: The current request; it needs a sessions layer around the app.
    :param message: The text to show.
    :param category: A word templates can style or filter by (``"error"``, ``"info"``...).
    :raises RuntimeError: Without a sessions layer.
    """
    session = request.environ.get("framework.session")
    if session is None:
        raise RuntimeError(
            "flash() keeps messages in the session, and this request has none: wrap the app "
            "in a sessions layer, e.g. middleware.sessions.Sessions(app, secret_key=...).")
    # Assigned again rather than appended to, so the session sees the change.
    session[FLASHES_KEY] = [*session.get(FLASHES_KEY, ()), [str(category), str(message)]]


def _pop_flashes(request: Request) -> list[tuple[str, str]]:
    """The messages of this request: taken from the session on the first call, then cached."""
    environ = request.environ
    flashes: list[tuple[str, str]] | None = environ.get("framework.flashes")
    if flashes is None:
        session = environ.get("framework.session")
        stored = session.pop(FLASHES_KEY, None) if session is not None and FLASHES_KEY in session else None
        flashes = [(str(item[0]), str(item[1])) for item in stored or ()
                   if isinstance(item, (list, tuple)) and len(item) == 2]
        environ["framework.flashes"] = flashes
    return flashes


def get_flashed_messages(request: Request, with_categories: bool = False,
                         category_filter: Iterable[str] = ()) -> list[Any]:
    """The messages flashed before this request, as in Flask; they are then gone from the session.

    ::

        for category, message in get_flashed_messages(request, with_categories=True):
            ...
        errors = get_flashed_messages(request, category_filter=["error"])

    The first call in a request takes the messages out of the session; every later
    call in the same request returns the same messages (kept at
    ``environ["framework.flashes"]``), whatever the filter of the first call. A message
    flashed after that first call waits in the session for the next request. Without a
    sessions layer nothing can have been flashed: the list is empty.

    :param request: The current request.
    :param with_categories: Return ``(category, message)`` pairs instead of messages.
    :param category_filter: Only the messages of these categories (empty: all).
    """
    flashes = _pop_flashes(request)
    if category_filter:
        wanted = {category_filter} if isinstance(category_filter, str) else set(category_filter)
        flashes = [item for item in flashes if item[0] in wanted]
    if with_categories:
        return list(flashes)
    return [message for _, message in flashes]


def csrf_token(request: Request) -> str:
    """The CSRF token a form of this request must post as ``csrf_token``.

    ::

        <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">

    A login layer (``FormLogin``) puts it at ``environ["framework.csrf_token"]``: the
    token itself, or a function returning it (so a layer can make it only when a page
    asks).

    :param request: The current request.
    :raises RuntimeError: When no layer put a token there: a form without one would
        be refused, so the page fails now rather than on submit.
    """
    token: str | Callable[[], str] | None = request.environ.get("framework.csrf_token")
    if token is None:
        raise RuntimeError(
            "csrf_token() needs a layer that puts the CSRF token at environ['framework.csrf_token'], "
            "such as FormLogin (middleware.login) around the app; this request has none.")
    return token() if callable(token) else token


def static_url(request: Request, path: str) -> str:
    """The URL of the static file *path*, fingerprinted when the layer has a manifest.

    ::

        static_url(request, "app.js")     # '/static/app.3f2a9c1b.js'
        <script src="{{ static_url('app.js') }}"></script>

    A static files layer outside the app (``StaticFiles``) puts a function at
    ``environ["framework.static_url"]``; it knows the layer's mount, the
    ``SCRIPT_NAME`` the layer saw and its ``manifest.json``, so the URL is right
    wherever the app is mounted inside the onion. A leading ``/`` in *path* is ignored.

    :param request: The current request.
    :param path: The file, relative to the static directory, e.g. ``"css/site.css"``.
    :raises RuntimeError: When no static files layer is outside the app.
    """
    url_of: Callable[[str], str] | None = request.environ.get(STATIC_URL_KEY)
    if url_of is None:
        raise RuntimeError(
            f"static_url() needs a StaticFiles layer outside the app; this request has none "
            f"(asked for {path!r}): wrap the app, e.g. StaticFiles(app, mounts={{'/static': 'public'}}) "
            f"(middleware.static), and the layer puts its URL function at environ['framework.static_url'].")
    return url_of(path)
