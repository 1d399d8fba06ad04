"""What the XSLT layer costs over running lxml by hand: a 50-item RSS feed made into HTML.

Run from the repository root::

    python bench/xslt.py [--repeat R] [--batch N]
    python bench/xslt.py --instructions      # the same cases in instructions, under valgrind

The cases answer the same request (``GET /feed.xml``) with the same page, made from
``examples/feed/data/feed.xml`` by ``examples/feed/xsl/feed.xsl`` (which imports
``layout.xsl``) with the same two string parameters:

- floor: a plain WSGI function that runs lxml by hand: parse the feed's bytes with a
  safe parser, transform with a stylesheet compiled once, serialize, answer with
  ``Content-Type`` and ``Content-Length``. Nothing can do the same work for less;
- ``XSLT``: the layer (``rules={"/feed.xml": ...}``, its stylesheet cached) around a
  raw WSGI app answering the feed's bytes as ``application/rss+xml``;
- ``XSLT, when="not-accepted"``: the same with a browser's ``Accept`` header (the
  layer parses it, twice).

Each is timed with bench/layers.py's harness (bench/worker.py: a fresh environ copy
per call, the body joined and closed, gc off during a batch), the cases taking turns
batch by batch; the median of ``--repeat`` batches. Target: ``XSLT`` within 1.2x of the
floor; exits 1 otherwise.
``--instructions`` counts each case with valgrind instead (a process with ``--warm``
calls and one with ``--warm`` + ``--calls``, the difference per call), which the
machine's load does not move.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

from instructions import callgrind
from worker import base_environ, calibrate, call_once, run_batch, timed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout, not an installed copy

from lxml import etree  # noqa: E402

from middleware.xslt import XSLT  # noqa: E402

FEED = ROOT / "examples" / "feed"
PARAMS = {"site": "Onion News", "category": ""}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
LIMIT = 1.2


def feed_app():
    """A raw WSGI app answering the feed's bytes, as an app that makes XML would."""
    body = (FEED / "data" / "feed.xml").read_bytes()
    headers = [("Content-Type", "application/rss+xml"), ("Content-Length", str(len(body)))]

    def app(environ, start_response):
        start_response("200 OK", headers)
        return [body]

    return app


def floor_app():
    """The floor: the feed's bytes parsed, transformed and serialized by hand, in one function."""
    body = (FEED / "data" / "feed.xml").read_bytes()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    transform = etree.XSLT(etree.parse(str(FEED / "xsl" / "feed.xsl"), parser))
    params = {name: etree.XSLT.strparam(value) for name, value in PARAMS.items()}

    def app(environ, start_response):
        data = bytes(transform(etree.fromstring(body, parser).getroottree(), **params))
        start_response("200 OK", [("Content-Type", "text/html; charset=UTF-8"),
                                  ("Content-Length", str(len(data)))])
        return [data]

    return app


def cases() -> dict[str, tuple]:
    """Name -> (app, environ), the floor first."""
    base = base_environ("GET", "/feed.xml")
    rules = {"/feed.xml": FEED / "xsl" / "feed.xsl"}
    return {
        "floor: lxml by hand": (floor_app(), base),
        "XSLT": (XSLT(feed_app(), rules=rules, params=PARAMS), base),
        'XSLT, when="not-accepted"': (XSLT(feed_app(), rules=rules, params=PARAMS, when="not-accepted"),
                                      base | {"HTTP_ACCEPT": BROWSER}),
    }


def checked(table: dict[str, tuple]) -> None:
    """Every case answers 200 with the same HTML page, or the comparison means nothing."""
    answers = {name: call_once(app, environ) for name, (app, environ) in table.items()}
    pages = {(answer["status"], answer["content_type"], answer["body"]) for answer in answers.values()}
    if len(pages) != 1 or not next(iter(pages))[0].startswith("200"):
        seen = [(answer["status"], answer["content_type"]) for answer in answers.values()]
        sys.exit(f"the cases do not answer the same page: {seen}")


def wall_clock(batch: int, repeat: int) -> bool:
    """Print µs/request for each case and its ratio to the floor; whether XSLT is within LIMIT.

    The cases take turns, one batch each per round, so a change in the machine's load
    falls on all of them alike; each case's figure is the median of its batches.
    """
    table = cases()
    checked(table)
    sizes = {name: batch or calibrate(app, environ) for name, (app, environ) in table.items()}
    runs: dict[str, list[float]] = {name: [] for name in table}
    for _ in range(repeat):
        for name, (app, environ) in table.items():
            runs[name].append(timed(app, environ, sizes[name]) / sizes[name] / 1000)
    floor_name = next(iter(table))
    floor = statistics.median(runs[floor_name])
    print(f"µs per request, median of {repeat} interleaved batches (min in brackets), 50-item feed to HTML:")
    ok = True
    for name, each_runs in runs.items():
        each = statistics.median(each_runs)
        line = f"  {name:<28}{each:9.1f} µs ({min(each_runs):.1f})"
        if name != floor_name:
            line += f"  {each / floor:.3f} x the floor  ({each - floor:+.1f} µs)"
        if name == "XSLT":
            ok = each / floor <= LIMIT
            line += "  OK" if ok else f"  NOT within {LIMIT}x"
        print(line)
    return ok


def inner(case: int, calls: int) -> None:
    """Answer *calls* requests of case number *case* (run under valgrind)."""
    app, environ = list(cases().values())[case]
    if not call_once(app, environ)["status"].startswith("200"):
        sys.exit(f"case {case}: not a 200")
    run_batch(app, environ, calls)


def instructions(warm: int, calls: int) -> bool:
    """Print each case's instructions per request and its ratio to the floor."""
    names = list(cases())
    per = [(callgrind(__file__, "--inner", str(n), str(warm + calls))
            - callgrind(__file__, "--inner", str(n), str(warm))) / calls for n in range(len(names))]
    print(f"instructions per request, {calls} calls after {warm} (valgrind):")
    print(f"  {names[0]:<28}{per[0]:>12,.0f}")
    for name, each in zip(names[1:], per[1:], strict=True):
        print(f"  {name:<28}{each:>12,.0f}  {each / per[0]:.3f} x the floor  (+{each - per[0]:,.0f})")
    return per[1] / per[0] <= LIMIT


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11, help="batches per case")
    parser.add_argument("--batch", type=int, default=0, help="calls per batch (0: ~100 ms)")
    parser.add_argument("--instructions", action="store_true", help="count instructions instead")
    parser.add_argument("--warm", type=int, default=50, help="--instructions: calls before counting")
    parser.add_argument("--calls", type=int, default=200, help="--instructions: calls counted")
    parser.add_argument("--inner", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(*args.inner)
        return 0
    if args.instructions:
        if shutil.which("valgrind") is None:
            print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
            return 2
        return 0 if instructions(args.warm, args.calls) else 1
    print(f"Python {sys.version.split()[0]}, lxml {etree.__version__}, libxslt "
          f"{'.'.join(map(str, etree.LIBXSLT_VERSION))}")
    return 0 if wall_clock(args.batch, args.repeat) else 1


if __name__ == "__main__":
    sys.exit(main())
