"""The ``static`` scenario: StaticFiles against WhiteNoise and Werkzeug's SharedDataMiddleware.

Run from the repository root::

    python bench/static.py                       # instructions (valgrind) and µs, one run
    python bench/static.py --no-instructions     # µs only, a few seconds
    python bench/static.py --file-wrapper        # every contender gets wsgiref's FileWrapper

Three contenders around the same raw WSGI hello (``bench/apps/raw.py``), over the same
folder (``FOLDER``: a 10 KB ``site.css``), with the same caching lifetime (60 s):

- ours: ``StaticFiles(app, mounts={"/static": FOLDER}, max_age=60)``;
- WhiteNoise: ``WhiteNoise(app, root=FOLDER, prefix="static/", max_age=60, autorefresh=False)``;
- Werkzeug: ``SharedDataMiddleware(app, {"/static": FOLDER}, cache_timeout=60)``.

Requests (``GET``, no ``Accept-Encoding``, no conditional headers):

- ``hit``: ``/static/site.css``, the whole 10 KB file (200);
- ``miss``: ``/``, outside the mount, falls through to the hello (200);
- ``miss_mount``: ``/static/missing.css``, inside the mount but no such file: falls
  through to the hello, which answers 404.

Every call is the whole WSGI call: bench/worker.py's harness (a fresh environ copy per
call, a no-op ``start_response``, the body joined with ``b"".join`` and closed). By
default the environ has no ``wsgi.file_wrapper``, so each contender reads the file with
its own fallback; ``--file-wrapper`` puts ``wsgiref.util.FileWrapper`` in every environ
(the same one for all, as a server that offers it would). Every answer is checked
(status and body) before anything is measured.

Instructions (the reliable figure): each (contender, request) runs in a process under
``valgrind --tool=callgrind`` twice, with ``--warm`` calls and with ``--warm`` +
``--calls``; the difference per call is one request (bench/instructions.py's
``callgrind()``; ``PYTHONHASHSEED=0``, so counts repeat). µs (noisy on a shared
machine): the median of ``--repeat`` batches, the contenders' batches interleaved so a
change of load falls on all of them. Ratios are the contender's figure over ours
(``2.00x``: twice our cost). Exits 1 unless ours costs no more instructions than
WhiteNoise on ``hit`` and ``miss``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from wsgiref.util import FileWrapper

from instructions import callgrind
from worker import base_environ, calibrate, run_batch, timed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout, not an installed copy

from apps import raw  # noqa: E402

#: The served folder, rebuilt with the same bytes by every process (valgrind's too).
FOLDER = Path(tempfile.gettempdir()) / "onion-bench-static"
FILE = "site.css"
SIZE = 10 * 1024
MAX_AGE = 60

#: Request name -> (path, expected status, expected body or None for the file's bytes).
REQUESTS: dict[str, tuple[str, str, bytes | None]] = {
    "hit": (f"/static/{FILE}", "200 OK", None),
    "miss": ("/", "200 OK", b"Hello, World!"),
    "miss_mount": ("/static/missing.css", "404 Not Found", b"Not Found"),
}


def content() -> bytes:
    """The 10 KB stylesheet: the same bytes in every process."""
    rng = random.Random(10)
    rules = []
    while sum(map(len, rules)) < SIZE:
        rules.append(f".c{rng.randrange(10**6)} {{ color: #{rng.randrange(16**6):06x}; }}\n")
    return "".join(rules).encode()[:SIZE]


def folder() -> Path:
    """``FOLDER`` holding ``site.css`` (written only when missing or different)."""
    data = content()
    path = FOLDER / FILE
    if not path.exists() or path.read_bytes() != data:
        FOLDER.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return FOLDER


def ours(app: Any, root: Path) -> Any:
    """StaticFiles, as API.md shows it."""
    from middleware.static import StaticFiles

    return StaticFiles(app, mounts={"/static": str(root)}, max_age=MAX_AGE)


def whitenoise(app: Any, root: Path) -> Any:
    """WhiteNoise as its documentation shows it for a WSGI app, indexed at start-up."""
    from whitenoise import WhiteNoise

    return WhiteNoise(app, root=str(root), prefix="static/", max_age=MAX_AGE, autorefresh=False)


def werkzeug(app: Any, root: Path) -> Any:
    """Werkzeug's SharedDataMiddleware (it checks the disk on every request)."""
    from werkzeug.middleware.shared_data import SharedDataMiddleware

    return SharedDataMiddleware(app, {"/static": str(root)}, cache_timeout=MAX_AGE)


#: Contender name -> builder around an inner app; ours first (the ratios' base).
CONTENDERS: dict[str, Callable[[Any, Path], Any]] = {
    "StaticFiles": ours, "WhiteNoise": whitenoise, "SharedData": werkzeug}


def environ_for(request: str, file_wrapper: bool) -> dict:
    """bench/worker.py's environ for one of ``REQUESTS`` (with wsgiref's FileWrapper if asked)."""
    environ = base_environ("GET", REQUESTS[request][0])
    if file_wrapper:
        environ["wsgi.file_wrapper"] = FileWrapper
    return environ


