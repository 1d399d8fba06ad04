"""``Mount``: several WSGI applications in one, by path prefix and by host name.

::

    from middleware import Mount

    application = Mount(site, mounts={"/api": api_app, "/blog": flask_app},
                        hosts={"admin.example.com": admin_app})

Host mounts are tried first (the port is ignored; ``*.example.com`` matches any
depth of subdomain but not ``example.com``), then path prefixes: the longest
prefix that matches at a segment boundary wins (``/api`` serves ``/api`` and
``/api/x``, never ``/apix``), and moves from ``PATH_INFO`` to ``SCRIPT_NAME`` as
PEP 3333 says, so the mounted app builds its URLs under it. Everything else goes to
``app``; with ``app=None`` it is a 404. The same table serves ``App.mount``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from werkzeug.exceptions import NotFound

from framework.introspection import describe_object
from framework.mounting import MountTable

from .toolkit import error_app

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["Mount"]


class Mount:
    """Dispatch to mounted WSGI applications by host and path prefix.

    :param app: Serves whatever no mount matches; ``None`` answers 404.
    :param mounts: Path prefix -> WSGI application.
    :param hosts: Host name (or ``*.example.com``) -> WSGI application.
    """

    def __init__(self, app: WSGIApplication | None = None, *,
                 mounts: Mapping[str, WSGIApplication] | None = None,
                 hosts: Mapping[str, WSGIApplication] | None = None) -> None:
        if app is not None and not callable(app):
            raise TypeError(f"Mount's app must be a WSGI callable or None, not {app!r}.")
        if not mounts and not hosts:
            raise ValueError("Mount needs mounts={'/prefix': app} or hosts={'name': app}.")
        self.app = app
        self.table = MountTable(mounts, hosts)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Hand the request to the mounted app that matches, else to ``app``."""
        served = self.table.dispatch(environ, start_response)
        if served is not None:
            return served
        if self.app is None:
            return error_app(NotFound())(environ, start_response)
        return self.app(environ, start_response)

    def describe(self) -> str:
        """One line for ``python -m framework stack``: each mount and what it serves.

        ``Mount(mounts={'/api': <App 'api'>}, hosts={'admin.example.com': ...})``; the
        mounted apps are described as :func:`framework.introspection.describe_object`
        describes any layer or app.
        """
        paths: list[str] = []
        hosts: list[str] = []
        for where, app in self.table.entries():
            (paths if where.startswith("/") else hosts).append(f"{where!r}: {describe_object(app)}")
        options = [f"{name}={{{', '.join(items)}}}" for name, items in (("mounts", paths), ("hosts", hosts))
                   if items]
        return f"Mount({', '.join(options)})"
