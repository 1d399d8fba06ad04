"""Matrix row 8: Apache + mod_wsgi, both as ``mod_wsgi-express`` and as the vhost a person copies.

Apache will not serve as root: started by root it switches to ``User`` (www-data), and so
do mod_wsgi's daemon processes, which then import Python and the project as www-data. A
Python under ``/root`` (pyenv's, mode 0700) is not readable by www-data, so as root these
tests start Apache in a user namespace where it *is* www-data (uid 33 inside) while the
kernel still checks files as the root that owns them (``unshare --map-user``). The
configuration is the one a Debian machine runs: Apache, already unprivileged, keeps
``User www-data`` as it is; nothing in the files changes. Run as any other user, Apache
simply runs as that user, which is what ``mod_wsgi-express`` does too.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest
from harness import DEPLOY, ROOT, Process, free_port, probe, render, require_module, require_program

MODULES = Path("/usr/lib/apache2/modules")

#: The main configuration a Debian apache2.conf + ports.conf + mods-enabled boil down to, with
#: everything under the test's directory; the vhost comes in as is, by ``Include``.
MAIN = """\
ServerRoot "{root}"
ServerName 127.0.0.1
DefaultRuntimeDir "{root}"
PidFile "{root}/apache2.pid"
Listen 127.0.0.1:{port}

LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule mime_module {modules}/mod_mime.so
LoadModule dir_module {modules}/mod_dir.so
LoadModule wsgi_module {mod_wsgi}

User www-data
Group www-data
ErrorLog /dev/stderr
LogLevel warn
LogFormat "%h %l %u %t \\"%r\\" %>s %O \\"%{{Referer}}i\\" \\"%{{User-Agent}}i\\"" combined
TypesConfig /etc/mime.types
DocumentRoot "{root}/htdocs"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
WSGISocketPrefix "{root}/wsgi"

Include "{vhost}"
"""


def as_apache_user(argv: list[str]) -> list[str]:
    """*argv*, run as www-data in a user namespace when we are root (see the module's docstring)."""
    if os.geteuid() != 0:
        return argv
    unshare = require_program("unshare", "apt install util-linux")
    user = pwd.getpwnam("www-data")
    return [unshare, "--user", f"--map-user={user.pw_uid}", f"--map-group={user.pw_gid}", *argv]


@pytest.fixture
def mod_wsgi() -> str:
    """The mod_wsgi Apache module built by ``pip install mod_wsgi``."""
    require_program("apache2", "apt install apache2 apache2-dev")
    require_module("mod_wsgi", "mod_wsgi (needs apache2-dev)")
    express = require_program("mod_wsgi-express", "pip install mod_wsgi (needs apache2-dev)")
    location = subprocess.run([express, "module-location"], capture_output=True, text=True, check=True)
    return location.stdout.strip()


def test_row08_mod_wsgi_express(mod_wsgi, tmp_path):
    port = free_port()
    script = DEPLOY / "mod_wsgi-express.sh"
    server = Process(as_apache_user([str(script)]), wait_for=("127.0.0.1", port),
                     env={"PORT": str(port), "SERVER_ROOT": str(tmp_path / "express")})
    try:
        probe(f"http://127.0.0.1:{port}", file_wrapper=True)
    finally:
        output = server.stop()
    assert "mod_wsgi" in output and "Traceback" not in output, output


def test_row08_apache_vhost(mod_wsgi, tmp_path):
    apache = require_program("apache2", "apt install apache2")
    port = free_port()
    # Only the paths and the port change; Debian's envvars would set APACHE_LOG_DIR.
    vhost = render("apache-vhost.conf", {"/srv/onion-wsgi/.venv": sys.prefix, "/srv/onion-wsgi": str(ROOT),
                                         "127.0.0.1:8080": f"127.0.0.1:{port}"}, tmp_path)
    (tmp_path / "htdocs").mkdir()
    (tmp_path / "logs").mkdir()
    conf = tmp_path / "apache2.conf"
    conf.write_text(MAIN.format(root=tmp_path, port=port, modules=MODULES, mod_wsgi=mod_wsgi, vhost=vhost))
    argv = [apache, "-d", str(tmp_path), "-f", str(conf)]
    env = {"APACHE_LOG_DIR": str(tmp_path / "logs"), "LANG": "C.UTF-8"}
    check = subprocess.run(as_apache_user([*argv, "-t"]), env={**os.environ, **env},
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    server = Process(as_apache_user([*argv, "-DFOREGROUND"]), env=env, wait_for=("127.0.0.1", port))
    try:
        probe(f"http://127.0.0.1:{port}/app", file_wrapper=True)
    finally:
        output = server.stop()
    errors = (tmp_path / "logs" / "onion-error.log").read_text()
    assert "Traceback" not in output + errors, output + errors
    access = (tmp_path / "logs" / "onion-access.log").read_text()
    assert "GET /app/redirect HTTP/1.1\" 302" in access, access
