"""Serve the WSGI app on Tornado's HTTP server through ``tornado.wsgi.WSGIContainer``.

::

    python examples/deploy/tornado_server.py --port 8000 [--host 127.0.0.1] [--threads 8]

Matrix row 7 runs this file. Choose it when a process already runs Tornado (native
``RequestHandler``\\ s, websockets) and should also serve a WSGI app, e.g. behind a
``tornado.web.FallbackHandler``; for a WSGI-only app, gunicorn, uWSGI or waitress are better.

Tornado warns that ``WSGIContainer`` is *synchronous*: WSGI calls block, while Tornado
runs everything on one event loop. Without an executor, every request would block the
loop, and with it every other connection, until it is done. Since Tornado 6.3 the
container takes an ``executor``: the app and each step of its response iterator then run
in a thread pool (``--threads``), and the loop stays free to accept and answer. Two more
limits remain: Tornado reads the whole request body before calling the app (up to
``--max-body-size``), and ``WSGIContainer`` joins the whole response before sending it,
so a streamed response arrives in one piece, not chunk by chunk. It does not offer
``wsgi.file_wrapper``.

Behind a reverse proxy, set ``TRUSTED_PROXIES`` (see ``wsgi.py``) rather than Tornado's
``xheaders``: ``ProxyFix`` also handles the host, port and path prefix.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import tornado
from tornado.httpserver import HTTPServer
from tornado.wsgi import WSGIContainer

# Run as a script: make the project importable.
PROJECT = str(Path(__file__).resolve().parents[2])
if PROJECT not in sys.path:
    sys.path.insert(0, PROJECT)

from examples.deploy.wsgi import application  # noqa: E402  (your own app goes here)


def container(app, threads: int) -> WSGIContainer:
    """``WSGIContainer(app)``, running the app in *threads* threads where Tornado can."""
    if tornado.version_info >= (6, 3):
        return WSGIContainer(app, executor=ThreadPoolExecutor(threads, thread_name_prefix="wsgi"))
    return WSGIContainer(app)  # Tornado < 6.3: the app runs on, and blocks, the event loop


async def serve(host: str, port: int, threads: int, max_body_size: int) -> None:
    server = HTTPServer(container(application, threads), max_body_size=max_body_size)
    server.listen(port, address=host)
    print(f"Tornado {tornado.version} serving on http://{host}:{port} ({threads} threads)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.stop()  # no new connections; then let the requests in flight finish
    await server.close_all_connections()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--threads", type=int, default=8, help="threads that run the app (Tornado >= 6.3)")
    parser.add_argument("--max-body-size", type=int, default=10 * 1024 * 1024,
                        help="largest request body in bytes; Tornado reads it whole into memory")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port, args.threads, args.max_body_size))


if __name__ == "__main__":
    main()
