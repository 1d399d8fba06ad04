"""The ``stack`` scenario: static miss -> rate limit -> Basic auth -> hello, ours against Falcon.

Run from the repository root::

    python bench/stack.py                        # instructions (valgrind) and µs, one run
    python bench/stack.py --layers               # also each layer alone (more valgrind runs)
    python bench/stack.py --no-instructions      # µs only, a few seconds

One request, ``GET /`` from ``REMOTE_ADDR`` 127.0.0.1 with good Basic credentials,
through the same work on both sides:

- ours: ``Stack(app, partial(StaticFiles, mounts={"/static": FOLDER}, max_age=60),
  partial(RateLimit, limit=LIMIT, key="ip", storage="memory://"), partial(BasicAuth,
  users={"alice": hash}))`` around the ``framework.App`` hello of bench/apps/onion.py;
- Falcon: ``WhiteNoise`` outermost (same folder, ``prefix="static/"``, ``max_age=60``,
  ``autorefresh=False``), around a ``falcon.App`` with two middleware components
  (below): a rate limit on the same ``limits`` strategy (sliding window counter) and
  storage (this process's memory) that writes the same ``RateLimit-Policy`` and
  ``RateLimit`` fields, then Basic auth that remembers a verified header under a keyed
  BLAKE2s digest for 60 s (what ``BasicAuth``'s success cache does), then the hello
  resource of bench/apps/falcon_app.py.

The limit (``LIMIT``) is never reached and the password is checked once (the first call;
a fast PBKDF2 hash so start-up stays short): every measured request is a static miss,
a counted hit and a cache hit. The static folder is bench/static.py's.

Besides the two stacks it measures each bare hello, so the table gives each stack's
overhead over its own hello; with ``--layers`` also each layer alone around the hello,
and the sum of their overheads beside the stack's. Instructions (the reliable figure): bench/instructions.py's
``callgrind()``, a process with ``--warm`` calls and one with ``--warm`` + ``--calls``,
the difference per call. µs: bench/worker.py's harness (fresh environ copy, body joined
and closed, gc off during a batch), the median of ``--repeat`` interleaved batches.
Exits 1 unless our stack costs no more instructions than Falcon's.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import math
import secrets
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from instructions import callgrind
from static import MAX_AGE, folder
from worker import base_environ, calibrate, run_batch, timed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout, not an installed copy

import falcon  # noqa: E402
from apps import falcon_app, onion  # noqa: E402
from limits import parse  # noqa: E402
from limits.storage import storage_from_string  # noqa: E402
from limits.strategies import STRATEGIES  # noqa: E402
from werkzeug.security import check_password_hash, generate_password_hash  # noqa: E402
from whitenoise import WhiteNoise  # noqa: E402

from middleware.auth import BasicAuth  # noqa: E402
from middleware.ratelimit import RateLimit  # noqa: E402
from middleware.stack import Stack  # noqa: E402

#: A limit no benchmark reaches: every measured request is let through and counted.
LIMIT = "1000000000/hour"
STRATEGY = "sliding-window-counter"  # RateLimit's default
STORAGE = "memory://"
USER, PASSWORD = "alice", "s3cret"
HASH_METHOD = "pbkdf2:sha256:1000"  # checked once, then cached on both sides
CACHE_SECONDS = 60  # BasicAuth's default cache_seconds


class FalconRateLimit:
    """A rate limit as a Falcon middleware component, on the ``limits`` library.

    The same work as ``RateLimit`` for one default limit: a hit and a read of the
    window, then the IETF ``RateLimit-Policy`` and ``RateLimit`` fields on the response.
    """

    def __init__(self, limit: str, *, storage: str = STORAGE, strategy: str = STRATEGY) -> None:
        self.item = parse(limit)
        self.limiter = STRATEGIES[strategy](storage_from_string(storage))
        self.policy = f'"default";q={self.item.amount};w={self.item.get_expiry()}'

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        key = req.remote_addr
        allowed = self.limiter.hit(self.item, "default", key)
        stats = self.limiter.get_window_stats(self.item, "default", key)
        remaining = stats.remaining if allowed else 0
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        resp.set_header("RateLimit-Policy", self.policy)
        resp.set_header("RateLimit", f'"default";r={remaining};t={reset}')
        if not allowed:
            raise falcon.HTTPTooManyRequests(retry_after=max(1, reset))


class FalconBasicAuth:
    """HTTP Basic auth as a Falcon middleware component, with ``BasicAuth``'s success cache.

    A verified ``Authorization`` header is remembered for *seconds* under a keyed
    BLAKE2s digest of the header, so a repeated request costs one keyed hash and a
    dict lookup, as ours does.
    """

    def __init__(self, users: dict[str, str], *, seconds: float = CACHE_SECONDS) -> None:
        self.users = users
        self.seconds = seconds
        self._mac = hashlib.blake2s(key=secrets.token_bytes(32), digest_size=32)
        self._entries: dict[bytes, tuple[str, float]] = {}

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        header = req.auth
        if header:
            mac = self._mac.copy()
            mac.update(header.encode("utf-8", "surrogatepass"))
            key = mac.digest()
            entry = self._entries.get(key)
            user = entry[0] if entry is not None and entry[1] > time.monotonic() else self._check(header)
            if user is not None:
                if entry is None:
                    self._entries[key] = (user, time.monotonic() + self.seconds)
                req.env["REMOTE_USER"] = user
                req.env["AUTH_TYPE"] = "Basic"
                return
        raise falcon.HTTPUnauthorized(title="Unauthorized",
                                      description="This page needs a user name and password.",
                                      challenges=['Basic realm="Restricted", charset="UTF-8"'])

    def _check(self, header: str) -> str | None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            name, _, password = base64.b64decode(token, validate=True).decode().partition(":")
        except ValueError:  # bad base64, or not UTF-8
            return None
        stored = self.users.get(name)
        return name if stored is not None and check_password_hash(stored, password) else None


def users() -> dict[str, str]:
    """The one user, with a fast hash: checked on the first call only, on both sides."""
    return {USER: generate_password_hash(PASSWORD, method=HASH_METHOD)}


def static(app: Any) -> Any:
    from middleware.static import StaticFiles

    return StaticFiles(app, mounts={"/static": str(folder())}, max_age=MAX_AGE)


def whitenoise(app: Any) -> Any:
    return WhiteNoise(app, root=str(folder()), prefix="static/", max_age=MAX_AGE, autorefresh=False)


def falcon_hello(*components: Any) -> falcon.App:
    app = falcon.App(middleware=list(components))
    app.add_route("/", falcon_app.Hello())
    return app


#: Case name -> builder. Per side: the bare hello, each layer alone, the whole stack.
CASES: dict[str, Callable[[], Any]] = {
    "ours: App hello (bare)": onion.hello,
    "ours: StaticFiles miss": lambda: static(onion.hello()),
    "ours: RateLimit": lambda: RateLimit(onion.hello(), limit=LIMIT, key="ip", storage=STORAGE),
    "ours: BasicAuth": lambda: BasicAuth(onion.hello(), users=users()),
    "ours: stack": lambda: Stack(onion.hello(), static,
                                 partial(RateLimit, limit=LIMIT, key="ip", storage=STORAGE),
                                 partial(BasicAuth, users=users())),
    "Falcon: hello (bare)": falcon_hello,
    "Falcon: WhiteNoise miss": lambda: whitenoise(falcon_hello()),
    "Falcon: rate limit": lambda: falcon_hello(FalconRateLimit(LIMIT)),
    "Falcon: Basic auth": lambda: falcon_hello(FalconBasicAuth(users())),
    "Falcon: stack": lambda: whitenoise(falcon_hello(FalconRateLimit(LIMIT), FalconBasicAuth(users()))),
}


def environ() -> dict:
    """``GET /`` from 127.0.0.1 with alice's good Basic credentials."""
    credentials = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return base_environ("GET", "/") | {"HTTP_AUTHORIZATION": f"Basic {credentials}"}


