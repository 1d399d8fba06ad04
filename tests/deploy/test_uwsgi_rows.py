"""Matrix row 5: uWSGI, over HTTP and over the uwsgi protocol behind nginx's ``uwsgi_pass``.

One uWSGI runs ``examples/deploy/uwsgi.ini`` (both its doors: ``http-socket`` and the
uwsgi ``socket``), one nginx runs ``examples/deploy/nginx-uwsgi.conf`` in front of it;
``python -m framework run ... --server uwsgi`` is checked on its own.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from harness import PYTHON, ROOT, Process, free_port, probe, render, require_program, start_nginx


def uwsgi_program() -> str:
    """The uwsgi installed next to this interpreter (pip), else the one on PATH."""
    beside = Path(PYTHON).parent / "uwsgi"
    return str(beside) if beside.exists() else require_program("uwsgi", "pip install uwsgi")


@pytest.fixture(scope="module")
def uwsgi(tmp_path_factory):
    """uWSGI from uwsgi.ini: ``(HTTP port, uwsgi socket path)``."""
    program = uwsgi_program()
    directory = tmp_path_factory.mktemp("uwsgi")
    port, socket = free_port(), directory / "uwsgi.sock"
    ini = render("uwsgi.ini", {"/srv/onion-wsgi": str(ROOT), "/run/onion-wsgi/uwsgi.sock": str(socket),
                               "127.0.0.1:8000": f"127.0.0.1:{port}"}, directory)
    server = Process([program, "--ini", ini], wait_for=("127.0.0.1", port))
    try:
        server.wait_for(str(socket))
        yield port, socket
    finally:
        output = server.stop()
    assert "Traceback" not in output, output
    assert not socket.exists(), "vacuum = true removes the socket on exit"


def test_row05_uwsgi_http_socket(uwsgi):
    port, _ = uwsgi
    probe(f"http://127.0.0.1:{port}", file_wrapper=True)


@pytest.fixture(scope="module")
def nginx_uwsgi(uwsgi, tmp_path_factory):
    _, socket = uwsgi
    server, port = start_nginx("nginx-uwsgi.conf", {"/run/onion-wsgi/uwsgi.sock": str(socket)},
                               tmp_path_factory.mktemp("nginx-uwsgi"))
    try:
        yield port
    finally:
        output = server.stop()
    assert "[emerg]" not in output and "[crit]" not in output, output


def test_row05_uwsgi_behind_nginx(nginx_uwsgi):
    probe(f"http://127.0.0.1:{nginx_uwsgi}", file_wrapper=True)


def test_row05_uwsgi_behind_nginx_under_a_prefix(nginx_uwsgi):
    # nginx passes SCRIPT_NAME=/app and PATH_INFO: url_for builds http://127.0.0.1:PORT/app/target.
    probe(f"http://127.0.0.1:{nginx_uwsgi}/app", file_wrapper=True)


def test_row05_uwsgi_cli_adapter(tmp_path):
    program = uwsgi_program()
    port = free_port()
    path = os.pathsep.join([str(Path(program).parent), os.environ.get("PATH", "")])
    server = Process([PYTHON, "-m", "framework", "run", "examples.deploy.wsgi:application",
                      "--server", "uwsgi", "--workers", "2", "--port", str(port)],
                     env={"PATH": path}, wait_for=("127.0.0.1", port))
    try:
        probe(f"http://127.0.0.1:{port}", file_wrapper=True)
    finally:
        output = server.stop()
    assert "spawned uWSGI worker 2" in output, output
