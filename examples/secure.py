"""One login for every app: onion-wsgi, Flask and Django behind the same auth layers.

A form login (``FormLogin``) in a signed cookie, a session with flash messages
(``Sessions``), an ``/admin`` area for the user ``admin`` only (``Authorize``), a JSON
``/api`` for scripts behind a bearer token (``TokenAuth``), and a real Flask app and a
real Django app mounted beside our own. The layers set ``REMOTE_USER``, the WSGI
convention for "who is this", and every app reads it in its own way:
``request.remote_user`` in onion-wsgi and in Flask, ``RemoteUserMiddleware`` in Django.
No app below checks a password.

Run it from the repository root (Flask and Django come with the ``[test]`` extra)::

    pip install flask django
    python -m framework run examples.secure:application

then open <http://127.0.0.1:8000>. The demo users and token (read such secrets from the
environment or a file in a real site; ``SECRET_KEY`` is read from the environment here):

=========  ================  ==============================================
user       password          may enter
=========  ================  ==============================================
``admin``  ``admin-pass``    everything, ``/admin`` included
``guest``  ``guest-pass``    everything but ``/admin`` (403)
=========  ================  ==============================================

``curl -H "Authorization: Bearer demo-api-token" http://127.0.0.1:8000/api/whoami``
answers ``{"user": "api-bot", "auth": "Bearer"}``.

=========================  =========================================================
``/``                      the home page: flash messages, who is logged in, links
``/login``, ``/logout``    ``FormLogin``'s page (GET, POST) and logout (POST only)
``/account``               any logged-in user (a browser without a login is sent to
                           ``/login?next=/account``, a JSON client gets 401)
``/admin``                 the user ``admin`` only: 403 for ``guest``
``/api/whoami``            JSON, with ``Authorization: Bearer <token>`` or a login
``/flask/``                Flask, reading ``flask.request.remote_user``
``/django/``               Django, with ``RemoteUserMiddleware`` and ``RemoteUserBackend``
=========================  =========================================================

The onion, outermost first (``python -m framework stack examples.secure:application``)::

    Sessions -> FormLogin -> TokenAuth(/api) -> Authorize(/admin) -> Mount(home, /flask, /django)

``Sessions`` is outermost so every layer and app inside can flash a message;
``FormLogin`` turns the login cookie into ``REMOTE_USER`` and sends anonymous browsers
to the form; ``TokenAuth`` does the same for scripts on ``/api`` (a logged-in browser
passes too: an outer layer's ``REMOTE_USER`` is honoured); ``Authorize`` decides who
may enter ``/admin``, whichever layer logged the user in.

The passwords are Werkzeug hashes (``generate_password_hash``, scrypt by default):
only the hashes are in this file. Django takes one configuration per process: serve
this example in a process of its own, not in one that has imported
``examples/multiapp.py``.
"""

from __future__ import annotations

import os
from functools import partial

import django
import flask
from django.conf import settings
from markupsafe import escape

from framework import App, flash, redirect
from middleware import Authorize, FormLogin, Mount, Sessions, Stack, TokenAuth

FLASK_PREFIX, DJANGO_PREFIX = "/flask", "/django"

#: Signs the session and the login cookies. Demo only: set SECRET_KEY in a real site.
SECRET_KEY = os.environ.get("SECRET_KEY", "secure-example-demo-secret-key")

#: User name -> Werkzeug password hash: ``admin-pass`` and ``guest-pass``.
USERS = {
    "admin": "scrypt:32768:8:1$tndjYcZ3rhkYBUSY$3588b9b78a72616a89b99b5b881cca28e72570d65e8cf4ed7d"
             "7804e74c45a48b6aac8271d678a4d9f739c8e2470cb7317cc13ccb5767ad2d755f6074d89268a1",
    "guest": "scrypt:32768:8:1$2JA1t4QLhQ4UeUto$b61d316f7e4fed6b128f2a6a7aaffd43f0cab70b5f86a23818b"
             "28d487fdb7617af49b616b9d1596b8a20d88becb01b452cffc9dcb846f38ba47139a083e32c38",
}

