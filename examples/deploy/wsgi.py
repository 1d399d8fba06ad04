"""The WSGI entry module: what every server in this folder imports.

::

    gunicorn -c examples/deploy/gunicorn.conf.py examples.deploy.wsgi:application
    mod_wsgi-express start-server examples/deploy/wsgi.py --application-type script

Behind a reverse proxy (nginx, Apache), set ``TRUSTED_PROXIES`` to the number of
proxies in front of the app: ``ProxyFix`` then takes the client address, scheme, host
and path prefix from the last that many ``X-Forwarded-*`` headers, so ``url_for``
builds the URLs the client used. Without a proxy, leave it unset: those headers would
then come from the client, and trusting them would let anyone spoof their address.
"""

from __future__ import annotations

import os
import sys
from functools import partial
from pathlib import Path

# mod_wsgi, CGI and uWSGI's --wsgi-file load this file by path: make the project importable.
PROJECT = str(Path(__file__).resolve().parents[2])
if PROJECT not in sys.path:
    sys.path.insert(0, PROJECT)

from examples.deploy.probe import app  # noqa: E402  (your own app goes here)
from middleware import ProxyFix, Stack  # noqa: E402

proxies = int(os.environ.get("TRUSTED_PROXIES", "0"))
application = app
if proxies:
    application = Stack(app, partial(ProxyFix, x_for=proxies, x_proto=proxies, x_host=proxies,
                                      x_port=proxies, x_prefix=proxies))
