"""A gateway in one process: static files, ``/api`` load-balanced over two upstreams, gzip, CORS.

Everything at once, from the repository root (two upstream processes on 9001 and 9002,
then the gateway on http://127.0.0.1:8000; Ctrl-C stops all three)::

    python -m examples.gateway
    python -m examples.gateway --port 8080 --upstream-ports 9101 9102

Or each part on its own, under any server (here the framework's ``run``; gunicorn works
the same, ``gunicorn -w 4 examples.gateway:application``)::

    GATEWAY_ID=1 python -m framework run examples.gateway:upstream --port 9001
    GATEWAY_ID=2 python -m framework run examples.gateway:upstream --port 9002
    python -m framework run examples.gateway:application --port 8000

``application`` reads its configuration from the environment when it is imported:

- ``GATEWAY_UPSTREAMS``: the upstreams' base URLs, separated by spaces or commas
  (default ``http://127.0.0.1:9001 http://127.0.0.1:9002``);
- ``GATEWAY_STATIC``: the directory served at ``/static``, whose ``index.html`` is also
  the page at ``/`` (default ``examples/gateway_static``);
- ``GATEWAY_ORIGINS``: the origins whose pages may call the API (CORS), separated by
  spaces or commas, or ``*`` (default ``http://localhost:3000``).

The onion, outermost first (``python -m framework stack examples.gateway:application``):

- ``CORS``: answers preflights itself, before anything else runs, and adds the CORS
  headers to every answer below, static files and proxied ones alike;
- ``Compress``: gzip (or brotli) for every answer below it that is worth it, the
  upstreams' JSON included; it leaves alone what is already encoded (a ``.gz`` sibling
  StaticFiles chose);
- ``StaticFiles``: ``/static/...`` from the directory, with ETags, ranges and 304s;
- ``Proxy``: ``/api/...`` to the upstreams in turn (round robin), skipping one that is
  down (502 when both are);
- the ``site`` App: ``/`` (the static index page) and ``/health``.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

from framework import App
from middleware import CORS, Compress, Proxy, Stack, StaticFiles

ROOT = Path(__file__).resolve().parent.parent
STATIC = Path(__file__).resolve().parent / "gateway_static"
DEFAULT_UPSTREAMS = "http://127.0.0.1:9001 http://127.0.0.1:9002"

# -- an upstream: the API the gateway forwards /api to -------------------------------------

upstream = App("gateway-upstream")


@upstream.get("/api/whoami")
def whoami(request: Any) -> dict[str, Any]:
    """Which upstream answered, and what it was sent."""
    return {"upstream": os.environ.get("GATEWAY_ID", "?"), "pid": os.getpid(), "path": request.path,
            "forwarded_for": request.headers.get("X-Forwarded-For"), "via": request.headers.get("Via")}


@upstream.get("/api/items")
def items(request: Any) -> dict[str, Any]:
    """A list long enough to be worth compressing."""
    return {"upstream": os.environ.get("GATEWAY_ID", "?"),
            "items": [{"id": i, "name": f"item {i}", "price": i * 1.25} for i in range(50)]}


@upstream.post("/api/echo")
def echo(request: Any) -> dict[str, Any]:
    """The JSON body posted, sent back."""
    return {"upstream": os.environ.get("GATEWAY_ID", "?"), "got": request.json}


# -- the gateway -----------------------------------------------------------------------------


def make_site(static: Path) -> App:
    """The app inside the layers: the index page at ``/`` and a health check."""
    site = App("gateway")
    index = static / "index.html"

    @site.get("/")
    def home(request: Any) -> tuple[bytes, dict[str, str]]:
        return index.read_bytes(), {"Content-Type": "text/html; charset=utf-8"}

    @site.get("/health")
    def health(request: Any) -> dict[str, str]:
        return {"status": "ok"}

    return site


def make_gateway(upstreams: list[str], *, static: str | os.PathLike[str] = STATIC,
                 origins: list[str] | str | None = None) -> Stack:
    """The gateway's onion around the site app.

    :param upstreams: Base URLs of the API servers ``/api`` is forwarded to, in turn.
    :param static: The directory served at ``/static``.
    :param origins: Origins whose pages may call the API (``"*"``: any; ``None``:
        ``["http://localhost:3000"]``, a development server's page).
    """
    if origins is None:
        origins = ["http://localhost:3000"]
    return Stack(
        make_site(Path(static)),
        partial(CORS, origins=origins, methods=["GET", "POST", "PUT", "DELETE"], headers=["Content-Type"],
                max_age=600),
        partial(Compress, minimum_size=500),
        partial(StaticFiles, mounts={"/static": str(static)}),
        partial(Proxy, routes={"/api": upstreams}, timeout=10.0),
    )


def _origins(value: str) -> list[str] | str:
    return "*" if value.strip() == "*" else re.split(r"[\s,]+", value.strip())


application = make_gateway(
    re.split(r"[\s,]+", os.environ.get("GATEWAY_UPSTREAMS", DEFAULT_UPSTREAMS).strip()),
    static=os.environ.get("GATEWAY_STATIC", STATIC),
    origins=_origins(os.environ.get("GATEWAY_ORIGINS", "http://localhost:3000")),
)

# -- python -m examples.gateway: two upstreams and the gateway ---------------------------------


def _wait_for(port: int, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"The upstream on port {port} did not start.") from None
            time.sleep(0.05)


def main(argv: list[str] | None = None) -> None:
    """Start two upstream processes, then serve the gateway in front of them until stopped."""
    parser = argparse.ArgumentParser(prog="python -m examples.gateway", description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--upstream-ports", type=int, nargs=2, default=[9001, 9002], metavar="PORT")
    args = parser.parse_args(argv)
    # SIGTERM ends the process as Ctrl-C does, so the upstreams are stopped either way.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    children: list[subprocess.Popen[bytes]] = []
    try:
        for number, port in enumerate(args.upstream_ports, 1):
            children.append(subprocess.Popen(
                [sys.executable, "-m", "framework", "run", "examples.gateway:upstream", "--port", str(port)],
                cwd=ROOT, env={**os.environ, "GATEWAY_ID": str(number)}))
        for port, child in zip(args.upstream_ports, children, strict=True):
            _wait_for(port, child)
        gateway = make_gateway([f"http://127.0.0.1:{port}" for port in args.upstream_ports],
                               origins=_origins(os.environ.get("GATEWAY_ORIGINS", "http://localhost:3000")))
        print(f"Gateway on http://{args.host}:{args.port}/ -> /api on ports "
              f"{' and '.join(map(str, args.upstream_ports))}", flush=True)
        from werkzeug.serving import run_simple

        run_simple(args.host, args.port, gateway, threaded=True)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=10)


if __name__ == "__main__":
    main()
