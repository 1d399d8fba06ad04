"""The showcase: one site that uses the whole onion, served with nothing but Python and pip.

Run it from the repository root (lxml, for the feed's XSLT, is the ``[xslt]`` extra)::

    pip install ".[xslt]" && python -m framework run examples.showcase.app:application --port 8000

then open <http://127.0.0.1:8000>. What each part demonstrates:

=========================  ==============================================================
``/``                      the home page: flash messages, who is logged in, a button that
                           calls the API from the page (``site.js``)
``/login``, ``/logout``    ``FormLogin``'s form (this app's ``login.html``, which shows the
                           demo users) and its CSRF-checked logout (POST only)
``/admin``                 ``Authorize``: the user ``admin`` only (``demo`` gets a 403, no
                           login a redirect to the form, or a 401 for a JSON client)
``/api/...``               a JSON API behind ``TokenAuth`` (or a login) and a per-user
                           ``RateLimit``: 429 with ``Retry-After`` over the limit
``/feed.xml``              an RSS 2.0 feed: the XML for feed readers, an HTML page made by
                           ``XSLT`` (``xsl/feed.xsl``) for browsers
``/static/...``            ``StaticFiles``: ``public/``, fingerprinted by
                           ``python -m framework assets`` and cached for a year
=========================  ==============================================================

The demo users and token (the login page shows them; a real site reads secrets from
the environment, as ``SHOWCASE_SECRET_KEY`` here):

=========  =============  ============================================
user       password       may enter
=========  =============  ============================================
``admin``  ``admin-pass``  everything, ``/admin`` included
``demo``   ``demo-pass``   everything but ``/admin`` (403)
=========  =============  ============================================

``curl -H "Authorization: Bearer showcase-demo-token" http://127.0.0.1:8000/api/whoami``
answers ``{"user": "robot", "auth": "Bearer"}``; the limit is ``SHOWCASE_API_LIMIT``
(``10/minute`` unless set) per user, counted in ``SHOWCASE_RATELIMIT_STORAGE``
(``memory://`` unless set: one process only). For several worker processes, share one
Redis (the README's "Scale out")::

    SHOWCASE_RATELIMIT_STORAGE=redis://127.0.0.1:6379/0 gunicorn -w 4 examples.showcase.app:application

``python -m framework stack examples.showcase.app:application`` prints the onion;
:func:`create_app` says why each layer sits where it does.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from email.utils import format_datetime
from functools import partial
from pathlib import Path
from typing import Any

from werkzeug.security import generate_password_hash

from framework import App, abort, flash, redirect
from middleware import (
    CORS,
    XSLT,
    Authorize,
    Compress,
    FormLogin,
    RateLimit,
    Sessions,
    Stack,
    StaticFiles,
    TokenAuth,
)

HERE = Path(__file__).resolve().parent

#: The static files: sources, their fingerprinted copies and ``manifest.json``
#: (rebuild with ``python -m framework assets examples/showcase/public``).
PUBLIC = HERE / "public"

#: The feed's stylesheets (``XSLT`` resolves nothing outside this folder).
XSL = HERE / "xsl"

#: Signs the session and the login cookies: every worker must share it.
SECRET_KEY = os.environ.get("SHOWCASE_SECRET_KEY", "showcase-demo-secret-key")

#: The API's limit per user, in the ``limits`` library's syntax.
API_LIMIT = os.environ.get("SHOWCASE_API_LIMIT", "10/minute")

#: Where the API's counters live: ``memory://`` (one process), ``redis://host:6379/0``
#: (every worker and machine sharing one count), ``memcached://host:11211``.
RATELIMIT_STORAGE = os.environ.get("SHOWCASE_RATELIMIT_STORAGE", "memory://")

#: The demo users and their passwords, shown on the login page (demo only).
DEMO_PASSWORDS = {"admin": "admin-pass", "demo": "demo-pass"}

#: User name -> Werkzeug password hash: only the hashes reach the login layer.
USERS = {name: generate_password_hash(password) for name, password in DEMO_PASSWORDS.items()}

#: The demo token, shown on the home page: never put a real one there.
DEMO_TOKEN = "showcase-demo-token"

#: Bearer token -> user, for scripts on /api (demo only: read real tokens from a secrets store).
TOKENS = {DEMO_TOKEN: "robot"}

#: Who may enter the admin area.
ADMINS = frozenset({"admin"})


def load_articles() -> list[dict[str, Any]]:
    """The articles of the feed and the API, newest first (``articles.json``)."""
    articles = json.loads((HERE / "articles.json").read_text(encoding="utf-8"))
    for article in articles:
        article["date"] = datetime.fromisoformat(article["published"])
    return sorted(articles, key=lambda article: article["date"], reverse=True)


def create_site(articles: list[dict[str, Any]], onion: list[str]) -> App:
    """The bare app: pages, the JSON API and the feed; no layer, no password check.

    :param articles: What the feed, the API and the home page show.
    :param onion: The layers around the app, one line each, for the admin page.
    """
    site = App(__name__)

    @site.before_request
    def welcome(request):
        """Flash a welcome once per login, on whichever page the login led to."""
        user, session = request.remote_user, request.session
        if user and request.environ.get("AUTH_TYPE") == "Form" and session.get("welcomed") != user:
            session["welcomed"] = user
            flash(request, f"Welcome, {user}! You are logged in.", "success")

    @site.get("/")
    def index(request):
        return site.render("index.html", title="Home", articles=articles, token=DEMO_TOKEN)

    @site.get("/admin")
    def admin(request):
        return site.render("admin.html", title="Admin", onion=onion)

    @site.get("/logged-out")
    def logged_out(request):
        """Where the logout form leads: ``FormLogin`` has cleared the login cookie."""
        request.session.pop("welcomed", None)
        flash(request, "You are logged out.", "info")
        return redirect(request.url_for("index"), 303)

    @site.get("/api/whoami")
    def whoami(request):
        return {"user": request.remote_user, "auth": request.environ.get("AUTH_TYPE")}

    @site.get("/api/articles")
    def api_articles(request):
        return {"articles": [public(article) for article in articles]}

    @site.get("/api/articles/<int:article_id>")
    def api_article(request, article_id):
        for article in articles:
            if article["id"] == article_id:
                return public(article)
        abort(404, f"There is no article {article_id}.")

    @site.get("/feed.xml")
    def feed(request):
        response = site.render("feed.xml", articles=articles,
                               updated=format_datetime(articles[0]["date"]), rfc822=format_datetime)
        response.content_type = "application/rss+xml; charset=utf-8"
        return response

    return site


def public(article: dict[str, Any]) -> dict[str, Any]:
    """An article as the API shows it."""
    return {key: article[key] for key in ("id", "slug", "title", "layer", "published", "summary")}


def feed_params(environ: dict[str, Any]) -> dict[str, str]:
    """The feed stylesheet's parameters: the fingerprinted CSS's URL and the site's root."""
    return {"css": environ["framework.static_url"]("site.css"), "root": environ.get("SCRIPT_NAME", "")}


