"""Benchmark onion-wsgi's ``framework`` against raw WSGI, Flask, Bottle, Falcon and Pyramid.

Run from the repository root, with the peers installed (``pip install -e '.[bench]'``)::

    python bench/run.py                                     # everything, about a minute
    python bench/run.py --scenarios hello,routes200 --frameworks framework,flask
    python bench/run.py --batch 5000 --repeat 9 --json bench.json
    python bench/run.py --profile framework routes200       # cProfile, top 25 cumulative

First every framework answers each scenario once and the answers are compared: same
status, same media type, equivalent body (JSON as parsed values, HTML with whitespace
removed, 404 bodies not compared). A mismatch is printed and the run exits with status 1.
Then each (framework, scenario) is timed in its own subprocess (bench/worker.py), through
the same in-process WSGI harness: ``--repeat`` batches of ``--batch`` calls (default: as
many as last ~100 ms). Printed: µs/request, median and min of the batches, and each
framework's median relative to ours (2.00x: twice as slow as ``framework``).
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
from pathlib import Path

from scenarios import FRAMEWORKS, OURS, SCENARIOS

WORKER = str(Path(__file__).resolve().parent / "worker.py")
FLAT_TARGET = 1.3  # routes200 (last dynamic rule) within 1.3x of routes200_first


def worker(framework: str, scenarios: str, *options: str) -> dict:
    argv = [sys.executable, WORKER, framework, scenarios, *options]
    proc = subprocess.run(argv, capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode or not lines:
        return {"error": f"worker exited with {proc.returncode}", "trace": proc.stderr}
    return json.loads(lines[-1])


def normal(scenario: str, text: str):
    """A body as compared: parsed JSON, HTML without whitespace, stripped text."""
    kind = SCENARIOS[scenario].compare
    if kind == "json":
        try:
            return json.loads(text)
        except ValueError:
            return f"<not JSON> {text!r}"
    return re.sub(r"\s+", "", text) if kind == "html" else text.strip()


def problems(scenario: str, answers: dict[str, dict]) -> list[str]:
    """What differs between the frameworks' answers to one scenario."""
    spec, found = SCENARIOS[scenario], []
    reference = spec.expect
    for name, answer in answers.items():
        status = int(answer["status"].split()[0])
        media = answer["content_type"].split(";")[0].strip().lower()
        if status != spec.status:
            found.append(f"{name}: status {answer['status']!r}, expected {spec.status}")
        if spec.media_type and media != spec.media_type:
            found.append(f"{name}: Content-Type {answer['content_type']!r}, "
                         f"expected {spec.media_type}")
        if spec.compare == "status":
            continue
        body = normal(scenario, answer["body"])
        if reference is None:
            reference, first = body, name
            continue
        if body != reference:
            source = "the expected body" if spec.expect is not None else f"{first}'s body"
            found.append(f"{name}: body {answer['body'][:300]!r}\n    differs from {source}: "
                         f"{str(reference)[:300]!r}")
    return found


def check_all(frameworks: list[str], scenarios: list[str]) -> tuple[dict, list[str], list]:
    """Call every app once; return versions, usable frameworks and the failed pairs."""
    answers: dict[str, dict[str, dict]] = {name: {} for name in scenarios}
    versions, usable, failed = {}, [], []
    for framework in frameworks:
        result = worker(framework, ",".join(scenarios), "--check")
        if "missing" in result:
            print(f"{framework}: not installed (pip install 'onion-wsgi[bench]')")
            continue
        if "error" in result:
            print(f"{framework}: ERROR {result['error']}\n{result.get('trace', '')}")
            failed.extend((framework, name) for name in scenarios)
            continue
        versions[framework] = result["version"]
        usable.append(framework)
        for name, answer in result["answers"].items():
            if "error" in answer:
                print(f"{framework} {name}: ERROR {answer['error']}\n{answer['trace']}")
                failed.append((framework, name))
            elif "skipped" not in answer:
                answers[name][framework] = answer
    for name in scenarios:
        for line in problems(name, answers[name]):
            print(f"MISMATCH {name}: {line}")
            failed.append((line.split(":")[0], name))
    return versions, usable, failed


