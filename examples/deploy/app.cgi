#!/srv/onion-wsgi/.venv/bin/python
"""The app as a CGI script: one process per request, run by the web server.

A CGI runner starts this file for every request, with the request in its environment
and body on stdin; ``wsgiref.handlers.CGIHandler`` turns that into a WSGI call and writes
the response to stdout. Here the runner is fcgiwrap under nginx (nginx-cgi.conf);
Apache's mod_cgi (``ScriptAlias /app /srv/onion-wsgi/examples/deploy/app.cgi``) works too.

Choose CGI only where nothing else runs (shared hosting): each request pays Python's
start-up and the app's import (a few hundred milliseconds). FastCGI (fcgi.py) keeps the
process.

Install it:

* The first line must name the Python that has the project's dependencies, by absolute
  path: the runner's PATH (fcgiwrap's, Apache's) has only the system Python, so
  ``#!/usr/bin/env python3`` would find the wrong one. For a virtualenv in
  /srv/onion-wsgi/.venv, the line above is right; otherwise write the output of
  ``python -c 'import sys; print(sys.executable)'`` there.
* ``PROJECT`` below: the directory that holds the ``examples`` package (your app's).
* Make it executable (``chmod 755 app.cgi``), readable by the runner's user.

The file is named ``app.cgi``, not ``cgi.py``: a ``cgi.py`` next to the code would shadow
the standard library module of that name.
"""

import sys

PROJECT = "/srv/onion-wsgi"
if PROJECT not in sys.path:
    sys.path.insert(0, PROJECT)

from wsgiref.handlers import CGIHandler  # noqa: E402

from examples.deploy.wsgi import application  # noqa: E402

if __name__ == "__main__":
    CGIHandler().run(application)
