#!/bin/sh
# Apache + mod_wsgi without writing any Apache configuration: mod_wsgi-express (pip install
# mod_wsgi, which needs Apache and its headers: Debian apache2 apache2-dev) generates an
# httpd.conf, an apachectl and a daemon-mode setup under --server-root and runs Apache in
# the foreground. Run from anywhere; the extra arguments go to mod_wsgi-express:
#
#   PORT=8000 examples/deploy/mod_wsgi-express.sh
#   PORT=8000 examples/deploy/mod_wsgi-express.sh --mount-point /app    # serve under /app
#   HOST=0.0.0.0 PORT=80 examples/deploy/mod_wsgi-express.sh            # as root: see below
#
# To generate the files only and start/stop Apache yourself (e.g. from systemd):
#   mod_wsgi-express setup-server examples/deploy/wsgi.py ...same options...
#   $SERVER_ROOT/apachectl start | stop | graceful
#
# Two processes of four threads each: the WSGI app runs in mod_wsgi daemon processes, never
# inside Apache's own children, so a code change only needs those restarted. mod_wsgi sets
# SCRIPT_NAME for --mount-point itself: url_for builds /app/... with no ProxyFix.
#
# Apache refuses to serve as root: started by root, Apache and the daemon processes switch to
# --user/--group (www-data here), which must be able to read the project and the Python
# installation (a Python under /root, e.g. pyenv's, is not readable by www-data: use a
# virtualenv elsewhere, e.g. /srv/onion-wsgi/.venv).
set -eu
cd "$(dirname "$0")/../.."
if [ "$(id -u)" = 0 ]; then
    set -- --user www-data --group www-data "$@"
fi
exec mod_wsgi-express start-server examples/deploy/wsgi.py \
    --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}" \
    --processes 2 --threads 4 --locale C.UTF-8 \
    --server-root "${SERVER_ROOT:-/tmp/mod_wsgi-onion-${PORT:-8000}}" \
    --log-to-terminal "$@"
