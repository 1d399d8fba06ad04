"""The whole onion: every layer of onion-wsgi around one App, ``wsgiref.validate`` between each pair.

Served by the tests in-process (``build(...)``) and by a real gunicorn::

    ONION_UPSTREAM=http://127.0.0.1:9001 gunicorn tests.onion_app:application
    ONION_ID=a gunicorn tests.onion_app:upstream      # the upstream the Proxy layer forwards to
    python -m framework stack tests.onion_app:application

Outermost first: CORS, Compress, StaticFiles (``/static``: hello.txt, css/site.css and
its ``.gz`` sibling), RateLimit, Sessions, FormLogin, Authorize, XSLT, Proxy
(``/api`` to the upstreams), Mount (a plain WSGI app at ``/wsgi``) around the App. A
:class:`Checked` wrapper (``wsgiref.validate.validator``, listed through by ``describe()``)
sits outside every layer and around the app, so a layer that breaks PEP 3333 on either
side fails the request (a 500 under gunicorn).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any
from wsgiref.validate import validator

from werkzeug.security import generate_password_hash

from framework import App
from middleware import (
    CORS,
    XSLT,
    Authorize,
    Compress,
    FormLogin,
    Mount,
    Proxy,
    RateLimit,
    Sessions,
    Stack,
    StaticFiles,
)

HERE = Path(__file__).resolve().parent / "onion"
STATIC = HERE / "static"
FEED_XSL = HERE / "feed.xsl"
SECRET = "onion test secret, not for production"
FAST = "pbkdf2:sha256:1000"  # cheap hashes keep the tests quick
USERS = {"alice": generate_password_hash("alice-pw", method=FAST),
         "bob": generate_password_hash("bob-pw", method=FAST)}
ORIGIN = "https://app.example"
#: A body Compress finds worth compressing (well over its minimum size).
BIG = {"items": [{"id": i, "name": f"item number {i}", "tags": ["onion", "layer"]} for i in range(60)]}


class Checked:
    """``wsgiref.validate.validator`` around *app*, listed through by ``describe()``.

    :param app: The WSGI application to check on both sides.
    """

    #: Not a layer of its own: ``framework.introspection`` lists what it wraps.
    transparent = True

    def __init__(self, app: Any) -> None:
        self.app = app
        self._checked = validator(app)

    def __call__(self, environ: Any, start_response: Any) -> Any:
        """Answer through the validator."""
        return self._checked(environ, start_response)


def plain(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """A plain WSGI app (no framework), mounted at ``/wsgi``."""
    body = json.dumps({"script_name": environ["SCRIPT_NAME"], "path_info": environ["PATH_INFO"],
                       "user": environ.get("REMOTE_USER")}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def upstream(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The upstream the Proxy layer forwards ``/api`` to: says who it is (``ONION_ID``)."""
    path = environ["PATH_INFO"]
    if path.endswith("/stream"):
        start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
        return (f"upstream chunk {i}\n".encode() for i in range(50))
    # To the end of the input: the Proxy sends a body of unknown length chunked, and
    # gunicorn ends wsgi.input there (wsgi.input_terminated).
    body = b"".join(iter(partial(environ["wsgi.input"].read, 65536), b""))
    answer = json.dumps({"upstream": os.environ.get("ONION_ID", "?"), "method": environ["REQUEST_METHOD"],
                         "path": path, "query": environ.get("QUERY_STRING", ""),
                         "sha256": hashlib.sha256(body).hexdigest(),
                         "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
                         "padding": "x" * 600}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))])
    return [answer]


def upstream_command(port: int, workers: int = 1) -> list[str]:
    """The command serving :func:`upstream` with gunicorn on *port* (run from the repository root)."""
    return [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--worker-class", "gthread", "--threads", "4", "--graceful-timeout", "3",
            "tests.onion_app:upstream"]


def make_app() -> App:
    """The App at the heart of the onion."""
    app = App("onion")

    @app.get("/")
    def home(request: Any) -> str:
        return "<h1>The whole onion</h1>"

    @app.get("/big")
    def big(request: Any) -> dict[str, Any]:
        return BIG

    @app.get("/visits")
    def visits(request: Any) -> dict[str, int]:
        request.session["visits"] = request.session.get("visits", 0) + 1
        return {"visits": request.session["visits"]}

    @app.get("/admin")
    def admin(request: Any) -> str:
        return f"<h1>Admin</h1><p>Welcome, {request.environ['REMOTE_USER']}.</p>"

    @app.get("/feed")
    def feed(request: Any) -> tuple[str, dict[str, str]]:
        items = "".join(f"<item>news item number {i}</item>" for i in range(12))
        return f"<?xml version='1.0'?><feed>{items}</feed>", {"Content-Type": "application/xml"}

    @app.route("/echo", methods=["POST", "PUT", "PATCH", "DELETE"])
    def echo(request: Any) -> dict[str, Any]:
        # In pieces: wsgiref.validate refuses read() without a size, which Werkzeug's
        # get_data() calls when the server sets wsgi.input_terminated (gunicorn does).
        data = b"".join(iter(partial(request.stream.read, 65536), b""))
        return {"length": len(data), "sha256": hashlib.sha256(data).hexdigest()}

    @app.get("/stream")
    def stream(request: Any) -> tuple[Iterator[str], dict[str, str]]:
        count = min(request.args.get("n", 5, type=int), 1000)
        pause = min(request.args.get("pause", 0.0, type=float), 1.0)

        def chunks() -> Iterator[str]:
            for i in range(count):
                if i and pause:
                    time.sleep(pause)
                yield f"chunk {i:04d} " + "." * 90 + "\n"

        return chunks(), {"Content-Type": "text/plain; charset=utf-8"}

    return app


def layers(upstreams: list[str] | None = None) -> list[Callable[[Any], Any]]:
    """The layers, outermost first (each also checked by a validator: see :func:`build`)."""
    return [
        partial(CORS, origins=[ORIGIN], methods=["GET", "POST", "PUT", "DELETE"], headers=["Content-Type"],
                credentials=True),
        partial(Compress, minimum_size=200),
        partial(StaticFiles, mounts={"/static": str(STATIC)}),
        partial(RateLimit, limit="100000/minute", rules={"/limited": "3/minute"}),
        partial(Sessions, secret_key=SECRET),
        partial(FormLogin, users=USERS, secret_key=SECRET, protect=["/admin"]),
        partial(Authorize, rules={"/admin": {"alice"}}),
        partial(XSLT, rules={"/feed": str(FEED_XSL)}),
        partial(Proxy, routes={"/api": upstreams or ["http://127.0.0.1:9"]}, timeout=5.0),
        partial(Mount, mounts={"/wsgi": Checked(plain)}),
    ]


def build(upstreams: list[str] | None = None) -> Stack:
    """The onion around a fresh App, with a validator outside every layer and around the app.

    :param upstreams: Base URLs the Proxy layer forwards ``/api`` to.
    """
    checked: list[Callable[[Any], Any]] = []
    for layer in layers(upstreams):
        checked += [Checked, layer]
    return Stack(Checked(make_app()), *checked)


application = build(os.environ.get("ONION_UPSTREAM", "http://127.0.0.1:9").split())
