"""examples/secure.py served by a real gunicorn (two worker processes), visited over HTTP.

A urllib opener with a cookie jar plays the browser: it follows redirects and sends
back the cookies. Two workers: the login cookie one worker signs must be honoured by
the other, and each worker's Django (its own in-memory user table) must log the user
in from ``REMOTE_USER`` alone.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
from servers import Server, require

require("gunicorn", "flask", "django")

PASSWORDS = {"admin": "admin-pass", "guest": "guest-pass"}


@pytest.fixture(scope="module")
def server():
    server = Server("gunicorn", "--bind", "127.0.0.1:{port}", "--workers", "2",
                    "--graceful-timeout", "5", "examples.secure:application", timeout=40)
    yield server
    server.stop()


class Visitor:
    """A browser's memory: cookies, and the last page's URL and text."""

    def __init__(self, server: Server) -> None:
        self.base = server.url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def open(self, path: str, data: dict[str, str] | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, str, str]:
        """``(status, final path, text)``, redirects followed; an error status is an answer."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, body, headers or {})
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.url[len(self.base):], response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.url[len(self.base):], error.read().decode()

    def log_in(self, user: str, next: str = "") -> tuple[int, str, str]:
        """Get the form (and its CSRF token), post it; the answer after the redirect."""
        status, _, page = self.open("/login" + (f"?next={urllib.parse.quote(next)}" if next else ""))
        assert status == 200
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return self.open("/login", {"username": user, "password": PASSWORDS[user],
                                    "csrf_token": token, "next": next})


@pytest.fixture(scope="module")
def admin(server):
    visitor = Visitor(server)
    status, where, page = visitor.log_in("admin")
    assert (status, where) == (200, "/")
    assert "Welcome, admin" in page
    return visitor


@pytest.mark.parametrize(
    ("path", "landing"),
    [
        pytest.param("/admin", "/login?next=%2Fadmin", id="admin"),
        pytest.param("/flask/", "/login?next=%2Fflask%2F", id="flask"),
        pytest.param("/django/", "/login?next=%2Fdjango%2F", id="django"),
    ],
)
def test_before_a_login_each_app_sends_the_browser_to_the_form(server, path, landing):
    status, where, page = Visitor(server).open(path)
    assert (status, where) == (200, landing)
    assert 'name="password"' in page and "Hello from" not in page


@pytest.mark.parametrize("path", ["/flask/", "/django/", "/api/whoami"])
def test_before_a_login_a_json_client_gets_401(server, path):
    status, _, text = Visitor(server).open(path, headers={"Accept": "application/json"})
    assert status == 401
    assert json.loads(text)["error"]["status"] == 401


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("/admin", '<h1 id="admin-title">Admin</h1>', id="admin"),
        pytest.param("/flask/", "Hello from Flask, admin", id="flask"),
        pytest.param("/django/", "Hello from Django, admin", id="django"),
        pytest.param("/api/whoami", '"user":"admin"', id="api"),
    ],
)
def test_after_a_login_every_app_sees_the_user(admin, path, expected):
    for _ in range(3):  # whichever worker answers
        status, _, page = admin.open(path)
        assert status == 200
        assert expected in page


def test_the_guest_is_refused_at_admin_and_sees_the_mounted_apps(server):
    guest = Visitor(server)
    guest.log_in("guest", next="/flask/")
    assert guest.open("/admin")[0] == 403
    assert "Hello from Django, guest" in guest.open("/django/")[2]


def test_the_api_takes_a_bearer_token(server):
    status, _, text = Visitor(server).open("/api/whoami", headers={"Authorization": "Bearer demo-api-token"})
    assert status == 200
    assert json.loads(text) == {"user": "api-bot", "auth": "Bearer"}
    assert Visitor(server).open("/api/whoami", headers={"Authorization": "Bearer nope"})[0] == 401


def test_logout_ends_the_login_for_every_app(server):
    visitor = Visitor(server)
    _, _, home = visitor.log_in("guest")
    token = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
    status, where, page = visitor.open("/logout", {"csrf_token": token, "next": "/logged-out"})
    assert (status, where) == (200, "/")
    assert "Logged out" in page
    for path in ("/flask/", "/django/"):
        assert visitor.open(path)[1].startswith("/login?next=")
