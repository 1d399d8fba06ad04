"""Production servers behind ``python -m framework run --server NAME``.

Each adapter starts the real server with sensible production settings; a server
that is not installed is one clear line naming the extra to install:

===========  =============================  =====================================
``--server``  what runs                      install
===========  =============================  =====================================
werkzeug     Werkzeug's development server  (always; the default; not for production)
gunicorn     gunicorn, sync or gthread      ``pip install 'onion-wsgi[gunicorn]'``
waitress     waitress (threads, one process) ``pip install 'onion-wsgi[waitress]'``
gevent       gevent's WSGI server            ``pip install 'onion-wsgi[gevent]'``
uwsgi        uWSGI (HTTP router + workers)   ``pip install 'onion-wsgi[uwsgi]'``
===========  =============================  =====================================

Whatever the server, a client sees the same: HTTP/1.1 connections are kept open
between requests (uWSGI's HTTP router is told to, and to chunk a body of unknown
length), and a port that cannot be listened on is one :class:`ServerError` before
the server starts (see :func:`check_address`).
"""

from __future__ import annotations

import errno
import importlib.util
import os
import shutil
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["SERVERS", "ServerError", "ServerOptions", "check_address", "serve"]


class ServerError(Exception):
    """The server cannot be started as asked; the message says what to do."""


@dataclass
class ServerOptions:
    """What ``run`` was asked for.

    :param target: ``module:app``, for servers that import the app themselves.
    :param workers: Processes (``None``: the server's sensible default).
    :param threads: Threads per process (``None``: the server's default).
    """

    target: str
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int | None = None
    threads: int | None = None
    debug: bool = False
    reload: bool = False


