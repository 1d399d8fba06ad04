"""Start-up cost: ``import framework; App(__name__)`` against Falcon, Bottle and Flask.

Run from the repository root::

    python bench/startup.py               # 7 fresh processes per case, the median
    python bench/startup.py --runs 15

Each case runs in a fresh ``python`` process, several times. Printed per case, as
medians: the wall time of the whole process (interpreter start included, so the
``python -c pass`` floor is shown first), the time of the import and app creation
measured inside the child, its peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``
in the child, KiB on Linux) and whether ``jinja2`` is in ``sys.modules`` once the app
exists (it should be imported only on the first render or error page).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Case name -> the code that imports the framework and creates an app.
CASES: dict[str, str] = {
    "python -c pass": "pass",
    "framework": "import framework\napp = framework.App(__name__)",
    "falcon": "import falcon\napp = falcon.App()",
    "bottle": "import bottle\napp = bottle.Bottle()",
    "flask": "from flask import Flask\napp = Flask(__name__)",
}

# The child times its own work and reports it with its peak RSS as one JSON line.
CHILD = """\
import time
_started = time.perf_counter()
{code}
_elapsed = time.perf_counter() - _started
import json, resource, sys
print(json.dumps({{"inner_s": _elapsed, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "jinja2": "jinja2" in sys.modules}}))
"""


def run_once(code: str) -> dict | None:
    """One fresh process: wall time, inner time, peak RSS; ``None`` if it failed."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD.format(code=code)], capture_output=True,
                          text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    if proc.returncode:
        return None
    result: dict = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per case")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}; median of {args.runs} fresh processes per case\n")
    print(f"  {'case':<16}{'process ms':>11}{'import+app ms':>15}{'peak RSS MiB':>14}  jinja2 loaded")
    for name, code in CASES.items():
        runs = [run_once(code) for _ in range(args.runs)]
        if None in runs:
            print(f"  {name:<16}  failed (not installed?)")
            continue
        wall = statistics.median(run["wall_s"] for run in runs) * 1000
        inner = statistics.median(run["inner_s"] for run in runs) * 1000
        rss = statistics.median(run["maxrss_kib"] for run in runs) / 1024
        jinja = "yes" if any(run["jinja2"] for run in runs) else "no"
        print(f"  {name:<16}{wall:>11.1f}{inner:>15.1f}{rss:>14.1f}  {jinja}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