def checked(name: str) -> Any:
    """Case *name*'s app, after one call shows it answers the hello (with the fields if limited)."""
    app = CASES[name]()
    seen: list[Any] = []
    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen[:] = [status, {field.lower(): value for field, value in headers}]

    answer = app(environ(), start_response)
    try:
        body = b"".join(answer)
    finally:
        if hasattr(answer, "close"):
            answer.close()
    if seen[:1] != ["200 OK"] or body != b"Hello, World!":
        sys.exit(f"{name}: expected 200 Hello, World!, got {seen} {body[:200]!r}")
    limited = "RateLimit" in name or "rate limit" in name or "stack" in name
    if limited and not seen[1].get("ratelimit", "").startswith('"default";r='):
        sys.exit(f"{name}: no RateLimit field in {seen[1]}")
    return app


def inner(case: int, calls: int) -> None:
    """Answer *calls* requests of case number *case* (run under valgrind)."""
    run_batch(checked(list(CASES)[case]), environ(), calls)


def instructions(names: list[str], warm: int, calls: int) -> dict[str, float]:
    """Instructions per request of each case, counted by valgrind."""
    counts = {}
    for name in names:
        args = ("--inner", str(list(CASES).index(name)))
        total = callgrind(__file__, *args, str(warm + calls))
        counts[name] = (total - callgrind(__file__, *args, str(warm))) / calls
        print(f"  counted {name}: {counts[name]:,.0f}", file=sys.stderr, flush=True)
    return counts