def create_app(*, limit: str = API_LIMIT, storage: str = RATELIMIT_STORAGE,
               secret_key: str = SECRET_KEY) -> Stack:
    """The whole site: the layers, outermost first, around the app.

    :param limit: The API's limit per user (``"10/minute"``).
    :param storage: The ``limits`` storage URL for the API's counters.
    :param secret_key: The key that signs the session and login cookies.
    """
    onion: list[str] = []
    site = create_site(load_articles(), onion)
    stack = Stack(
        site,
        # CORS outermost: a preflight is answered before any other layer does work, and
        # every answer (a 401 or a 429 too) carries the CORS fields, so a script on
        # another origin can read why it was refused. Any origin, no credentials: other
        # sites may call the API with a token, but never with this site's cookies.
        partial(CORS, origins="*", methods=["GET", "HEAD"], headers=["Authorization"],
                expose_headers=["RateLimit", "RateLimit-Policy", "Retry-After"]),
        # Compress next: it sees every body the layers below produce (pages, JSON, the
        # feed made HTML, error pages) and skips what StaticFiles already sends encoded.
        partial(Compress),
        # StaticFiles before any session or login work: an asset costs a dict lookup.
        # It also gives the app (and the XSLT parameters) static_url().
        partial(StaticFiles, mounts={"/static": str(PUBLIC)}),
        # Sessions outside the login and the app: every layer and page inside can flash.
        partial(Sessions, secret_key=secret_key),
        # FormLogin turns the login cookie into REMOTE_USER and sends anonymous browsers
        # on /admin to the form (a JSON client gets a 401); it also gives every page the
        # CSRF token of its forms (csrf_token()).
        partial(FormLogin, users=USERS, secret_key=secret_key, protect=["/admin"]),
        # TokenAuth for scripts on /api; a browser logged in by the form passes too (an
        # outer layer's REMOTE_USER is honoured). Outside RateLimit, so a request without
        # a valid token is refused before it is counted.
        partial(TokenAuth, tokens=TOKENS, protect=["/api"]),
        # Per user (REMOTE_USER, set by either login), on /api only: limit=None elsewhere.
        partial(RateLimit, limit=None, rules={"/api": limit}, key="user", storage=storage),
        # Authorize decides who may enter /admin, whichever layer logged the user in.
        partial(Authorize, rules={"/admin": ADMINS}),
        # XSLT innermost, right around the app that writes the RSS: browsers (which prefer
        # HTML) get a page, feed readers the XML; Compress, outside, compresses either.
        partial(XSLT, rules={"/feed.xml": str(XSL / "feed.xsl")}, stylesheet_root=str(XSL),
                params=feed_params, when="not-accepted"),
    )
    onion.extend(stack.describe())
    return stack


#: The WSGI application: ``python -m framework run examples.showcase.app:application``.
application = create_app()
