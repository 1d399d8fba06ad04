"""What a layer costs: each kind of layer 1 and 10 deep in a ``middleware.Stack``, µs/request.

Run from the repository root::

    python bench/layers.py [--repeat R] [--batch N]
    python bench/layers.py --profile rewriter_pass    # cProfile one batch, 10 deep

The harness is bench/worker.py's (a fresh environ copy per call, the body joined and
closed, gc off during a batch, min and median of ``--repeat`` batches), in one process.
The inner app is a raw WSGI hello function, so the layers' cost dominates; the ``onion``
section repeats kinds 1 and 2 around ``framework.App`` hello. Per layer is
``(t10 - t0) / 10``, t0 the bare app's median. Exits 1 if a pass-through layer costs
1 µs or more.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from worker import base_environ, calibrate, call_once, profile_batch, timed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout, not an installed copy

from apps import onion, raw  # noqa: E402

from middleware import Stack  # noqa: E402
from middleware.toolkit import ClosingIterator, ResponseRewriter, Rewrite, rewrite_start_response  # noqa: E402

LIMIT_US = 1.0  # per pass-through layer
DEPTHS = (1, 10)


class PassThrough:
    """The house shape, doing nothing: the cost of the onion itself."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def _add_header(status, headers):
    return status, [*headers, ("X-Layer", "1")]


class AddHeader(PassThrough):
    """Appends ``X-Layer: 1`` through ``rewrite_start_response``."""

    def __call__(self, environ, start_response):
        return self.app(environ, rewrite_start_response(start_response, _add_header))


class Closing(PassThrough):
    """Passes the body through a ``ClosingIterator``, as a layer that must see close()."""

    def __call__(self, environ, start_response):
        return ClosingIterator(self.app(environ, start_response))


class Declines(ResponseRewriter):
    """A rewriting layer on a response it does not rewrite."""

    def wants(self, environ, status, headers):
        return None


BUFFER = Rewrite.BUFFER  # a module constant: an Enum attribute costs ~0.15 µs on Python 3.11


class Upper(ResponseRewriter):
    """Upper-cases text/plain bodies, buffered."""

    def wants(self, environ, status, headers):
        return BUFFER if headers.get("Content-Type", "").startswith("text/plain") else None

    def rewrite(self, environ, status, headers, body):
        return status, body.upper()


KINDS = {  # name -> (layer, what one layer does to the hello answer)
    "pass_through": (PassThrough, "passes it through"),
    "add_header": (AddHeader, "adds X-Layer: 1"),
    "closing": (Closing, "wraps the body in ClosingIterator"),
    "rewriter_pass": (Declines, "ResponseRewriter, wants() None"),
    "rewriter_upper": (Upper, "ResponseRewriter, upper-cases the body"),
}
SECTIONS = {  # name -> (inner app builder, kinds)
    "raw": (raw.hello, list(KINDS)),
    "onion": (onion.hello, ["pass_through", "add_header"]),
}


def check(kind: str, depth: int, answer: dict, headers: list) -> None:
    """Fail loudly if the stack did not answer hello as the kind says it should."""
    body = "HELLO, WORLD!" if kind == "rewriter_upper" else "Hello, World!"
    added = sum(name == "X-Layer" for name, _ in headers)
    expected_added = depth if kind == "add_header" else 0
    if answer["status"] != "200 OK" or answer["body"] != body or added != expected_added:
        sys.exit(f"{kind} x{depth}: wrong answer {answer}, {added} X-Layer headers")


def measure(app, base: dict, batch: int, repeat: int) -> tuple[float, float]:
    """Median and min µs/request over *repeat* batches."""
    batch = batch or calibrate(app, base)
    runs = [timed(app, base, batch) / batch / 1000 for _ in range(repeat)]
    return statistics.median(runs), min(runs)


def answer(app, base: dict) -> tuple[dict, list]:
    seen: list = []

    def spy(environ, start_response):  # outside the stack: what the server would get
        def capture(status, headers, exc_info=None):
            seen[:] = headers
            return start_response(status, headers, exc_info)

        return app(environ, capture)

    return call_once(spy, base), seen


def section(name: str, base: dict, batch: int, repeat: int) -> float | None:
    """Print one section's table; return the pass-through per-layer median µs."""
    build, kinds = SECTIONS[name]
    t0, t0_min = measure(build(), base, batch, repeat)
    print(f"\n{name}: inner app {build.__module__}.hello, bare: {t0:.2f} µs (min {t0_min:.2f})")
    print(f"  {'kind':<16}{'1 deep µs':>11}{'10 deep µs':>12}{'per layer µs':>14}"
          f"{'(min)':>8}{'base µs':>9}  what a layer does")
    per_pass = None
    for kind in kinds:
        layer, what = KINDS[kind]
        times = {}
        for depth in DEPTHS:
            app = Stack(build(), *[layer] * depth)
            check(kind, depth, *answer(app, base))
            times[depth] = measure(app, base, batch, repeat)
        per, per_min = (times[10][0] - t0) / 10, (times[10][1] - t0_min) / 10
        if kind == "pass_through":
            per_pass = per
        print(f"  {kind:<16}{times[1][0]:>11.2f}{times[10][0]:>12.2f}{per:>14.3f}"
              f"{per_min:>8.3f}{t0:>9.2f}  {what}")
    return per_pass


def profile(kind: str, base: dict, batch: int) -> None:
    print(f"{kind}, 10 deep:")
    profile_batch(Stack(raw.hello(), *[KINDS[kind][0]] * 10), base, batch, "tottime", 15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="batches per measurement")
    parser.add_argument("--batch", type=int, default=0, help="calls per batch (0: ~100 ms)")
    parser.add_argument("--profile", choices=KINDS, help="cProfile one batch of KIND, 10 deep")
    args = parser.parse_args()
    base = base_environ("GET", "/")
    if args.profile:
        profile(args.profile, base, args.batch)
        return 0
    print(f"Python {sys.version.split()[0]}; median of {args.repeat} batches; "
          "per layer = (10 deep - bare) / 10")
    per_pass = section("raw", base, args.batch, args.repeat)
    section("onion", base, args.batch, args.repeat)
    ok = per_pass is not None and per_pass < LIMIT_US
    print(f"\npass-through per layer: {per_pass:.3f} µs, "
          + (f"under {LIMIT_US} µs: OK" if ok else f"NOT under {LIMIT_US} µs"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
