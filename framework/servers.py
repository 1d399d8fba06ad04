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
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["SERVERS", "ServerError", "ServerOptions", "serve"]


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


def default_workers() -> int:
    """Gunicorn's advice: two workers per core, plus one."""
    return 2 * (os.cpu_count() or 1) + 1


def run_werkzeug(app: Any, options: ServerOptions) -> None:
    """Werkzeug's development server: reloader and debugger on request."""
    from werkzeug.serving import run_simple

    processes = options.workers or 1
    if options.debug and hasattr(app, "propagate_exceptions"):
        app.debug = app.propagate_exceptions = True
    run_simple(options.host, options.port, app, use_reloader=options.reload, use_debugger=options.debug,
               threaded=processes == 1, processes=processes)


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
    import waitress

    waitress.serve(app, host=options.host, port=options.port, threads=options.threads or 8)


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
    WSGIServer((options.host, options.port), app, spawn=pool).serve_forever()


def run_uwsgi(app: Any, options: ServerOptions) -> None:
    """uWSGI: a master, ``workers`` processes, its HTTP router; replaces this process."""
    binary = shutil.which("uwsgi")
    if binary is None:
        raise ServerError("--server uwsgi needs the uwsgi program: pip install 'onion-wsgi[uwsgi]'")
    module, _, attr = options.target.partition(":")
    args = [binary, "--http", f"{options.host}:{options.port}", "--module", module,
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
    SERVERS[name](app, options)
