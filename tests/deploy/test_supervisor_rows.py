"""Matrix row 11: gunicorn under supervisord, its master killed with SIGKILL mid-run.

A client sends a request every 30 ms throughout. supervisord must start a new master
(new PID, RUNNING), and once it has (the new master answers and every process of the
killed one is gone) no request may fail. Requests sent while nothing listened may
fail: they are counted and printed (``pytest -s``), not asserted.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from harness import PYTHON, ROOT, Process, free_port, probe, render, require_module, require_program


@dataclass
class Sent:
    """One request of the background client."""

    sent: float
    done: float
    ok: bool
    detail: str


def get(port: int) -> tuple[bool, str]:
    """``GET /echo?n=1``: whether the app answered it correctly, and what came back."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/echo?n=1")
        response = connection.getresponse()
        body = response.read()
        ok = response.status == 200 and json.loads(body) == {"method": "GET", "args": {"n": ["1"]}}
        return ok, f"{response.status} {body[:80]!r}"
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return False, repr(exc)
    finally:
        connection.close()


class Client(threading.Thread):
    """Requests every 30 ms until stopped (20 s at most), each recorded with its times."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.results: list[Sent] = []
        self.halt = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + 20
        while not self.halt.is_set() and time.monotonic() < deadline:
            sent = time.monotonic()
            ok, detail = get(self.port)
            self.results.append(Sent(sent, time.monotonic(), ok, detail))
            self.halt.wait(0.03)

    def stop(self) -> list[Sent]:
        self.halt.set()
        self.join(timeout=10)
        return self.results


def alive(pid: int) -> bool:
    """Whether *pid* runs (a zombie waiting for its parent to reap it does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def children(pid: int) -> set[int]:
    """The PIDs whose parent is *pid*."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def is_gunicorn(pid: int) -> bool:
    try:
        return b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def wait(what: str, condition, timeout: float, log) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s\n{log()}"
        time.sleep(0.05)


def test_row11_gunicorn_killed_under_supervisord(tmp_path):
    require_module("gunicorn")
    require_module("supervisor")
    supervisord = require_program("supervisord", "pip install supervisor")
    supervisorctl = require_program("supervisorctl", "pip install supervisor")
    port = free_port()
    conf = render("supervisord.conf", {"/srv/onion-wsgi/.venv/bin/python": PYTHON,
                                       "/srv/onion-wsgi": str(ROOT),
                                       "127.0.0.1:8000": f"127.0.0.1:{port}"}, tmp_path)

    def ctl(*args: str) -> str:
        done = subprocess.run([supervisorctl, "-c", str(conf), *args], capture_output=True, text=True,
                              timeout=15)
        return done.stdout.strip()

    def pid() -> int:
        answer = ctl("pid", "onion")
        return int(answer) if answer.isdigit() else 0

    def log() -> str:
        return "\n".join(path.read_text(errors="replace")[-4000:] for path in
                         (tmp_path / "supervisord.log", tmp_path / "onion.log") if path.exists())

    seen: set[int] = set()  # every gunicorn PID, to kill whatever outlives supervisord
    server = Process([supervisord, "-c", conf], wait_for=("127.0.0.1", port))
    client = None
    try:
        wait("supervisord reports onion RUNNING", lambda: "RUNNING" in ctl("status", "onion"), 15, log)
        old = pid()
        wait("two gunicorn workers", lambda: len(children(old)) == 2, 15, log)
        old_all = {old, *children(old)}
        seen |= old_all

        client = Client(port)
        client.start()
        time.sleep(1)
        killed = time.monotonic()
        os.kill(old, signal.SIGKILL)

        def restarted() -> bool:
            new = pid()
            return (new not in (0, old) and "RUNNING" in ctl("status", "onion")
                    and not any(alive(p) for p in old_all) and get(port)[0])

        wait("supervisord restarts the killed gunicorn", restarted, 15, log)
        restarted_at = time.monotonic()
        new = pid()
        seen |= {new, *children(new)}
        time.sleep(2)
        results = client.stop()

        before = [r for r in results if r.sent < killed]
        down = [r for r in results if killed <= r.sent < restarted_at]
        after = [r for r in results if r.sent >= restarted_at]
        failed_down = [r for r in down if not r.ok]
        print(f"\nrow 11: {len(results)} requests; killed at +{killed - results[0].sent:.2f} s, "
              f"restarted {restarted_at - killed:.2f} s later; {len(failed_down)} of the {len(down)} "
              f"sent meanwhile failed: {sorted({r.detail for r in failed_down})}")
        assert before and all(r.ok for r in before), [r for r in before if not r.ok]
        assert len(after) >= 20, f"only {len(after)} requests after the restart"
        assert all(r.ok for r in after), [r for r in after if not r.ok]

        probe(f"http://127.0.0.1:{port}", file_wrapper=True)

        # supervisorctl restart: a graceful stop of the whole group (stopasgroup), then a start.
        workers = children(new)
        seen |= workers
        assert "onion: started" in ctl("restart", "onion"), log()
        assert not any(alive(p) for p in {new, *workers}), "a gunicorn process outlived the restart"
        newer = pid()
        assert newer not in (0, new) and "RUNNING" in ctl("status", "onion"), log()
        seen.add(newer)
        assert get(port)[0], log()
    finally:
        if client is not None:
            client.stop()
        seen |= {child for p in seen for child in children(p)}
        server.stop()
        for leftover in seen:  # by PID, and only if it is still one of ours
            if alive(leftover) and is_gunicorn(leftover):
                os.kill(leftover, signal.SIGKILL)
