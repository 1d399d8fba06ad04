"""What a request costs through Proxy against the upstream called directly, beside Werkzeug's ProxyMiddleware.

Run from the repository root::

    python bench/proxy.py [--requests N] [--warm W]
    python bench/proxy.py --instructions      # the layer's own cost, in instructions, under valgrind

1. Servers: three real processes on 127.0.0.1, each under gunicorn (gthread, one worker, keep-alive):
the upstream (``tests/middleware/upstream.py``), ``Proxy`` routing ``/api`` to it, and
Werkzeug's ``ProxyMiddleware`` routing ``/api/`` to it. One client (urllib3, one
keep-alive connection to each server) sends each scenario's request to the three in
turn, N times, so a change in the machine's load falls on all three alike; the
figure is the median µs per request, and the overhead is the median minus the direct
median.

   Scenarios: ``GET /api/echo`` (a 300-byte JSON answer), ``POST /api/echo`` with a
   64 KiB body, ``GET /api/download?size=1048576`` (1 MiB streamed back).
2. The layer alone: in one process, ``Proxy`` called as a WSGI app (a fresh environ, the
   body read and closed) against the same ``GET /api/echo`` made with a urllib3 pool
   directly, in turn, against the real upstream: what the layer adds to the HTTP
   client call it makes. With ``--instructions``, the same two loops counted by
   valgrind (bench/instructions.py's ``callgrind()``: a process with ``--warm`` calls and
   one with ``--warm`` + ``--requests``, the difference per call); the upstream runs
   outside valgrind.

Wall-clock µs on a shared 2-core machine move with the load (the three servers and the
client share two cores); compare figures of one run only.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import urllib3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # support.py: free ports, server processes
sys.path.insert(0, str(ROOT))  # this checkout, not an installed copy

from instructions import callgrind  # noqa: E402
from support import Process, free_port  # noqa: E402

from middleware.proxy import Proxy  # noqa: E402

SCENARIOS = {
    "GET echo (300 B)": ("GET", "/api/echo", None),
    "POST 64 KiB": ("POST", "/api/echo", os.urandom(64 * 1024)),
    "GET 1 MiB": ("GET", "/api/download?size=1048576", None),
}


def gunicorn(app: str, **env: str) -> tuple[Process, int]:
    """*app* under gunicorn gthread, one worker, on a free port."""
    port = free_port()
    process = Process([sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads", "4",
                       "--keep-alive", "60", "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "1",
                       "--pythonpath", str(ROOT / "tests" / "middleware"), app],
                      env=env, wait_for=("127.0.0.1", port), timeout=30)
    return process, port


def timed(pool: urllib3.HTTPConnectionPool, method: str, path: str, body: bytes | None) -> int:
    """One request on the kept-alive connection, its body read: nanoseconds."""
    start = time.perf_counter_ns()
    response = pool.request(method, path, body=body, preload_content=False)
    while response.read(65536):
        pass
    response.release_conn()
    elapsed = time.perf_counter_ns() - start
    if response.status != 200:
        raise SystemExit(f"{method} {path} on port {pool.port}: {response.status}")
    return elapsed


HEADERS = {"Host": "localhost", "Accept": "*/*", "User-Agent": "bench"}
ENVIRON = {"REQUEST_METHOD": "GET", "PATH_INFO": "/api/echo", "QUERY_STRING": "", "SCRIPT_NAME": "",
           "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
           "wsgi.url_scheme": "http", "REMOTE_ADDR": "127.0.0.1", "wsgi.input_terminated": True,
           **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in HEADERS.items()}}


def in_process_calls(port: int):
    """``(through_proxy, direct)``: one ``GET /api/echo`` each, in this process."""
    proxy = Proxy(None, routes={"/api": [f"http://127.0.0.1:{port}"]})  # type: ignore[arg-type]
    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=1, retries=False)

    def through_proxy() -> None:
        statuses = []
        body = proxy({**ENVIRON, "wsgi.input": io.BytesIO()}, lambda s, h, e=None: statuses.append(s))
        for _ in body:
            pass
        body.close()
        if statuses != ["200 OK"]:
            raise SystemExit(f"through Proxy: {statuses}")

    def direct() -> None:
        response = pool.request("GET", "/api/echo", headers=HEADERS, preload_content=False)
        while response.read(65536):
            pass
        response.release_conn()
        if response.status != 200:
            raise SystemExit(f"direct: {response.status}")

    return through_proxy, direct


def layer_alone(port: int, requests: int, warm: int) -> None:
    """Median µs of the two in-process calls, in turn."""
    through_proxy, direct = in_process_calls(port)
    calls = {"Proxy": through_proxy, "direct": direct}
    samples: dict[str, list[int]] = {name: [] for name in calls}
    for index in range(warm + requests):
        for name, call in calls.items():
            start = time.perf_counter_ns()
            call()
            if index >= warm:
                samples[name].append(time.perf_counter_ns() - start)
    medians = {name: statistics.median(values) / 1000 for name, values in samples.items()}
    print(f"\nThe layer alone, in process (GET /api/echo, {requests} calls each): Proxy "
          f"{medians['Proxy']:,.0f} µs, urllib3 direct {medians['direct']:,.0f} µs, "
          f"the layer adds {medians['Proxy'] - medians['direct']:+,.0f} µs")


def layer_instructions(port: int, requests: int, warm: int) -> None:
    """The same two calls counted by valgrind: instructions per request."""
    per_call = {}
    for mode in ("proxy", "direct"):
        base = callgrind(__file__, "--inner", mode, str(port), str(warm))
        total = callgrind(__file__, "--inner", mode, str(port), str(warm + requests))
        per_call[mode] = (total - base) / requests
    print(f"\nInstructions per GET /api/echo ({requests} calls after {warm}): Proxy "
          f"{per_call['proxy']:,.0f}, urllib3 direct {per_call['direct']:,.0f}, the layer adds "
          f"{per_call['proxy'] - per_call['direct']:+,.0f} ({per_call['proxy'] / per_call['direct']:.2f}x)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="timed requests per server and scenario")
    parser.add_argument("--warm", type=int, default=100, help="untimed requests first")
    parser.add_argument("--instructions", action="store_true", help="count the layer alone under valgrind")
    parser.add_argument("--inner", nargs=3, metavar=("MODE", "PORT", "CALLS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        through_proxy, direct = in_process_calls(int(args.inner[1]))
        call = through_proxy if args.inner[0] == "proxy" else direct
        for _ in range(int(args.inner[2])):
            call()
        return 0
    if args.instructions and shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2

    upstream, upstream_port = gunicorn("upstream:app", UPSTREAM_ID="upstream")
    servers = [upstream]
    try:
        if args.instructions:
            layer_instructions(upstream_port, args.requests, args.warm)
            return 0
        url = f"http://127.0.0.1:{upstream_port}"
        proxy, proxy_port = gunicorn("upstream:proxied()", PROXY_UPSTREAMS=url)
        servers.append(proxy)
        werkzeug, werkzeug_port = gunicorn("upstream:proxied()", PROXY_UPSTREAMS=url, PROXY_KIND="werkzeug")
        servers.append(werkzeug)
        targets = {"direct": upstream_port, "Proxy": proxy_port, "Werkzeug ProxyMiddleware": werkzeug_port}
        pools = {name: urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=1, retries=False)
                 for name, port in targets.items()}
        print(f"{args.requests} keep-alive requests per server and scenario, median µs per request "
              f"(overhead: minus direct)\n")
        print(f"| scenario | {' | '.join(targets)} | Proxy overhead | ProxyMiddleware overhead |")
        print("|---|" + "---:|" * (len(targets) + 2))
        for scenario, (method, path, body) in SCENARIOS.items():
            samples: dict[str, list[int]] = {name: [] for name in targets}
            for index in range(args.warm + args.requests):
                for name, pool in pools.items():
                    elapsed = timed(pool, method, path, body)
                    if index >= args.warm:
                        samples[name].append(elapsed)
            medians = {name: statistics.median(values) / 1000 for name, values in samples.items()}
            direct = medians["direct"]
            cells = " | ".join(f"{value:,.0f}" for value in medians.values())
            print(f"| {scenario} | {cells} | {medians['Proxy'] - direct:+,.0f} | "
                  f"{medians['Werkzeug ProxyMiddleware'] - direct:+,.0f} |", flush=True)
        layer_alone(upstream_port, args.requests, args.warm)
    finally:
        for server in reversed(servers):
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
