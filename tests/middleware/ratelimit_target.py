"""A tiny app behind ``RateLimit``, for real servers; configured by environment variables.

``gunicorn --pythonpath tests/middleware ratelimit_target:application`` with:

- ``RATELIMIT_LIMIT``: the limit string (``"50/day"``);
- ``RATELIMIT_STRATEGY``: ``fixed-window``, ``moving-window`` or ``sliding-window-counter``;
- ``RATELIMIT_STORAGE``: the storage URL (``redis://127.0.0.1:PORT``);
- ``RATELIMIT_ON_STORAGE_ERROR``: ``allow``, ``deny`` or ``memory``;
- ``RATELIMIT_RETRY_INTERVAL``: seconds a failed storage is left alone.

The key is the request's ``X-Bucket`` header, so each test counts in a bucket of its own
on a shared storage (no header: exempt).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from middleware.ratelimit import RateLimit


def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answer 200 with the worker's PID, so a test can see which process served it."""
    body = f"ok {os.getpid()}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def bucket(environ: dict[str, Any]) -> str | None:
    """The rate-limit key: the ``X-Bucket`` request header."""
    return environ.get("HTTP_X_BUCKET")


application = RateLimit(
    hello,
    limit=os.environ.get("RATELIMIT_LIMIT", "50/day"),
    key=bucket,
    storage=os.environ.get("RATELIMIT_STORAGE", "memory://"),
    strategy=os.environ.get("RATELIMIT_STRATEGY", "fixed-window"),
    on_storage_error=os.environ.get("RATELIMIT_ON_STORAGE_ERROR", "allow"),
    retry_interval=float(os.environ.get("RATELIMIT_RETRY_INTERVAL", "5")),
)
