"""What BasicAuth and TokenAuth cost, and that a wrong password does not tell who exists.

Run from the repository root::

    python bench/auth.py [--runs R] [--repeat R] [--batch N]
    python bench/auth.py --instructions      # the overheads in instructions, under valgrind

Two measurements, in one process:

1. Timing: requests with a wrong password, through ``BasicAuth`` with real Werkzeug
   hashes (the default method, scrypt), for a user that exists and for one that does
   not, interleaved (known then unknown, unknown then known, ...) so a change in the
   machine's load falls on both; the median of ``--runs`` of each, and their ratio. The layer spends
   the same hash on an unknown user, so the ratio should be 1 within 10%.
2. Overhead: µs per request of ``BasicAuth`` on a cached successful login and of
   ``TokenAuth`` with a good token, against the bare app: bench/layers.py's harness
   (bench/worker.py: a fresh environ copy per call, the body joined and closed, gc off
   during a batch, the median of ``--repeat`` batches) around a raw WSGI hello.
   Target: under 2 µs each.

Exits 1 if the timing ratio is off by 10% or more, or an overhead is 2 µs or more.

Wall-clock µs on a shared 2-core machine move by 2x with the load; ``--instructions``
counts the same overheads with valgrind (as bench/instructions.py does: a process with
``--warm`` calls and one with ``--warm`` + ``--calls``, the difference per call), in
instructions and as a multiple of the bare app's own cost, which does not move.
"""

from __future__ import annotations

import argparse
import base64
import logging
import shutil
import statistics
import sys
import time
from pathlib import Path

from instructions import callgrind
from worker import base_environ, calibrate, call_once, run_batch, timed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout, not an installed copy

from apps import raw  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from middleware.auth import BasicAuth, TokenAuth  # noqa: E402

TIMING_TOLERANCE = 0.10
LIMIT_US = 2.0
TOKEN = "3q2-7wEXAMPLEtokenOfThirtyTwoChars_x"


def basic(name: str, password: str) -> str:
    """An ``Authorization`` header value for Basic credentials."""
    return "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()


def one_request_ns(app, environ: dict) -> int:
    """Nanoseconds for one request through *app*, the body read and closed."""
    seen: list[str] = []
    started = time.perf_counter_ns()
    body = app(environ.copy(), lambda status, headers, exc_info=None: seen.append(status))
    b"".join(body)
    if hasattr(body, "close"):
        body.close()
    elapsed = time.perf_counter_ns() - started
    if not seen or not seen[0].startswith("401"):
        sys.exit(f"expected a 401, got {seen}")
    return elapsed


def timing(runs: int) -> bool:
    """Wrong password, known vs unknown user: print the medians and ratio; whether within 10%."""
    users = {"alice": generate_password_hash("correct horse battery staple"),
             "bob": generate_password_hash("another one")}
    app = BasicAuth(raw.hello(), users=users)
    method = users["alice"].partition("$")[0]
    known = base_environ("GET", "/") | {"HTTP_AUTHORIZATION": basic("alice", "wrong password")}
    unknown = base_environ("GET", "/") | {"HTTP_AUTHORIZATION": basic("mallory", "wrong password")}
    one_request_ns(app, known), one_request_ns(app, unknown)  # warm-up
    times: dict[str, list[int]] = {"known": [], "unknown": []}
    pair = [("known", known), ("unknown", unknown)]
    for run in range(runs):
        for kind, environ in pair if run % 2 else pair[::-1]:  # each goes first half the time
            times[kind].append(one_request_ns(app, environ))
    known_ms = statistics.median(times["known"]) / 1e6
    unknown_ms = statistics.median(times["unknown"]) / 1e6
    ratio = unknown_ms / known_ms
    ok = abs(ratio - 1) < TIMING_TOLERANCE
    print(f"wrong password, {method} hashes, median of {runs} interleaved requests each:")
    print(f"  known user   alice:   {known_ms:8.2f} ms")
    print(f"  unknown user mallory: {unknown_ms:8.2f} ms")
    print(f"  ratio unknown/known:  {ratio:8.3f}  "
          + ("within 10%: OK" if ok else "NOT within 10%"))
    return ok


