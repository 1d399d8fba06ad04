"""examples/multiapp.py served by a real gunicorn (two worker processes), queried over HTTP.

Two workers: a session or CSRF cookie written by one worker must be accepted by the other,
and every prefix must survive a real server's environ (SCRIPT_NAME "", RAW_URI, ...).
"""

from __future__ import annotations

import http.client
import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
from servers import Server, require

require("gunicorn", "flask", "django")


@pytest.fixture(scope="module")
def server():
    server = Server("gunicorn", "--bind", "127.0.0.1:{port}", "--workers", "2",
                    "--graceful-timeout", "5", "examples.multiapp:application")
    yield server
    server.stop()


@pytest.fixture
def browser():
    """A urllib opener that keeps cookies, as a browser would."""
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def fetch(browser, url, data=None):
    """``(status, text)``; an HTTP error status is an answer here, not an exception."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with browser.open(url, body, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode("utf-8")


@pytest.mark.parametrize(
    ("path", "status", "expected"),
    [
        pytest.param("/", 200, '<a href="/django/">Django</a>', id="home"),
        pytest.param("/flask/", 200, "Hello from Flask", id="flask"),
        pytest.param("/flask/link", 200, "/flask/session/get", id="flask-url_for-has-prefix"),
        pytest.param("/django/", 200, 'href="/django/form/"', id="django-reverse-has-prefix"),
        pytest.param("/flaskx", 404, "404", id="segment-boundary"),
    ],
)
def test_gunicorn_serves_each_app_under_its_prefix(server, browser, path, status, expected):
    answer = fetch(browser, server.url + path)
    assert answer[0] == status
    assert expected in answer[1]


@pytest.mark.parametrize(
    ("path", "status", "location"),
    [
        pytest.param("/flask", 308, "/flask/", id="flask-strict-slashes"),
        pytest.param("/django/form", 301, "/django/form/", id="django-append-slash"),
    ],
)
def test_gunicorn_redirects_keep_the_prefix(server, path, status, location):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        assert response.status == status
        assert urllib.parse.urlsplit(response.getheader("Location")).path == location
    finally:
        connection.close()


def test_gunicorn_flask_session_round_trip(server, browser):
    for value in ("tea", "coffee"):  # each request may reach either worker
        assert fetch(browser, f"{server.url}/flask/session/set/{value}") == (200, "stored")
        assert fetch(browser, f"{server.url}/flask/session/get") == (200, value)
    assert fetch(urllib.request.build_opener(), f"{server.url}/flask/session/get") == (200, "")


def test_gunicorn_django_csrf_form(server, browser):
    status, page = fetch(browser, server.url + "/django/form/")
    assert status == 200
    action = re.search(r'action="([^"]+)"', page)[1]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    assert action == "/django/greet/"
    assert fetch(browser, server.url + action, {"name": "Ann"})[0] == 403  # no token
    assert fetch(browser, server.url + action, {"csrfmiddlewaretoken": token, "name": "Ann"}) == (
        200, "Hello, Ann!")
