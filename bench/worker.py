"""Build one framework's app for a scenario, call it once, time it; print JSON on stdout.

Started by run.py, one subprocess per (framework, scenario)::

    python bench/worker.py FRAMEWORK SCENARIO [--batch N] [--repeat R] [--profile]
    python bench/worker.py FRAMEWORK SCENARIO,SCENARIO,... --check

Every framework goes through the same harness: a fresh copy of one server-like environ
per call, a trivial start_response, the body joined and closed, gc off during a batch.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import importlib
import io
import json
import pstats
import statistics
import sys
import time
import traceback
from importlib import metadata
from pathlib import Path

from scenarios import FRAMEWORKS, SCENARIOS

ROOT = Path(__file__).resolve().parent.parent
TARGET_NS = 100_000_000  # an automatic batch lasts about 100 ms


def base_environ(method: str, path: str, query: str = "", body: bytes = b"",
                 content_type: str | None = None) -> dict:
    """The environ a WSGI server builds for ``method path?query`` (no Accept header).

    A request with a body also gets ``CONTENT_TYPE`` and ``CONTENT_LENGTH``; each call
    gives ``wsgi.input`` a fresh stream over the body (see :func:`run_batch`).
    """
    environ = {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if body or content_type:
        environ["CONTENT_TYPE"] = content_type or "application/octet-stream"
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


def scenario_environ(scenario: str) -> dict:
    """:func:`base_environ` for one of ``SCENARIOS``."""
    spec = SCENARIOS[scenario]
    return base_environ(spec.method, spec.path, spec.query, spec.body, spec.content_type)


def _write(data):
    pass


def _start_response(status, headers, exc_info=None):
    return _write


def call_once(app, base: dict) -> dict:
    """One request, answered as status, Content-Type and body text."""
    seen = []

    def start_response(status, headers, exc_info=None):
        seen[:] = [status, headers]
        return _write

    environ = base.copy()
    environ["wsgi.input"] = io.BytesIO(base["wsgi.input"].getvalue())
    body = app(environ, start_response)
    try:
        data = b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()
    status, headers = seen
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    return {"status": status, "content_type": content_type,
            "body": data.decode("utf-8", "replace")}


def run_batch(app, base: dict, n: int) -> int:
    """Nanoseconds for ``n`` calls; the loop is the same for every framework."""
    copy, new_input, join, start_response = base.copy, io.BytesIO, b"".join, _start_response
    data = base["wsgi.input"].getvalue()  # b"" for a request without a body
    started = time.perf_counter_ns()
    for _ in range(n):
        environ = copy()
        environ["wsgi.input"] = new_input(data)
        body = app(environ, start_response)
        join(body)
        if hasattr(body, "close"):
            body.close()
    return time.perf_counter_ns() - started


def timed(app, base: dict, n: int) -> int:
    """One batch with the collector off, as timeit does."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        return run_batch(app, base, n)
    finally:
        if enabled:
            gc.enable()


def calibrate(app, base: dict) -> int:
    """A batch size lasting about TARGET_NS; the trial batches double as warm-up."""
    n = 10
    while True:
        elapsed = timed(app, base, n)
        if elapsed >= TARGET_NS // 5:
            return max(1, round(n * TARGET_NS / elapsed))
        n *= 10 if elapsed < TARGET_NS // 100 else 2


def load(framework: str):
    """The framework's BUILDERS, or an error dict saying why not."""
    module, package = FRAMEWORKS[framework]
    sys.path.insert(0, str(ROOT))  # this checkout's framework, not an installed copy
    try:
        return importlib.import_module(f"apps.{module}").BUILDERS, None
    except ModuleNotFoundError as exc:
        if package and (exc.name or "").split(".")[0] == package:
            return None, {"missing": package}
        return None, {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
    except Exception as exc:
        return None, {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}


def version(framework: str) -> str:
    package = FRAMEWORKS[framework][1]
    if package is None:
        return "-"
    with contextlib.suppress(metadata.PackageNotFoundError):
        return metadata.version("onion-wsgi" if package == "framework" else package)
    return "checkout"


def check(builders, scenario: str) -> dict:
    if scenario not in builders:
        return {"skipped": "no builder"}
    try:
        app = builders[scenario]()
        return call_once(app, scenario_environ(scenario))
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}


def bench(builders, scenario: str, batch: int, repeat: int) -> dict:
    if scenario not in builders:
        return {"skipped": "no builder"}
    base = scenario_environ(scenario)
    app = builders[scenario]()
    answer = call_once(app, base)
    batch = batch or calibrate(app, base)
    runs = [timed(app, base, batch) / batch / 1000 for _ in range(repeat)]
    return {"check": answer, "batch": batch, "repeat": repeat, "runs_us": runs,
            "median_us": statistics.median(runs), "min_us": min(runs)}


def profile(builders, scenario: str, batch: int) -> None:
    base = scenario_environ(scenario)
    app = builders[scenario]()
    print("check:", call_once(app, base))
    profile_batch(app, base, batch, "cumulative", 25)


def profile_batch(app, base: dict, batch: int, sort: str, lines: int) -> None:
    """Run one batch under cProfile and print the top *lines* by *sort*."""
    batch = batch or calibrate(app, base)
    profiler = cProfile.Profile()
    profiler.enable()
    elapsed = run_batch(app, base, batch)
    profiler.disable()
    print(f"{batch} calls, {elapsed / batch / 1000:.2f} µs/request under cProfile\n")
    pstats.Stats(profiler).sort_stats(sort).print_stats(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework", choices=FRAMEWORKS)
    parser.add_argument("scenarios", help="one scenario, or several with --check")
    parser.add_argument("--batch", type=int, default=0, help="calls per batch (0: ~100 ms)")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--check", action="store_true", help="only call each scenario once")
    parser.add_argument("--profile", action="store_true", help="cProfile one batch")
    args = parser.parse_args()
    scenarios = args.scenarios.split(",")
    out, sys.stdout = sys.stdout, sys.stderr  # apps may print; stdout carries only the JSON
    builders, failure = load(args.framework)
    result: dict = {"framework": args.framework, "version": version(args.framework)}
    if failure:
        result.update(failure)
    elif args.profile:
        sys.stdout = out
        profile(builders, scenarios[0], args.batch)
        return 0
    elif args.check:
        result["answers"] = {name: check(builders, name) for name in scenarios}
    else:
        try:
            result.update(bench(builders, scenarios[0], args.batch, args.repeat))
        except Exception as exc:
            result.update(error=f"{type(exc).__name__}: {exc}", trace=traceback.format_exc())
    out.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
