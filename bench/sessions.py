"""What ``Sessions`` costs per request, µs, against the bare app: untouched, read, written.

Run from the repository root::

    python bench/sessions.py [--repeat R] [--batch N]
    python bench/sessions.py --instructions                # valgrind: instructions per request
    python bench/sessions.py --profile untouched_cookie    # cProfile one batch

The harness is bench/worker.py's (a fresh environ copy per call, the body joined and
closed, gc off during a batch), in one process. Batches of the bare app and of the
app in ``Sessions`` alternate, and the overhead is the median (and min) of the
per-pair differences, so a machine whose load drifts moves both sides alike. On a
busy machine prefer ``--instructions``: instructions per request counted by
valgrind's callgrind (as bench/instructions.py does), which load cannot move. The
inner app is a raw WSGI hello function, so the layer's cost dominates:

- ``untouched``: no ``Cookie`` header, the app never reads the session;
- ``untouched_cookie``: a valid session cookie is sent (as a browser does on every
  request) and the app never reads it: the case the issue targets;
- ``read``: the app reads one key (the cookie's signature is verified);
- ``write``: the app sets one key (the cookie is signed and ``Set-Cookie`` sent).

Exits 1 if an ``untouched`` case costs 2 µs or more: the min of the pairs, the
cost with the least interference (as ``timeit`` advises); the median is printed too.
The instruction count is reported, not judged.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

from instructions import callgrind
from worker import base_environ, calibrate, call_once, profile_batch, run_batch, timed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout, not an installed copy

from apps import raw  # noqa: E402

from middleware.sessions import Sessions  # noqa: E402

LIMIT_US = 2.0  # per request that does not touch the session (issue 8)
SECRET = "bench-secret-key"


def hello_untouched():
    return raw.hello()


def hello_read():
    inner = raw.hello()

    def app(environ, start_response):
        if environ["framework.session"].get("user") != "ada":
            raise AssertionError("the session cookie was not read")
        return inner(environ, start_response)

    return app


def hello_write():
    inner = raw.hello()

    def app(environ, start_response):
        environ["framework.session"]["user"] = "ada"
        return inner(environ, start_response)

    return app


def session_cookie() -> str:
    """A ``Cookie`` header with a valid session ``{"user": "ada"}``."""
    layer = Sessions(raw.hello(), secret_key=SECRET)
    return f"session={layer.dump({'user': 'ada'})}"


SCENARIOS = {  # name -> (inner app builder, sends the cookie, what the app does)
    "untouched": (hello_untouched, False, "no cookie, session never read"),
    "untouched_cookie": (hello_untouched, True, "a session cookie, never read"),
    "read": (hello_read, True, "reads one key: the signature is verified"),
    "write": (hello_write, False, "sets one key: signed, Set-Cookie"),
}


def environ_for(cookie: bool) -> dict:
    environ = base_environ("GET", "/")
    if cookie:
        environ["HTTP_COOKIE"] = session_cookie()
    return environ


def build(name: str):
    return Sessions(SCENARIOS[name][0](), secret_key=SECRET, max_age=3600)


def check(name: str, app, base: dict) -> None:
    seen: list = []

    def spy(environ, start_response):
        def capture(status, headers, exc_info=None):
            seen[:] = headers
            return start_response(status, headers, exc_info)

        return app(environ, capture)

    answer = call_once(spy, base)
    cookies = [value for header, value in seen if header == "Set-Cookie"]
    if answer["body"] != "Hello, World!" or len(cookies) != (name == "write"):
        sys.exit(f"{name}: wrong answer {answer}, Set-Cookie {cookies}")


def measure(bare, app, base: dict, batch: int, repeat: int) -> tuple[float, float, float]:
    """Bare median µs, overhead median and min µs: *repeat* alternating pairs of batches."""
    batch = batch or calibrate(app, base)
    calibrate(bare, base)  # warm-up
    pairs = [(timed(bare, base, batch), timed(app, base, batch)) for _ in range(repeat)]
    extra = [(t1 - t0) / batch / 1000 for t0, t1 in pairs]
    return statistics.median(t0 / batch / 1000 for t0, _ in pairs), statistics.median(extra), min(extra)


def apps(name: str):
    """The bare app and the same app in ``Sessions``, for scenario *name*."""
    bare = SCENARIOS[name][0]() if name.startswith("untouched") else raw.hello()
    return bare, build(name)


def count(name: str, which: str, calls: int) -> int:
    """Instructions of a whole process answering *calls* requests (valgrind callgrind)."""
    return callgrind(__file__, "--inner", name, which, str(calls))


def instructions(names: list[str], warm: int, calls: int) -> None:
    """Print instructions per request, bare and in ``Sessions``, for the scenarios *names*."""
    print(f"instructions per request, {calls} calls after {warm} (valgrind callgrind)")
    print(f"  {'scenario':<18}{'bare':>10}{'Sessions':>10}{'overhead':>10}  what the app does")
    for name in names:
        what = SCENARIOS[name][2]
        per = {which: (count(name, which, warm + calls) - count(name, which, warm)) / calls
               for which in ("bare", "layer")}
        print(f"  {name:<18}{per['bare']:>10.0f}{per['layer']:>10.0f}{per['layer'] - per['bare']:>10.0f}"
              f"  {what}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="pairs of batches per measurement")
    parser.add_argument("--batch", type=int, default=0, help="calls per batch (0: ~100 ms)")
    parser.add_argument("--profile", choices=SCENARIOS, help="cProfile one batch of SCENARIO")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions with valgrind (about 30 s a scenario)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help="comma-separated scenarios (default: all)")
    parser.add_argument("--inner", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        name, which, calls = args.inner
        bare, app = apps(name)
        run_batch(bare if which == "bare" else app, environ_for(SCENARIOS[name][1]), int(calls))
        return 0
    if args.profile:
        profile_batch(build(args.profile), environ_for(SCENARIOS[args.profile][1]), args.batch,
                      "tottime", 15)
        return 0
    if args.instructions:
        if shutil.which("valgrind") is None:
            print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
            return 2
        instructions(args.scenarios.split(","), 100, 1000)
        return 0
    print(f"Python {sys.version.split()[0]}; {args.repeat} alternating pairs of batches; "
          "inner app raw hello")
    ok = True
    print(f"  {'scenario':<18}{'bare µs':>9}{'overhead µs':>13}{'(min)':>8}  what the app does")
    for name in args.scenarios.split(","):
        cookie, what = SCENARIOS[name][1:]
        base = environ_for(cookie)
        bare, app = apps(name)
        check(name, app, base)
        t0, extra, extra_min = measure(bare, app, base, args.batch, args.repeat)
        print(f"  {name:<18}{t0:>9.2f}{extra:>13.2f}{extra_min:>8.2f}  {what}", flush=True)
        if name.startswith("untouched") and extra_min >= LIMIT_US:
            ok = False
    print("\nuntouched overhead (min) " + (f"under {LIMIT_US} µs: OK" if ok else f"NOT under {LIMIT_US} µs"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
