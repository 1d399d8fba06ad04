"""What RateLimit costs per request, with memory and with Redis storage, beside flask-limiter.

Run from the repository root::

    python bench/ratelimit.py [--repeat R] [--batch N] [--strategy S]
    python bench/ratelimit.py --instructions      # the same overheads in instructions, under valgrind

One run measures, on the same limit (never reached), the same strategy and the same
storage (this process's memory, then a ``redis-server`` that the script starts on a
free port with ``--save '' --appendonly no`` and stops by PID at the end):

- ours: ``RateLimit(key="ip")`` around a raw WSGI hello, against the bare raw hello;
- flask-limiter's: a Flask hello with ``Limiter(get_remote_address, headers_enabled=True)``
  (so it writes its rate-limit headers, as ``RateLimit`` always does), against the same
  Flask hello without it.

The overhead of each is the difference, in µs per request: bench/layers.py's harness
(bench/worker.py: a fresh environ copy per call, the body joined and closed, gc off
during a batch, the median of ``--repeat`` batches). Target: ours below
flask-limiter's on both storages; exits 1 otherwise.

Wall-clock µs on a shared 2-core machine move with the load; ``--instructions``
counts the same cases with valgrind (as bench/instructions.py does: a process with
``--warm`` calls and one with ``--warm`` + ``--calls``, the difference per call).
Only the Python process is counted there, not the work of ``redis-server``; the
Redis figures then show the client-side cost (command building, socket calls,
reply parsing), not the round trip.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from instructions import callgrind
from worker import base_environ, calibrate, call_once, run_batch, timed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout, not an installed copy

from apps import flask_app, raw  # noqa: E402
from flask_limiter import Limiter  # noqa: E402
from flask_limiter.util import get_remote_address  # noqa: E402

from middleware.ratelimit import RateLimit  # noqa: E402

#: A limit no benchmark reaches: every measured request is let through and counted.
LIMIT = "1000000000/hour"
STRATEGIES = ("fixed-window", "moving-window", "sliding-window-counter")


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway ``redis-server`` on a free port; yields its ``redis://`` URL."""
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {port}") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def flask_limited(storage: str, strategy: str):
    """The Flask hello behind flask-limiter with *LIMIT* on *storage*, headers on."""
    app = flask_app.hello()
    Limiter(get_remote_address, app=app, default_limits=[LIMIT], storage_uri=storage,
            strategy=strategy, headers_enabled=True)
    return app


def cases(redis_url: str | None, strategy: str) -> dict[str, Callable[[], object]]:
    """Name -> builder of the WSGI app; bare apps first, then each limited one."""
    table: dict[str, Callable[[], object]] = {
        "raw hello (bare)": raw.hello,
        "Flask hello (bare)": flask_app.hello,
    }
    storages = [("memory", "memory://")] + ([("redis", redis_url)] if redis_url else [])
    for name, uri in storages:
        table[f"RateLimit, {name}"] = lambda uri=uri: RateLimit(raw.hello(), limit=LIMIT, key="ip",
                                                                storage=uri, strategy=strategy)
        table[f"flask-limiter, {name}"] = lambda uri=uri: flask_limited(uri, strategy)
    return table


def checked(app, environ: dict):
    """*app*, after one request shows it answers 200 OK."""
    answer = call_once(app, environ)
    if answer["status"] != "200 OK":
        sys.exit(f"expected 200 OK, got {answer}")
    return app


def measure(app, environ: dict, batch: int, repeat: int) -> float:
    """Median µs/request over *repeat* batches."""
    batch = batch or calibrate(app, environ)
    return statistics.median(timed(app, environ, batch) / batch / 1000 for _ in range(repeat))


def report(per: dict[str, float], unit: str) -> bool:
    """Print each limiter's cost and overhead over its bare app; whether ours wins on each storage."""
    bare = {"RateLimit": per["raw hello (bare)"], "flask-limiter": per["Flask hello (bare)"]}
    digits = 2 if unit == "µs" else 0  # instructions are whole
    overheads: dict[str, dict[str, float]] = {}
    for name, value in per.items():
        if "(bare)" in name:
            print(f"  {name:<26}{value:>12,.{digits}f} {unit}")
            continue
        who, storage = name.split(", ")
        over = value - bare[who]
        overheads.setdefault(storage, {})[who] = over
        print(f"  {name:<26}{value:>12,.{digits}f} {unit}  overhead {over:>10,.{digits}f} {unit}")
    ok = True
    for storage, pair in overheads.items():
        ours, theirs = pair["RateLimit"], pair["flask-limiter"]
        wins = ours < theirs
        ok = ok and wins
        print(f"  {storage:<7} overhead: RateLimit {ours:,.{digits}f} vs flask-limiter "
              f"{theirs:,.{digits}f} {unit} = {theirs / ours:.1f}x  "
              + ("OK" if wins else "NOT below flask-limiter"))
    return ok


def inner(redis_url: str, strategy: str, case: int, calls: int) -> None:
    """Answer *calls* requests of case number *case* (run under valgrind)."""
    environ = base_environ("GET", "/")
    build = list(cases(redis_url or None, strategy).values())[case]
    run_batch(checked(build(), environ), environ, calls)


def instructions(redis_url: str, strategy: str, warm: int, calls: int) -> bool:
    """Each case's instructions per request, counted by valgrind."""
    names = list(cases(redis_url, strategy))
    per = {}
    for n, name in enumerate(names):
        args = ("--inner", redis_url, strategy, str(n))
        total = callgrind(__file__, *args, str(warm + calls))
        per[name] = (total - callgrind(__file__, *args, str(warm))) / calls
    print(f"instructions per request, {calls} calls after {warm} (valgrind), {strategy}:")
    return report(per, "ins")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="batches per measurement")
    parser.add_argument("--batch", type=int, default=0, help="calls per batch (0: ~100 ms)")
    parser.add_argument("--strategy", default="sliding-window-counter", choices=STRATEGIES)
    parser.add_argument("--instructions", action="store_true", help="count instructions instead")
    parser.add_argument("--warm", type=int, default=200, help="--instructions: calls before counting")
    parser.add_argument("--calls", type=int, default=1000, help="--instructions: calls counted")
    parser.add_argument("--inner", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(args.inner[0], args.inner[1], int(args.inner[2]), int(args.inner[3]))
        return 0
    if shutil.which("redis-server") is None:
        print("redis-server is not installed (apt-get install redis-server)", file=sys.stderr)
        return 2
    if args.instructions and shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    logging.getLogger("middleware.ratelimit").setLevel(logging.ERROR)
    with redis_server() as redis_url:
        if args.instructions:
            ok = instructions(redis_url, args.strategy, args.warm, args.calls)
        else:
            environ = base_environ("GET", "/")
            print(f"Python {sys.version.split()[0]}; µs per request, median of {args.repeat} batches, "
                  f"limit {LIMIT!r}, {args.strategy}, key REMOTE_ADDR:")
            per = {name: measure(checked(build(), environ), environ, args.batch, args.repeat)
                   for name, build in cases(redis_url, args.strategy).items()}
            ok = report(per, "µs")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