def measure(app, base: dict, batch: int, repeat: int) -> tuple[float, float]:
    """Median and min µs/request over *repeat* batches (the call's answer checked first)."""
    answer = call_once(app, base)
    if answer["status"] != "200 OK":
        sys.exit(f"expected 200 OK, got {answer}")
    batch = batch or calibrate(app, base)
    runs = [timed(app, base, batch) / batch / 1000 for _ in range(repeat)]
    return statistics.median(runs), min(runs)


def cases(hash_method: str = "scrypt") -> dict[str, tuple]:
    """Name -> (app, environ): the bare app first, then each layer on a request it lets in."""
    base = base_environ("GET", "/")
    users = {"alice": generate_password_hash("s3cret", method=hash_method)}
    return {
        "bare": (raw.hello(), base),
        "BasicAuth, cached login": (BasicAuth(raw.hello(), users=users),
                                    base | {"HTTP_AUTHORIZATION": basic("alice", "s3cret")}),
        "TokenAuth, good token": (TokenAuth(raw.hello(), tokens={TOKEN: "ci-bot"}),
                                  base | {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}),
        "BasicAuth, path not protected": (BasicAuth(raw.hello(), users=users, protect=["/admin"]), base),
    }


def overhead(batch: int, repeat: int) -> bool:
    """Per-request cost of each layer over the bare hello; whether each is under 2 µs."""
    table = cases()
    t0, t0_min = measure(*table.pop("bare"), batch, repeat)
    print(f"\nper-request overhead, median of {repeat} batches (min in brackets); "
          f"bare raw hello: {t0:.2f} µs ({t0_min:.2f})")
    ok = True
    for name, (app, environ) in table.items():
        t, t_min = measure(app, environ, batch, repeat)
        over = t - t0
        ok = ok and over < LIMIT_US
        verdict = "OK" if over < LIMIT_US else f"NOT under {LIMIT_US} µs"
        print(f"  {name:<32}{t:8.2f} µs  overhead {over:6.2f} µs ({t_min - t0_min:5.2f})  {verdict}")
    return ok


def inner(case: int, calls: int) -> None:
    """Answer *calls* requests of case number *case* (run under valgrind)."""
    app, environ = list(cases("pbkdf2:sha256:1000").values())[case]
    if call_once(app, environ)["status"] != "200 OK":
        sys.exit(f"case {case}: not a 200")
    run_batch(app, environ, calls)


def count(case: int, calls: int) -> int:
    """Instructions of a whole process answering *calls* requests of case *case*."""
    return callgrind(__file__, "--inner", str(case), str(calls))


def instructions(warm: int, calls: int) -> None:
    """Print each case's instructions per request and its overhead over the bare app."""
    names = list(cases("pbkdf2:sha256:1000"))
    per = [(count(n, warm + calls) - count(n, warm)) / calls for n in range(len(names))]
    print(f"instructions per request, {calls} calls after {warm} (valgrind); bare: {per[0]:,.0f}")
    for name, each in zip(names[1:], per[1:], strict=True):
        over = each - per[0]
        print(f"  {name:<32}{each:>9,.0f}  overhead {over:>7,.0f}  = {over / per[0]:.2f} x the bare app")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=41, help="wrong-password requests of each kind")
    parser.add_argument("--repeat", type=int, default=7, help="batches per overhead measurement")
    parser.add_argument("--batch", type=int, default=0, help="calls per batch (0: ~100 ms)")
    parser.add_argument("--instructions", action="store_true", help="count instructions instead")
    parser.add_argument("--warm", type=int, default=200, help="--instructions: calls before counting")
    parser.add_argument("--calls", type=int, default=2000, help="--instructions: calls counted")
    parser.add_argument("--inner", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(*args.inner)
        return 0
    if args.instructions:
        if shutil.which("valgrind") is None:
            print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
            return 2
        instructions(args.warm, args.calls)
        return 0
    logging.getLogger("middleware.auth").setLevel(logging.ERROR)  # the failures are on purpose
    print(f"Python {sys.version.split()[0]}")
    ok = timing(args.runs)
    ok = overhead(args.batch, args.repeat) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
