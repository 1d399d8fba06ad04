"""Is routing cost flat in the number of rules? First vs last of 200 dynamic rules.

::

    python bench/flat.py [--rules 200] [--repeat 7]

Times, in one process, ``framework.App`` with *rules* dynamic rules
``/d{i}/<int:id>/items`` (and as many static ones), requesting the first and the
last dynamic rule through the whole WSGI call, and ``Router.match`` alone. Prints
µs per call (min of repeated batches) and last/first, which must stay under 1.3x.
"""

from __future__ import annotations

import argparse
import gc
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from framework import App  # noqa: E402

TARGET = 1.3


def build(rules: int) -> App:
    app = App(__name__)
    for i in range(rules):
        app.add(f"/s{i}", lambda request: "static", name=f"s{i}")
        app.add(f"/d{i}/<int:id>/items", lambda request, id, i=i: {"route": i, "id": id}, name=f"d{i}")
    return app


def best_of(call, repeat: int, number: int = 20000) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.disable()
        start = time.perf_counter_ns()
        for _ in range(number):
            call()
        best = min(best, (time.perf_counter_ns() - start) / number / 1000)
        gc.enable()
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    app = build(args.rules)
    router = app.router
    base = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "QUERY_STRING": "", "SERVER_NAME": "localhost",
            "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(), "HTTP_HOST": "localhost"}

    def start_response(status, headers, exc_info=None):
        return None

    print(f"{args.rules} static + {args.rules} dynamic rules; min µs per call")
    worst = 0.0
    for label, last in (("first", 0), ("last", args.rules - 1)):
        path = f"/d{last}/7/items"
        environ = dict(base, PATH_INFO=path)
        wsgi = best_of(lambda environ=environ: b"".join(app(dict(environ), start_response)), args.repeat)
        match = best_of(lambda path=path: router.match(path, "GET"), args.repeat)
        print(f"  {label:5}  {path:18} wsgi {wsgi:6.2f}  match {match:6.2f}")
        if label == "first":
            first_wsgi, first_match = wsgi, match
        else:
            worst = max(wsgi / first_wsgi, match / first_match)
            print(f"  last/first: wsgi {wsgi / first_wsgi:.2f}x  match {match / first_match:.2f}x "
                  f"(target under {TARGET}x)")
    return 0 if worst < TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
