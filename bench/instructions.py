"""Instructions per request, counted by valgrind: a comparison that machine noise cannot move.

Wall-clock timings on a shared 2-core machine move by 2x from one minute to the next;
the number of instructions a request executes does not. For each (framework,
scenario) this runs the same in-process harness as ``worker.py`` twice under
``valgrind --tool=callgrind``: once with ``--warm`` calls, once with ``--warm`` plus
``--calls`` calls. The difference divided by ``--calls`` is the cost of one request,
start-up and warm-up excluded::

    python bench/instructions.py                                   # the default scenarios
    python bench/instructions.py --frameworks framework,falcon --scenarios hello,query_form

Needs ``valgrind`` (Debian's package). Instructions are not time (a cache miss costs
more than an add), but between two Python programs doing the same work they track it
closely, and they repeat to the instruction.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SCENARIOS = ("hello,param_json,routes200,routes200_404,hello_response,routes200_response,"
                     "query_form")
COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def inner(framework: str, scenario: str, calls: int) -> None:
    """Build the app and answer *calls* requests (run under valgrind)."""
    sys.path.insert(0, str(HERE))
    import worker

    builders, failure = worker.load(framework)
    if failure or scenario not in builders:
        sys.exit(f"{framework} cannot run {scenario}: {failure or 'no builder'}")
    app = builders[scenario]()
    worker.run_batch(app, worker.scenario_environ(scenario), calls)


def callgrind(script: str, *args: str) -> int:
    """Instructions of a whole process ``python script args...``, counted by valgrind.

    The bench scripts call themselves with an ``--inner`` mode that answers N requests;
    ``bench/auth.py`` and ``bench/sessions.py`` use this too.
    """
    argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, script, *args]
    # A fixed hash seed: dict and set layouts (and so the counts) repeat from run to run.
    done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    found = COLLECTED.search(done.stderr)
    if done.returncode or not found:
        raise RuntimeError(f"{' '.join(args)}: valgrind failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def count(framework: str, scenario: str, calls: int) -> int:
    """Instructions of a whole process answering *calls* requests."""
    return callgrind(__file__, "--inner", framework, scenario, str(calls))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frameworks", default="framework,falcon")
    parser.add_argument("--scenarios", default=DEFAULT_SCENARIOS)
    parser.add_argument("--warm", type=int, default=200, help="calls before counting")
    parser.add_argument("--calls", type=int, default=1000, help="calls counted")
    parser.add_argument("--inner", nargs=3, metavar=("FRAMEWORK", "SCENARIO", "CALLS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(args.inner[0], args.inner[1], int(args.inner[2]))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    frameworks = args.frameworks.split(",")
    print(f"instructions per request (thousands), {args.calls} calls after {args.warm}; "
          f"ratio = framework / {frameworks[0]}")
    for scenario in args.scenarios.split(","):
        row = {}
        for framework in frameworks:
            try:
                total = count(framework, scenario, args.warm + args.calls)
                row[framework] = (total - count(framework, scenario, args.warm)) / args.calls
            except RuntimeError as error:
                print(error, file=sys.stderr)
        ours = row.get(frameworks[0])
        cells = [f"{name} {value / 1000:8.1f}k" + (f" {value / ours:5.2f}x" if ours else "")
                 for name, value in row.items()]
        print(f"{scenario:20} " + "   ".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