def microseconds(names: list[str], batch: int, repeat: int) -> dict[str, float]:
    """Median µs per request of each case, the cases' batches interleaved."""
    base = environ()
    apps = {name: checked(name) for name in names}
    sizes = {name: batch or calibrate(app, base) for name, app in apps.items()}
    runs: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(repeat):
        for name, app in apps.items():
            runs[name].append(timed(app, base, sizes[name]) / sizes[name] / 1000)
    return {name: statistics.median(values) for name, values in runs.items()}


def report(figures: dict[str, float], unit: str) -> dict[str, float]:
    """Print each case with its overhead over its side's bare hello; return the overheads."""
    digits = 0 if unit == "ins" else 2
    bare = {"ours": figures["ours: App hello (bare)"], "Falcon": figures["Falcon: hello (bare)"]}
    overheads = {}
    for name, value in figures.items():
        over = value - bare[name.split(":")[0]]
        overheads[name] = over
        extra = "" if "(bare)" in name else f"  overhead {over:>10,.{digits}f}"
        print(f"  {name:<26}{value:>12,.{digits}f} {unit}{extra}")
    for side in ("ours", "Falcon") if len(figures) > 4 else ():
        layers = sum(over for name, over in overheads.items()
                     if name.startswith(side) and "(bare)" not in name and "stack" not in name)
        print(f"  {side}: sum of the single layers' overheads {layers:,.{digits}f} {unit}, "
              f"the stack's overhead {overheads[f'{side}: stack']:,.{digits}f} {unit}")
    ours, theirs = figures["ours: stack"], figures["Falcon: stack"]
    print(f"  stack: ours {ours:,.{digits}f} vs Falcon {theirs:,.{digits}f} {unit}: "
          f"Falcon / ours = {theirs / ours:.2f}x")
    return overheads


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", action="store_true", help="also each layer alone")
    parser.add_argument("--no-instructions", action="store_true", help="µs only, no valgrind")
    parser.add_argument("--warm", type=int, default=200, help="calls before counting")
    parser.add_argument("--calls", type=int, default=1000, help="calls counted")
    parser.add_argument("--repeat", type=int, default=7, help="µs: batches per figure")
    parser.add_argument("--batch", type=int, default=0, help="µs: calls per batch (0: ~100 ms)")
    parser.add_argument("--inner", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(*args.inner)
        return 0
    counting = not args.no_instructions
    if counting and shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    names = [name for name in CASES if args.layers or "(bare)" in name or "stack" in name]
    counts = instructions(names, args.warm, args.calls) if counting else {}
    times = microseconds(names, args.batch, args.repeat)
    print(f"Python {sys.version.split()[0]}; GET / with good Basic credentials, limit {LIMIT!r}, "
          f"{STRATEGY}, {STORAGE}")
    if counts:
        print(f"instructions per request, {args.calls} calls after {args.warm} (valgrind):")
        report(counts, "ins")
    print(f"µs per request, median of {args.repeat} interleaved batches:")
    report(times, "µs")
    if counts and counts["ours: stack"] > counts["Falcon: stack"]:
        print("our stack is NOT at or below Falcon's")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
