"""Matrix rows 3 and 4: gunicorn (sync, gthread, gevent workers), alone and behind nginx.

gunicorn runs ``examples/deploy/gunicorn.conf.py`` as is (the port comes from its
``GUNICORN_BIND`` variable, the worker class from gunicorn's own flags); nginx runs
``examples/deploy/nginx.conf`` with only its ports and prefix replaced.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from harness import DEPLOY, PYTHON, Process, free_port, probe, require_module, start_nginx

CONF = DEPLOY / "gunicorn.conf.py"
TARGET = "examples.deploy.wsgi:application"


def gunicorn(port: int, *flags: str, home: Path) -> Process:
    """gunicorn with the example config, two workers, behind one trusted proxy."""
    require_module("gunicorn")
    env = {"GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2", "TRUSTED_PROXIES": "1",
           "GUNICORN_ACCESSLOG": "", "XDG_RUNTIME_DIR": str(home)}
    server = Process([PYTHON, "-m", "gunicorn", "-c", CONF, *flags, TARGET], env=env,
                     wait_for=("127.0.0.1", port))
    # Both workers must have booted (the config logs "Worker ready"): a gevent worker that is
    # still monkey-patching loses the SIGTERM that stops it, and is killed 30 s later.
    deadline = time.monotonic() + 30
    while server.output().count("Worker ready") < 2:
        if server.process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"gunicorn's workers did not boot:\n{server.stop()}")
        time.sleep(0.02)
    return server


WORKERS = {
    "sync": ("-k", "sync"),
    "gthread": ("-k", "gthread", "--threads", "4"),
}


@pytest.fixture(scope="module", params=list(WORKERS))
def gunicorn_port(request, tmp_path_factory):
    """A gunicorn with each worker class, shared by the direct and the nginx tests."""
    port = free_port()
    server = gunicorn(port, *WORKERS[request.param], home=tmp_path_factory.mktemp("run"))
    yield port
    output = server.stop()
    assert "Traceback" not in output, output


def test_row03_gunicorn(gunicorn_port):
    probe(f"http://127.0.0.1:{gunicorn_port}", file_wrapper=True)


def test_row03_gunicorn_behind_nginx(gunicorn_port):
    # Started as root, nginx's workers run as nobody (the file sets no user): a directory in
    # /tmp they can reach, not pytest's private tmp_path.
    directory = Path(tempfile.mkdtemp(prefix="nginx-"))
    server, port = start_nginx("nginx.conf", {"127.0.0.1:8000": f"127.0.0.1:{gunicorn_port}"}, directory,
                               listen=("127.0.0.1:8080", "127.0.0.1:{port}"))
    try:
        probe(f"http://127.0.0.1:{port}", file_wrapper=True)
        probe(f"http://127.0.0.1:{port}/app", file_wrapper=True, external=f"http://127.0.0.1:{port}")
    except AssertionError as error:
        raise AssertionError(f"{error}\nnginx error log:\n{server.output()}") from None
    finally:
        server.stop()
        shutil.rmtree(directory)


def test_row03_cli_adapter_gunicorn(tmp_path):
    require_module("gunicorn")
    port = free_port()
    server = Process([PYTHON, "-m", "framework", "run", TARGET, "--server", "gunicorn",
                      "--workers", "2", "--threads", "2", "--port", str(port)],
                     env={"XDG_RUNTIME_DIR": str(tmp_path)}, wait_for=("127.0.0.1", port))
    try:
        probe(f"http://127.0.0.1:{port}", file_wrapper=True)
    finally:
        output = server.stop()
    assert "gthread" in output and "Traceback" not in output, output


def test_row04_gunicorn_gevent(tmp_path):
    require_module("gevent")
    port = free_port()
    server = gunicorn(port, "-k", "gevent", "--worker-connections", "100", home=tmp_path)
    try:
        probe(f"http://127.0.0.1:{port}", file_wrapper=True)
    finally:
        output = server.stop()
    assert "gevent" in output and "Traceback" not in output, output


def test_row04_cli_adapter_gevent():
    require_module("gevent")
    port = free_port()
    server = Process([PYTHON, "-m", "framework", "run", TARGET, "--server", "gevent", "--port", str(port)],
                     wait_for=("127.0.0.1", port))
    try:
        probe(f"http://127.0.0.1:{port}", file_wrapper=False)  # gevent.pywsgi offers none
    finally:
        output = server.stop()
    assert "Traceback" not in output, output


def test_gunicorn_conf_defaults():
    """Without the environment, the config file says what its comments say."""
    namespace: dict[str, object] = {}
    saved = {key: os.environ.pop(key) for key in ("GUNICORN_BIND", "WEB_CONCURRENCY", "GUNICORN_THREADS",
                                                  "GUNICORN_WORKER_CLASS") if key in os.environ}
    try:
        exec(compile(CONF.read_text(), str(CONF), "exec"), namespace)
    finally:
        os.environ.update(saved)
    assert namespace["bind"] == "127.0.0.1:8000"
    assert namespace["workers"] == 2 * (os.cpu_count() or 1) + 1
    assert (namespace["worker_class"], namespace["threads"]) == ("sync", 1)