def checked(name: str, request: str, file_wrapper: bool) -> tuple[Any, dict]:
    """*name*'s app and the environ for *request*, after one call shows the right answer."""
    app = CONTENDERS[name](raw.hello(), folder())
    environ = environ_for(request, file_wrapper)
    _, status, body = REQUESTS[request]
    expected = content() if body is None else body
    seen: list[Any] = []
    answer = app(environ.copy(), lambda s, h, exc_info=None: seen.append(s))
    try:
        data = b"".join(answer)
    finally:
        if hasattr(answer, "close"):
            answer.close()
    if seen != [status] or data != expected:
        sys.exit(f"{name} {request}: expected {status} with {len(expected)} bytes, "
                 f"got {seen} with {len(data)} bytes")
    return app, environ


def inner(name: str, request: str, file_wrapper: bool, calls: int) -> None:
    """Answer *calls* requests (run under valgrind)."""
    app, environ = checked(name, request, file_wrapper)
    run_batch(app, environ, calls)


def instructions(names: list[str], requests: list[str], file_wrapper: bool, warm: int,
                 calls: int) -> dict[tuple[str, str], float]:
    """Instructions per request of each (contender, request), counted by valgrind."""
    counts = {}
    for request in requests:
        for name in names:
            args = ("--inner", name, request, "1" if file_wrapper else "0")
            total = callgrind(__file__, *args, str(warm + calls))
            counts[name, request] = (total - callgrind(__file__, *args, str(warm))) / calls
            print(f"  counted {name} {request}: {counts[name, request]:,.0f}", file=sys.stderr, flush=True)
    return counts


def microseconds(names: list[str], requests: list[str], file_wrapper: bool, batch: int,
                 repeat: int) -> dict[tuple[str, str], float]:
    """Median µs per request of each (contender, request), batches interleaved."""
    result = {}
    for request in requests:
        cases = {name: checked(name, request, file_wrapper) for name in names}
        sizes = {name: batch or calibrate(*case) for name, case in cases.items()}
        runs: dict[str, list[float]] = {name: [] for name in names}
        for _ in range(repeat):
            for name, (app, environ) in cases.items():
                runs[name].append(timed(app, environ, sizes[name]) / sizes[name] / 1000)
        for name in names:
            result[name, request] = statistics.median(runs[name])
    return result


def table(names: list[str], requests: list[str], counts: dict, times: dict) -> None:
    """Print one row per (request, contender): instructions and µs, each with its ratio to ours."""
    base = names[0]
    print(f"{'request':<12}{'contender':<13}{'instructions':>13}{'ratio':>8}{'µs':>10}{'ratio':>8}")
    for request in requests:
        for name in names:
            cells = f"{request:<12}{name:<13}"
            if counts:
                value = counts[name, request]
                cells += f"{value:>13,.0f}{value / counts[base, request]:>7.2f}x"
            else:
                cells += f"{'-':>13}{'':>8}"
            value = times[name, request]
            cells += f"{value:>10.2f}{value / times[base, request]:>7.2f}x"
            print(cells)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--requests", default=",".join(REQUESTS))
    parser.add_argument("--file-wrapper", action="store_true",
                        help="put wsgiref.util.FileWrapper in every environ")
    parser.add_argument("--no-instructions", action="store_true", help="µs only, no valgrind")
    parser.add_argument("--warm", type=int, default=200, help="calls before counting")
    parser.add_argument("--calls", type=int, default=1000, help="calls counted")
    parser.add_argument("--repeat", type=int, default=7, help="µs: batches per figure")
    parser.add_argument("--batch", type=int, default=0, help="µs: calls per batch (0: ~100 ms)")
    parser.add_argument("--inner", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(args.inner[0], args.inner[1], args.inner[2] == "1", int(args.inner[3]))
        return 0
    names, requests = args.contenders.split(","), args.requests.split(",")
    if unknown := [n for n in names if n not in CONTENDERS] + [r for r in requests if r not in REQUESTS]:
        parser.error(f"unknown contenders or requests: {', '.join(unknown)}")
    counting = not args.no_instructions
    if counting and shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    counts = instructions(names, requests, args.file_wrapper, args.warm, args.calls) if counting else {}
    times = microseconds(names, requests, args.file_wrapper, args.batch, args.repeat)
    wrapper = "wsgiref's FileWrapper in the environ" if args.file_wrapper else "no wsgi.file_wrapper"
    print(f"Python {sys.version.split()[0]}; a {SIZE // 1024} KB file, {wrapper}; instructions per "
          f"request ({args.calls} calls after {args.warm}, valgrind), µs median of {args.repeat} "
          f"batches; ratio = contender / {names[0]}")
    table(names, requests, counts, times)
    if not counting or "WhiteNoise" not in names or names[0] != "StaticFiles":
        return 0
    slower = [r for r in ("hit", "miss") if r in requests
              and counts["StaticFiles", r] > counts["WhiteNoise", r]]
    for request in slower:
        print(f"StaticFiles is NOT at least as fast as WhiteNoise on {request}")
    return 1 if slower else 0


if __name__ == "__main__":
    sys.exit(main())