#: Bearer token -> user, for scripts on /api. Demo only: read tokens from the environment.
TOKENS = {os.environ.get("SECURE_API_TOKEN", "demo-api-token"): "api-bot"}

# -- onion-wsgi: the home app ----------------------------------------------------------------

home = App(__name__, template_folder="secure_templates")


@home.before_request
def welcome(request):
    """Flash a welcome once a login, whichever page the login led to."""
    user, session = request.remote_user, request.session
    if user and session.get("welcomed") != user:
        session["welcomed"] = user
        flash(request, f"Welcome, {user}", "success")
    elif not user and "welcomed" in session:
        del session["welcomed"]


@home.get("/")
def index(request):
    return home.render("index.html", title="Home")


@home.get("/account")
def account(request):
    return home.render("account.html", title="Your account")


@home.get("/admin")
def admin(request):
    return home.render("admin.html", title="Admin")


@home.get("/logged-out")
def logged_out(request):
    """Where the logout form sends the browser: ``FormLogin`` has cleared the cookie."""
    request.session.pop("welcomed", None)
    flash(request, "Logged out", "info")
    return redirect(request.url_for("index"), 303)


@home.get("/api/whoami")
def whoami(request):
    return {"user": request.remote_user, "auth": request.environ.get("AUTH_TYPE")}


# -- Flask at /flask ---------------------------------------------------------------------------

flask_app = flask.Flask(__name__)


@flask_app.get("/")
def flask_index():
    user = flask.request.remote_user
    if not user:  # never reached behind FormLogin: the app checks anyway
        flask.abort(401)
    return f"<h1>Hello from Flask, {escape(user)}</h1>"


# -- Django at /django -------------------------------------------------------------------------

if not settings.configured:  # settings.configure() may run once per process
    settings.configure(
        DEBUG=False,
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
        ROOT_URLCONF=__name__,  # the `urlpatterns` below
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            # REMOTE_USER (set by FormLogin) logs the user in to Django too ...
            "django.contrib.auth.middleware.RemoteUserMiddleware",
        ],
        # ... through this backend, which creates a Django user on first sight.
        AUTHENTICATION_BACKENDS=["django.contrib.auth.backends.RemoteUserBackend"],
        # Django's own session in a signed cookie kept to /django; its user table in a
        # shared in-memory SQLite database of this process (demo only).
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        SESSION_COOKIE_PATH=DJANGO_PREFIX,
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                               "NAME": "file:secure-example?mode=memory&cache=shared"}},
        LOGIN_URL="/login",  # FormLogin's page, should a Django view ask for a login
        USE_TZ=True,
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # the user tables, once a process

from django.contrib.auth.decorators import login_required  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils.html import format_html  # noqa: E402


@login_required
def django_index(request):
    return HttpResponse(format_html("<h1>Hello from Django, {}</h1><p>staff: {}</p>",
                                    request.user.get_username(), request.user.is_staff))


urlpatterns = [path("", django_index, name="index")]

django_app = get_wsgi_application()

# -- the onion ---------------------------------------------------------------------------------


def create_app():
    """The whole site: the layers, outermost first, around the three apps."""
    site = Mount(home, mounts={FLASK_PREFIX: flask_app, DJANGO_PREFIX: django_app})
    return Stack(
        site,
        partial(Sessions, secret_key=SECRET_KEY),
        partial(FormLogin, users=USERS, secret_key=SECRET_KEY,
                protect=["/account", "/admin", FLASK_PREFIX, DJANGO_PREFIX]),
        partial(TokenAuth, tokens=TOKENS, protect=["/api"]),
        partial(Authorize, rules={"/admin": {"admin"}}),
    )


application = create_app()