def _need(module: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ServerError(f"--server {extra} needs {module}: pip install 'onion-wsgi[{extra}]'")


def _one_process(name: str, options: ServerOptions) -> None:
    if options.workers not in (None, 1):
        raise ServerError(f"--server {name} runs one process; use --threads, or --server gunicorn "
                          "for several workers")


def address_error(host: str, port: int, error: OSError) -> ServerError:
    """The one-line :class:`ServerError` for *error*, raised when binding *host*:*port*."""
    if error.errno == errno.EADDRINUSE:
        return ServerError(f"port {port} on {host} is busy (another server listens there; "
                           "choose another --port)")
    if isinstance(error, socket.gaierror):
        return ServerError(f"cannot listen on {host!r}: not a local address or host name "
                           f"({error.strerror})")
    if error.errno == errno.EACCES:
        return ServerError(f"cannot listen on port {port} on {host}: permission denied "
                           "(ports below 1024 need root; choose a higher --port)")
    return ServerError(f"cannot listen on {host}:{port}: {error.strerror or error}")


def check_address(host: str, port: int) -> None:
    """Bind *host*:*port* once, as the servers do, and raise :class:`ServerError` if that fails.

    Each server reports a busy port its own way (a traceback, five retries, a page of
    start-up log); this check makes it one line for all of them, before any starts.

    :param host: The interface (a name or an address) the server will listen on.
    :param port: The TCP port.
    :raises ServerError: The port is busy, the host is not local, or permission is denied.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        with socket.socket(family, kind, proto) as probe:
            # As every server does: a port left in TIME_WAIT by a previous run is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        raise address_error(host, port, error) from None


def default_workers() -> int:
    """Gunicorn's advice: two workers per core, plus one."""
    return 2 * (os.cpu_count() or 1) + 1


def run_werkzeug(app: Any, options: ServerOptions) -> None:
    """Werkzeug's development server: reloader and debugger on request."""
    from werkzeug.serving import run_simple

    processes = options.workers or 1
    if options.debug and hasattr(app, "propagate_exceptions"):
        app.debug = app.propagate_exceptions = True
    use_debugger = options.debug
    if options.debug and not options.reload:
        # Werkzeug prints the debugger's PIN only in the reloader's child process; without
        # the reloader, wrap the app here and print it the same way.
        app = debugged(app, options.host)
        use_debugger = False
    run_simple(options.host, options.port, app, use_reloader=options.reload, use_debugger=use_debugger,
               threaded=processes == 1, processes=processes)


def debugged(app: Any, host: str) -> Any:
    """*app* behind Werkzeug's interactive debugger, as ``run_simple`` builds it; prints the PIN."""
    from werkzeug.debug import DebuggedApplication

    debugger = DebuggedApplication(app, evalex=True)
    debugger.trusted_hosts.append(host)
    print(" * Debugger is active!", file=sys.stderr)
    pin = debugger.pin
    print(" * Debugger PIN disabled. DEBUGGER UNSECURED!" if pin is None else f" * Debugger PIN: {pin}",
          file=sys.stderr, flush=True)
    return debugger


def run_gunicorn(app: Any, options: ServerOptions) -> None:
    """gunicorn: ``workers`` processes (default 2 x cores + 1), gthread when ``threads`` > 1."""
    _need("gunicorn", "gunicorn")
    from gunicorn.app.base import BaseApplication

    settings = {
        "bind": f"{options.host}:{options.port}",
        "workers": options.workers or default_workers(),
        "threads": options.threads or 1,
        "worker_class": "gthread" if (options.threads or 1) > 1 else "sync",
        "timeout": 30,
        "graceful_timeout": 30,
        "keepalive": 5,
        "accesslog": "-",
    }

    class Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in settings.items():
                self.cfg.set(key, value)
            # gunicorn >= 25.1 opens ~/.gunicorn/gunicorn.ctl, one path shared by every
            # gunicorn of the user; a second server would take it over.
            if "control_socket_disable" in self.cfg.settings:
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            return app

    Application().run()


def run_waitress(app: Any, options: ServerOptions) -> None:
    """waitress: one process, ``threads`` threads (default 8)."""
    _need("waitress", "waitress")
    _one_process("waitress", options)
    import logging

    import waitress

    logging.basicConfig()  # as waitress.serve does: its warnings reach stderr
    try:
        server = waitress.create_server(app, host=options.host, port=options.port,
                                        threads=options.threads or 8)
    except OSError as error:  # taken between check_address and here
        raise address_error(options.host, options.port, error) from None
    server.print_listen("Serving on http://{}:{}")
    server.run()


def run_gevent(app: Any, options: ServerOptions) -> None:
    """Gevent's pywsgi: one process, a greenlet per connection (``--threads`` is the pool size)."""
    _need("gevent", "gevent")
    _one_process("gevent", options)
    from gevent import monkey

    # Make blocking stdlib I/O cooperate (as gunicorn's gevent worker does, after the
    # app is loaded); modules that bound socket functions at import time stay blocking.
    monkey.patch_all()
    from gevent.pool import Pool
    from gevent.pywsgi import WSGIServer

    pool = Pool(options.threads) if options.threads else "default"
    server = WSGIServer((options.host, options.port), app, spawn=pool)
    try:
        server.start()
    except OSError as error:  # taken between check_address and here
        raise address_error(options.host, options.port, error) from None
    print(f"Serving on http://{options.host}:{server.server_port}", file=sys.stderr, flush=True)
    server.serve_forever()


def run_uwsgi(app: Any, options: ServerOptions) -> None:
    """uWSGI: a master, ``workers`` processes, its HTTP router; replaces this process.

    The router keeps HTTP/1.1 connections open (``--http-keepalive``; without it, it
    drops them after each response without saying ``Connection: close``) and chunks a
    body of unknown length (``--http-auto-chunked``).
    """
    binary = shutil.which("uwsgi")
    if binary is None:
        raise ServerError("--server uwsgi needs the uwsgi program: pip install 'onion-wsgi[uwsgi]'")
    module, _, attr = options.target.partition(":")
    args = [binary, "--http", f"{options.host}:{options.port}", "--http-keepalive", "--http-auto-chunked",
            "--module", module,
            "--callable", attr or "app", "--master", "--processes", str(options.workers or default_workers()),
            "--threads", str(options.threads or 1), "--need-app", "--die-on-term", "--strict",
            "--chdir", os.getcwd(), "--pythonpath", os.getcwd(), "--disable-logging"]
    if sys.prefix != sys.base_prefix:
        args += ["--virtualenv", sys.prefix]
    sys.stdout.flush()
    os.execv(binary, args)


#: ``--server`` name -> adapter.
SERVERS: dict[str, Callable[[Any, ServerOptions], None]] = {
    "werkzeug": run_werkzeug,
    "gunicorn": run_gunicorn,
    "waitress": run_waitress,
    "gevent": run_gevent,
    "uwsgi": run_uwsgi,
}


def serve(name: str, app: Any, options: ServerOptions) -> None:
    """Run *app* on the server *name* until it is stopped."""
    if name not in SERVERS:
        raise ServerError(f"unknown server {name!r}; choose one of {', '.join(SERVERS)}")
    if options.reload and name != "werkzeug":
        raise ServerError("--reload works only with the werkzeug development server")
    if options.debug and name != "werkzeug":
        raise ServerError("--debug (the interactive debugger) works only with --server werkzeug")
    from werkzeug.serving import is_running_from_reloader

    if not is_running_from_reloader():  # the reloader's child serves on its parent's socket
        check_address(options.host, options.port)
    SERVERS[name](app, options)
