"""examples/multiapp.py: onion-wsgi at /, a real Flask app at /flask, a real Django app at /django.

Every request goes through ``wsgiref.validate``: the mount, Flask and Django all pass it.
Django is configured once, by importing the example (``settings.configure`` is once a process).
"""

from __future__ import annotations

import urllib.request
from wsgiref.validate import validator

import pytest
from servers import Server, require
from webtest import TestApp

require("flask", "django")

from examples import multiapp  # noqa: E402
from middleware import Mount  # noqa: E402

JSON = {"Accept": "application/json"}


@pytest.fixture
def client():
    return TestApp(validator(multiapp.application))


def test_the_example_is_a_mount_around_the_home_app():
    assert isinstance(multiapp.application, Mount)
    assert multiapp.application.app is multiapp.home


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("/", '<a href="/flask/">Flask</a>', id="home"),
        pytest.param("/api/apps", '"/django":"django"', id="home-json"),
        pytest.param("/flask/", "Hello from Flask", id="flask"),
        pytest.param("/flask/link", "/flask/session/get", id="flask-url_for-has-prefix"),
        pytest.param("/django/", '<a href="/django/form/">form</a> <a href="/django/greet/">',
                     id="django-reverse-has-prefix"),
        pytest.param("/django/form/", 'action="/django/greet/"', id="django-form-action"),
        # an empty PATH_INFO is Django's "/": the index, no APPEND_SLASH redirect
        pytest.param("/django", "Hello from Django", id="django-without-slash"),
    ],
)
def test_each_app_answers_under_its_prefix(client, path, expected):
    response = client.get(path)
    assert response.status_int == 200
    assert expected in response.text


@pytest.mark.parametrize(
    ("path", "status", "location"),
    [
        pytest.param("/flask", 308, "http://localhost/flask/", id="flask-strict-slashes"),
        pytest.param("/django/form", 301, "/django/form/", id="django-append-slash"),
    ],
)
def test_slash_redirects_keep_the_prefix(client, path, status, location):
    response = client.get(path, status=status)
    assert response.headers["Location"] == location


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/flaskx", id="flask-prefix-is-a-whole-segment"),
        pytest.param("/djangox/", id="django-prefix-is-a-whole-segment"),
        pytest.param("/nope", id="unknown"),
    ],
)
def test_other_paths_are_the_home_apps_404(client, path):
    response = client.get(path, headers=JSON, status=404)  # only onion-wsgi answers 404 in JSON
    assert response.json["error"]["status"] == 404


@pytest.mark.parametrize(
    ("path", "page"),
    [
        pytest.param("/flask/nope", "The requested URL was not found on the server.", id="flask"),
        pytest.param("/django/nope/", "The requested resource was not found on this server.", id="django"),
    ],
)
def test_mounted_apps_answer_their_own_404(client, path, page):
    response = client.get(path, headers=JSON, status=404)
    assert response.content_type == "text/html"
    assert page in response.text


def test_flask_session_cookie_round_trips_through_the_mount(client):
    stored = client.get("/flask/session/set/tea")
    cookie = stored.headers["Set-Cookie"]
    assert cookie.startswith("session=")
    assert "Path=/flask" in cookie  # SESSION_COOKIE_PATH: the cookie stays with Flask
    assert "HttpOnly" in cookie
    assert client.get("/flask/session/get").text == "tea"
    client.reset()  # forget the cookie: the session is gone
    assert client.get("/flask/session/get").text == ""


def test_django_form_posts_with_its_csrf_token(client):
    page = client.get("/django/form/")
    assert "Path=/django" in page.headers["Set-Cookie"]  # CSRF_COOKIE_PATH
    form = page.form
    assert form.action == "/django/greet/"
    token = form["csrfmiddlewaretoken"].value
    response = client.post(form.action, {"csrfmiddlewaretoken": token, "name": "<Ann>"})
    assert response.status_int == 200
    assert response.text == "Hello, &lt;Ann&gt;!"


@pytest.mark.parametrize(
    ("send_token", "send_cookie"),
    [
        pytest.param(False, True, id="no-token"),
        pytest.param(True, False, id="no-cookie"),
        pytest.param(False, False, id="neither"),
    ],
)
def test_django_csrf_refuses_a_post_without_token_and_cookie(client, send_token, send_cookie):
    token = client.get("/django/form/").form["csrfmiddlewaretoken"].value
    if not send_cookie:
        client.reset()
    fields = {"name": "Eve", **({"csrfmiddlewaretoken": token} if send_token else {})}
    response = client.post("/django/greet/", fields, status=403)
    assert "CSRF" in response.text


def test_django_refuses_get_on_the_post_handler(client):
    client.get("/django/greet/", status=405)


def test_cli_serves_the_mounted_apps():
    server = Server("framework", "run", "examples.multiapp:application", "--port", "{port}")
    try:
        for path, expected in [("/flask/", "Hello from Flask"), ("/django/", 'href="/django/form/"')]:
            with urllib.request.urlopen(server.url + path, timeout=5) as response:
                assert response.status == 200
                assert expected in response.read().decode("utf-8")
    finally:
        server.stop()
