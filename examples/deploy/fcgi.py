"""FastCGI for an onion-wsgi app, with flup: what nginx's ``fastcgi_pass`` talks to.

::

    pip install flup
    python examples/deploy/fcgi.py --socket /run/onion-wsgi/fcgi.sock   # nginx-fastcgi.conf
    python examples/deploy/fcgi.py --bind 127.0.0.1:9000                # or TCP

One process, a pool of threads (flup's threaded ``WSGIServer``); run several behind one
nginx ``upstream`` for more, each under a process supervisor (systemd, supervisord), which
also restarts it. SIGTERM or SIGINT stops it. The app comes from ``wsgi.py`` next to this
file: put your own there. nginx sends the CGI variables itself (REMOTE_ADDR, HTTPS,
SCRIPT_NAME, PATH_INFO), so leave ``TRUSTED_PROXIES`` unset.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROJECT = str(Path(__file__).resolve().parents[2])  # run as a script: make the project importable
if PROJECT not in sys.path:
    sys.path.insert(0, PROJECT)

from flup.server.fcgi import WSGIServer  # noqa: E402

from examples.deploy.wsgi import application  # noqa: E402


def address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host or "127.0.0.1", int(port)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve examples.deploy.wsgi:application over FastCGI.")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--socket", metavar="PATH", help="listen on this Unix socket (replaced if it exists)")
    where.add_argument("--bind", metavar="HOST:PORT", type=address, help="listen on this TCP address")
    parser.add_argument("--threads", type=int, default=16, metavar="N",
                        help="at most N requests at once (default 16)")
    parser.add_argument("--umask", type=lambda text: int(text, 8), default=0o007, metavar="OCTAL",
                        help="umask for the socket file (default 007: the owner and the group, "
                             "which nginx's user must be in, can connect)")
    options = parser.parse_args(argv)
    server = WSGIServer(application, bindAddress=options.socket or options.bind, umask=options.umask,
                        multithreaded=True, multiplexed=False, debug=False,  # no tracebacks to clients
                        minSpare=1, maxSpare=min(4, options.threads), maxThreads=options.threads)
    print(f"FastCGI on {options.socket or options.bind}, {options.threads} threads", flush=True)
    server.run()


if __name__ == "__main__":
    main()
