"""Start a real server process on a free port, wait until it answers, stop it by PID."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `examples` is a namespace package at the repository root
    sys.path.insert(0, str(ROOT))


def require(*modules: str) -> None:
    """Skip the calling test module when a test-only dependency is missing; fail on CI."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if not missing:
        return
    reason = f"needs {', '.join(missing)} (test-only dependencies): pip install {' '.join(missing)}"
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``python -m <module> ...`` run from the repository root; ``{port}`` in *args is filled in."""

    def __init__(self, module: str, *args: str, timeout: float = 20.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", module, *(arg.format(port=self.port) for arg in args)]
        # a file, not a pipe: a server that logs every request would fill a pipe and block
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_until_up(timeout)

    def wait_until_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2):
                    return
            except urllib.error.HTTPError as error:  # it answered, if not with a 200
                error.close()
                return
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    output = self.stop()
                    raise AssertionError(f"no answer within {timeout} s:\n{output}") from None
                time.sleep(0.1)

    def stop(self) -> str:
        """SIGTERM to the PID, SIGKILL if it is still running 10 s later; returns its output."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.log.closed:
            return ""
        self.log.seek(0)
        output = self.log.read().decode("utf-8", "replace")
        self.log.close()
        return output
