"""A JSON API with per-user rate limits that stay exact across workers and machines.

Two demo users reach the API with a bearer token (``TokenAuth``), and each of them
may make ``RATE_LIMIT`` requests (``10/minute`` unless set) counted apart from the
other (``RateLimit(key="user")``: the key is the ``REMOTE_USER`` that ``TokenAuth``
sets). The counters live in the storage that ``REDIS_URL`` names, ``memory://``
when it is unset. Run it from the repository root, for one process::

    python -m framework run examples.api:application

and for four worker processes (or several machines) with one Redis shared by all::

    pip install ".[redis,gunicorn]"
    REDIS_URL=redis://127.0.0.1:6379/0 gunicorn -w 4 examples.api:application

A memory storage counts in each process apart, so under ``gunicorn -w 4`` it would let
every user make four times the limit: use Redis (or Memcached) as soon as there is more
than one process. Then::

    curl -i -H "Authorization: Bearer alice-demo-token" http://127.0.0.1:8000/api/whoami

answers ``{"user": "alice"}`` with ``RateLimit-Policy: "default";q=10;w=60`` and
``RateLimit: "default";r=9;t=60``; the eleventh request within the minute gets a 429
with ``Retry-After``. No token, or a wrong one, is a 401.

=============================  ====================================================
``alice-demo-token``           the user ``alice``
``bob-demo-token``             the user ``bob``
=============================  ====================================================

The onion, outermost first (``python -m framework stack examples.api:application``)::

    TokenAuth -> RateLimit(key="user") -> App

``TokenAuth`` is outside so ``RateLimit`` sees who is asking; a request without a valid
token is refused before it is counted. Demo tokens only: read real ones from the
environment or a secrets store.
"""

from __future__ import annotations

import os
from functools import partial

from framework import App
from middleware import Stack, TokenAuth
from middleware.ratelimit import RateLimit

#: Bearer token -> user name (demo values).
TOKENS = {"alice-demo-token": "alice", "bob-demo-token": "bob"}

#: The per-user limit, in the ``limits`` library's syntax.
LIMIT = os.environ.get("RATE_LIMIT", "10/minute")

#: Where the counters live: ``REDIS_URL`` (shared by all workers), else this process's memory.
STORAGE = os.environ.get("REDIS_URL", "memory://")


def create_api() -> App:
    """The bare JSON API: who is asking, and a small list of items."""
    api = App(__name__)

    @api.get("/api/whoami")
    def whoami(request):
        """The authenticated user, as ``TokenAuth`` set it."""
        return {"user": request.remote_user}

    @api.get("/api/items")
    def items(request):
        """A few items, as any JSON API would list them."""
        return {"items": [{"id": n, "name": f"item {n}"} for n in (1, 2, 3)]}

    return api


def create_app(*, limit: str = LIMIT, storage: str = STORAGE):
    """The API behind ``TokenAuth`` and a per-user ``RateLimit``.

    :param limit: The limit each user gets, such as ``"10/minute"``.
    :param storage: The ``limits`` storage URI: ``memory://``, ``redis://host:port/db``,
        ``memcached://host:port``.
    """
    return Stack(
        create_api(),
        partial(TokenAuth, tokens=TOKENS),
        partial(RateLimit, limit=limit, key="user", storage=storage),
    )


#: The WSGI application: ``gunicorn -w 4 examples.api:application``.
application = create_app()
