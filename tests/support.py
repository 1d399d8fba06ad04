"""Helpers the test suites share: free ports, real server processes, missing tools.

``tests/conftest.py`` puts this folder on ``sys.path``, so any test imports them with
``from support import Process, free_port``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def missing(reason: str) -> None:
    """A tool the test needs is missing: fail in CI, skip on a developer's machine.

    Works inside a test and at a test module's top level.
    """
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must install it: see .ci/run)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def require_module(name: str, install: str | None = None) -> None:
    """Skip (or fail in CI) unless the Python module *name* is importable."""
    if importlib.util.find_spec(name) is None:
        missing(f"needs the Python package {name}: pip install {install or name}")


def require_program(name: str, install: str) -> str:
    """The path of the program *name*; skip (or fail in CI) when it is not installed."""
    path = shutil.which(name) or next(
        (str(Path(d) / name) for d in ("/usr/sbin", "/sbin") if (Path(d) / name).exists()), None)
    if path is None:
        missing(f"needs {name}: {install}")
    return str(path)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    """A server process in its own process group, logging to a file; stopped by PID.

    :param argv: The command.
    :param wait_for: ``(host, port)`` to wait for until it accepts connections (or
        a Unix socket path), or ``None`` not to wait.
    """

    def __init__(self, argv: Sequence[str | os.PathLike[str]], *, cwd: Path | None = None,
                 env: Mapping[str, str] | None = None, wait_for: tuple[str, int] | str | None = None,
                 timeout: float = 30.0) -> None:
        self.argv = [str(arg) for arg in argv]
        self.log = tempfile.NamedTemporaryFile(prefix="server-", suffix=".log", delete=False)
        environ = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.process = subprocess.Popen(self.argv, cwd=cwd or ROOT, env=environ, stdout=self.log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        self.pid = self.process.pid
        if wait_for is not None:
            self.wait_for(wait_for, timeout)

    def wait_for(self, address: tuple[str, int] | str, timeout: float = 30.0) -> None:
        """Wait until *address* accepts a connection; fail with the log if it never does."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if isinstance(address, str):
                    with socket.socket(socket.AF_UNIX) as sock:
                        sock.connect(address)
                else:
                    socket.create_connection(address, timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    output = self.stop()
                    raise AssertionError(f"{self.argv[0]} did not listen on {address} "
                                         f"within {timeout} s:\n{output}") from None
                time.sleep(0.05)

    def output(self) -> str:
        """What the process has logged so far."""
        return Path(self.log.name).read_text(errors="replace")

    def stop_after(self, text: str, timeout: float = 10) -> str:
        """Wait until the log shows *text* (at most *timeout* s), then stop; returns the log."""
        try:
            deadline = time.monotonic() + timeout
            while text not in self.output() and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            output = self.stop()
        return output

    def stop(self) -> str:
        """SIGTERM to the process group, SIGKILL after 10 s; returns the log."""
        if self.process.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        try:  # children that left the group's leader behind
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        output = self.output()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)
        return output


class RedisServer(Process):
    """A throwaway ``redis-server`` on 127.0.0.1 that keeps nothing on disk; stopped by PID.

    :param port: The port (a free one when ``None``); give the old port to start it again.
    """

    def __init__(self, port: int | None = None) -> None:
        program = require_program("redis-server", "apt-get install redis-server")
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        super().__init__([program, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", tempfile.gettempdir()],
                         wait_for=("127.0.0.1", self.port), timeout=10)


class MemcachedServer(Process):
    """A throwaway ``memcached`` on 127.0.0.1 (TCP only); stopped by PID.

    :param port: The port (a free one when ``None``).
    """

    def __init__(self, port: int | None = None) -> None:
        program = require_program("memcached", "apt-get install memcached")
        self.port = port or free_port()
        self.url = f"memcached://127.0.0.1:{self.port}"
        user = ["-u", "root"] if os.geteuid() == 0 else []  # memcached refuses root without -u
        super().__init__([program, "-p", str(self.port), "-l", "127.0.0.1", "-U", "0", *user],
                         wait_for=("127.0.0.1", self.port), timeout=10)