def table(scenario: str, results: dict[str, dict]) -> None:
    spec = SCENARIOS[scenario]
    ours = results.get(OURS, {}).get("median_us")
    print(f"\n{scenario}: {spec.method} {spec.path} -> {spec.status} {spec.media_type or ''}")
    print(f"  {'app':<11}{'median µs':>11}{'min µs':>10}{'vs ours':>10}{'batch':>9}")
    for name, result in results.items():
        if "median_us" not in result:
            print(f"  {name:<11}  {result.get('error') or result.get('skipped')}")
            continue
        ratio = f"{result['median_us'] / ours:.2f}x" if ours else "-"
        print(f"  {name:<11}{result['median_us']:>11.2f}{result['min_us']:>10.2f}"
              f"{ratio:>10}{result['batch']:>9}")


def flat_routing(timings: dict[str, dict[str, dict]]) -> None:
    last, first = timings.get("routes200", {}), timings.get("routes200_first", {})
    print("\nflat routing: routes200 (last dynamic rule) / routes200_first (first one)")
    print(f"  {'app':<11}{'median':>8}{'min':>8}")
    for name in last:
        if "median_us" in last[name] and "median_us" in first.get(name, {}):
            median = last[name]["median_us"] / first[name]["median_us"]
            least = last[name]["min_us"] / first[name]["min_us"]
            verdict = ""
            if name == OURS:
                verdict = "  OK" if median <= FLAT_TARGET else f"  ABOVE the {FLAT_TARGET}x target"
            print(f"  {name:<11}{median:>7.2f}x{least:>7.2f}x{verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"comma-separated, of {', '.join(SCENARIOS)}")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS),
                        help=f"comma-separated, of {', '.join(FRAMEWORKS)}")
    parser.add_argument("--batch", type=int, default=0, help="calls per batch (0: ~100 ms)")
    parser.add_argument("--repeat", type=int, default=7, help="batches per measurement")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--keep-going", action="store_true",
                        help="after a mismatch, still time the pairs that answered right")
    parser.add_argument("--profile", nargs=2, metavar=("FRAMEWORK", "SCENARIO"),
                        help="profile one batch of one pair with cProfile and stop")
    args = parser.parse_args()
    scenarios, frameworks = args.scenarios.split(","), args.frameworks.split(",")
    unknown = (set(scenarios) - set(SCENARIOS)) | (set(frameworks) - set(FRAMEWORKS))
    if unknown:
        parser.error(f"unknown scenario or framework: {', '.join(sorted(unknown))}")
    if args.profile:
        argv = [sys.executable, WORKER, *args.profile, "--profile", "--batch", str(args.batch)]
        return subprocess.run(argv).returncode

    versions, usable, failed = check_all(frameworks, scenarios)
    if failed and not args.keep_going:
        print("\nAnswers differ: nothing timed (--keep-going times the rest).")
        return 1
    print(f"Python {platform.python_version()}; "
          + ", ".join(f"{name} {versions[name]}" for name in usable))
    options = ["--batch", str(args.batch), "--repeat", str(args.repeat)]
    # Framework by framework, so that one framework's scenarios (routes200 and
    # routes200_first above all) are timed close together, under the same machine load.
    timings: dict[str, dict[str, dict]] = {scenario: {} for scenario in scenarios}
    for name in usable:
        print(f"timing {name}:", end="", file=sys.stderr, flush=True)
        for scenario in scenarios:
            if (name, scenario) not in failed:
                print(f" {scenario}", end="", file=sys.stderr, flush=True)
                timings[scenario][name] = worker(name, scenario, *options)
        print(file=sys.stderr)
    for scenario in scenarios:
        table(scenario, timings[scenario])
    if "routes200" in timings and "routes200_first" in timings:
        flat_routing(timings)
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"python": platform.python_version(), "versions": versions, "failed": failed,
             "results": timings}, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
