"""Three frameworks in one process: onion-wsgi at ``/``, Flask at ``/flask``, Django at ``/django``.

Flask and Django are not dependencies of onion-wsgi; install them, then run from the
repository root::

    pip install flask django
    python -m framework run examples.multiapp:application

or with a production server: ``gunicorn -w 2 examples.multiapp:application``.

===========================  ===============================================================
``/``                        the home page (onion-wsgi), linking to the two others
``/api/apps``                JSON: which app is mounted where
``/flask/``                  Flask; ``/flask/link`` shows a ``url_for`` link
``/flask/session/set/<v>``   stores ``v`` in Flask's signed session cookie ...
``/flask/session/get``       ... and reads it back
``/django/``                 Django; links built with ``reverse()``
``/django/form/``            a CSRF-protected form that posts to ``/django/greet/``
===========================  ===============================================================

The mounted apps need no configuration to build links under their prefix: ``Mount``
moves the prefix from ``PATH_INFO`` to ``SCRIPT_NAME`` (PEP 3333), and both Flask's
``url_for`` and Django's ``reverse()`` put ``SCRIPT_NAME`` in front of every link they
build. The two cookie-path settings below are optional: they keep each app's cookie
to itself.
"""

import django
import flask
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from framework import App
from middleware import Mount

FLASK_PREFIX, DJANGO_PREFIX = "/flask", "/django"

# -- onion-wsgi: the home app at / ---------------------------------------------------------

home = App(__name__)


@home.get("/")
def index(request):
    return (
        "<h1>Three apps, one process</h1>"
        f'<ul><li><a href="{FLASK_PREFIX}/">Flask</a></li>'
        f'<li><a href="{DJANGO_PREFIX}/">Django</a></li></ul>'
    )


@home.get("/api/apps")
def apps(request):
    return {"/": "onion-wsgi", FLASK_PREFIX: "flask", DJANGO_PREFIX: "django"}


# -- Flask at /flask -----------------------------------------------------------------------

flask_app = flask.Flask(__name__)
flask_app.config.update(
    SECRET_KEY="multiapp-example-flask-secret",  # demo only: read it from the environment
    SESSION_COOKIE_PATH=FLASK_PREFIX,  # keep Flask's cookie out of the other apps' requests
)


@flask_app.get("/")
def flask_index():
    return "Hello from Flask"


@flask_app.get("/link")
def flask_link():
    return flask.url_for("flask_get_session")


@flask_app.get("/session/set/<value>")
def flask_set_session(value):
    flask.session["value"] = value
    return "stored"


@flask_app.get("/session/get")
def flask_get_session():
    return flask.session.get("value", "")


# -- Django at /django ---------------------------------------------------------------------

if not settings.configured:  # settings.configure() may run once per process
    settings.configure(
        DEBUG=False,
        SECRET_KEY="multiapp-example-django-secret",  # demo only
        ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
        CSRF_COOKIE_PATH=DJANGO_PREFIX,  # keep Django's cookie out of the other apps' requests
        ROOT_URLCONF=__name__,  # the `urlpatterns` below
        MIDDLEWARE=[
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
        ],
        INSTALLED_APPS=[],
        USE_TZ=True,
    )
    django.setup()


@require_GET
def django_index(request):
    return HttpResponse(format_html(
        '<h1>Hello from Django</h1><a href="{}">form</a> <a href="{}">greet</a>',
        reverse("form"), reverse("greet"),
    ))


@require_GET
def django_form(request):
    return HttpResponse(format_html(
        '<form method="post" action="{}">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<input name="name"><button>Greet</button></form>',
        reverse("greet"), get_token(request),
    ))


@require_POST
def django_greet(request):
    return HttpResponse(format_html("Hello, {}!", request.POST.get("name", "")))


urlpatterns = [
    path("", django_index, name="index"),
    path("form/", django_form, name="form"),
    path("greet/", django_greet, name="greet"),
]

django_app = get_wsgi_application()

# -- all three, one WSGI application -------------------------------------------------------

application = Mount(home, mounts={FLASK_PREFIX: flask_app, DJANGO_PREFIX: django_app})
