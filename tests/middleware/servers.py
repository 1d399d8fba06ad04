"""Servers for the middleware tests: ``python -m <module>`` from the repository root."""

from __future__ import annotations

import importlib.util
import sys

from support import ROOT, Process, free_port, missing

if str(ROOT) not in sys.path:  # `examples` is a namespace package at the repository root
    sys.path.insert(0, str(ROOT))


def require(*modules: str) -> None:
    """Skip the calling test module when a test-only dependency is missing; fail on CI."""
    absent = [name for name in modules if importlib.util.find_spec(name) is None]
    if absent:
        missing(f"needs {', '.join(absent)} (test-only dependencies): pip install {' '.join(absent)}")


class Server(Process):
    """``python -m <module> ...`` on a free port; ``{port}`` in *args is filled in."""

    def __init__(self, module: str, *args: str, timeout: float = 20.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__([sys.executable, "-m", module, *(arg.format(port=self.port) for arg in args)],
                         cwd=ROOT, wait_for=("127.0.0.1", self.port), timeout=timeout)
