"""Matrix rows 9 and 10: FastCGI (flup) and CGI (wsgiref's CGIHandler under fcgiwrap), behind nginx.

Row 9 runs ``examples/deploy/fcgi.py`` behind ``examples/deploy/nginx-fastcgi.conf``;
row 10 runs ``examples/deploy/app.cgi`` through fcgiwrap behind
``examples/deploy/nginx-cgi.conf``. Both are probed at the root and under ``/app``.
"""

from __future__ import annotations

import os

import pytest
from harness import (
    DEPLOY,
    PYTHON,
    ROOT,
    Process,
    probe,
    render,
    require_module,
    require_program,
    start_nginx,
)


def stopped(server: Process) -> None:
    output = server.stop()
    assert "Traceback" not in output and "[emerg]" not in output and "[crit]" not in output, output


# -- row 9: FastCGI via flup -------------------------------------------------------------------

@pytest.fixture(scope="module")
def fastcgi(tmp_path_factory):
    """flup's threaded FastCGI server from fcgi.py, behind nginx: nginx's port."""
    require_module("flup")
    directory = tmp_path_factory.mktemp("fastcgi")
    socket = directory / "fcgi.sock"
    app = Process([PYTHON, DEPLOY / "fcgi.py", "--socket", socket, "--threads", "8"], wait_for=str(socket))
    try:
        nginx, port = start_nginx("nginx-fastcgi.conf", {"/run/onion-wsgi/fcgi.sock": str(socket)}, directory)
        try:
            yield port
        finally:
            stopped(nginx)
    finally:
        stopped(app)


def test_row09_fastcgi_flup_behind_nginx(fastcgi):
    # flup offers no wsgi.file_wrapper: werkzeug's wrap_file falls back to its own iterator.
    probe(f"http://127.0.0.1:{fastcgi}", file_wrapper=False)


def test_row09_fastcgi_flup_behind_nginx_under_a_prefix(fastcgi):
    # nginx passes SCRIPT_NAME=/app and PATH_INFO: url_for builds http://127.0.0.1:PORT/app/target.
    probe(f"http://127.0.0.1:{fastcgi}/app", file_wrapper=False)


# -- row 10: CGI via wsgiref's CGIHandler, under fcgiwrap ----------------------------------------

@pytest.fixture(scope="module")
def cgi(tmp_path_factory):
    """app.cgi run by fcgiwrap behind nginx: nginx's port."""
    fcgiwrap = require_program("fcgiwrap", "apt-get install fcgiwrap")
    directory = tmp_path_factory.mktemp("cgi")
    # The script runs under this interpreter, which has the project's dependencies
    # (fcgiwrap's PATH has only the system python3); PROJECT is this checkout.
    script = render("app.cgi", {"#!/srv/onion-wsgi/.venv/bin/python": f"#!{PYTHON}",
                                 'PROJECT = "/srv/onion-wsgi"': f"PROJECT = {str(ROOT)!r}"}, directory)
    assert os.access(script, os.X_OK)
    socket = directory / "fcgiwrap.sock"
    runner = Process([fcgiwrap, "-s", f"unix:{socket}", "-c", "4", "-f", "-p", script], wait_for=str(socket))
    try:
        nginx, port = start_nginx("nginx-cgi.conf", {"/run/onion-wsgi/fcgiwrap.sock": str(socket),
                                                     "/srv/onion-wsgi/examples/deploy/app.cgi": str(script)},
                                  directory)
        try:
            yield port
        finally:
            stopped(nginx)  # fcgiwrap -f sends the scripts' stderr to nginx's error log
    finally:
        stopped(runner)


def test_row10_cgi_under_fcgiwrap_behind_nginx(cgi):
    # CGIHandler offers wsgiref.util.FileWrapper as wsgi.file_wrapper: an iterator over the
    # file's blocks (BaseHandler.sendfile() does nothing), so "offered" but no sendfile.
    probe(f"http://127.0.0.1:{cgi}", file_wrapper=True)


def test_row10_cgi_under_fcgiwrap_behind_nginx_under_a_prefix(cgi):
    probe(f"http://127.0.0.1:{cgi}/app", file_wrapper=True)
