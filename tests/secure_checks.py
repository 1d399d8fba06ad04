"""examples/secure.py in process: WebTest through ``framework.testing.validated``.

Django takes one configuration per process and ``examples/multiapp.py`` (which other
tests import) takes it its own way, so these checks run in a fresh interpreter:
``tests/test_examples.py::test_secure_example_in_a_process_of_its_own`` runs this
file. The name is not ``test_*.py`` so that the main test session does not collect it;
run it alone with ``python -m pytest tests/secure_checks.py``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from webtest import TestApp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `examples` is a namespace package at the repository root
    sys.path.insert(0, str(ROOT))

from examples import secure  # noqa: E402
from framework.testing import validated  # noqa: E402

JSON = {"Accept": "application/json"}
TOKEN = {"Authorization": "Bearer demo-api-token"}
PASSWORDS = {"admin": "admin-pass", "guest": "guest-pass"}


#: The whole site, every layer and app in it validated; built once (a FormLogin makes a
#: password hash of its own when built, for unknown users: a third of a second).
SITE = validated(secure.create_app())


def new_client() -> TestApp:
    """A browser-like client of the site: its own cookies, so its own login."""
    return TestApp(SITE)


def log_in(client: TestApp, user: str, password: str | None = None, next: str = ""):
    """Fill in and post the login form as a browser would; returns the answer to the post."""
    page = client.get("/login", {"next": next} if next else {})
    form = page.forms[0]
    form["username"] = user
    form["password"] = PASSWORDS[user] if password is None else password
    return form.submit()


@pytest.fixture
def client() -> TestApp:
    return new_client()


@pytest.fixture(scope="module")
def logged_in() -> dict[str, TestApp]:
    """One logged-in client per demo user, shared by the read-only checks (logins are slow)."""
    clients = {}
    for user in PASSWORDS:
        clients[user] = new_client()
        assert log_in(clients[user], user).status_int == 303
    return clients


# -- before a login -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "location"),
    [
        pytest.param("/account", "/login?next=%2Faccount", id="account"),
        pytest.param("/admin", "/login?next=%2Fadmin", id="admin"),
        pytest.param("/flask/", "/login?next=%2Fflask%2F", id="flask"),
        pytest.param("/django/", "/login?next=%2Fdjango%2F", id="django"),
    ],
)
def test_a_browser_without_a_login_is_sent_to_the_form(client, path, location):
    response = client.get(path, status=303)
    assert response.headers["Location"].endswith(location)
    assert "Hello from" not in response.text


@pytest.mark.parametrize("path", ["/account", "/admin", "/flask/", "/django/", "/api/whoami"])
def test_a_json_client_without_a_login_gets_401(client, path):
    response = client.get(path, headers=JSON, status=401)
    assert response.json["error"]["status"] == 401
    assert "WWW-Authenticate" in response.headers


def test_the_home_page_is_public_and_offers_the_login(client):
    page = client.get("/")
    assert "You are not logged in" in page.text
    assert 'href="/login"' in page.text
    assert "Log out" not in page.text


def test_the_login_page_is_the_built_in_form(client):
    page = client.get("/login?next=/admin")
    form = page.forms[0]
    assert form.action == "/login" and form.method.upper() == "POST"
    assert {"username", "password", "csrf_token", "next"} <= set(form.fields)
    assert form["next"].value == "/admin"


def test_a_wrong_password_shows_the_form_again_and_logs_nobody_in(client):
    page = log_in(client, "admin", "wrong")
    assert page.status_int == 200
    assert "Wrong user name or password." in page.text
    client.get("/admin", status=303)


# -- the API: a bearer token ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status", "challenge"),
    [
        pytest.param({}, 401, "Bearer", id="no-token"),
        pytest.param({"Authorization": "Bearer wrong"}, 401, 'Bearer error="invalid_token"',
                     id="wrong-token"),
        pytest.param({"Authorization": "Basic YWRtaW46YWRtaW4tcGFzcw=="}, 401, "Bearer", id="other-scheme"),
        pytest.param(TOKEN, 200, None, id="token"),
    ],
)
def test_the_api_takes_a_bearer_token(client, headers, status, challenge):
    response = client.get("/api/whoami", headers={**JSON, **headers}, status=status)
    if challenge is None:
        assert response.json == {"user": "api-bot", "auth": "Bearer"}
    else:
        assert response.headers["WWW-Authenticate"] == challenge
        assert response.json["error"]["status"] == 401


def test_a_logged_in_browser_may_use_the_api_too(logged_in):
    assert logged_in["guest"].get("/api/whoami").json == {"user": "guest", "auth": "Form"}


# -- after a login: every app sees the user ---------------------------------------------------


@pytest.mark.parametrize(
    ("user", "path", "expected"),
    [
        pytest.param("admin", "/", "You are logged in as <strong>admin</strong>", id="home-admin"),
        pytest.param("admin", "/account", '<strong id="account-user">admin</strong>', id="account-admin"),
        pytest.param("admin", "/admin", '<h1 id="admin-title">Admin</h1>', id="admin-admin"),
        pytest.param("admin", "/flask/", "Hello from Flask, admin", id="flask-admin"),
        pytest.param("admin", "/django/", "Hello from Django, admin", id="django-admin"),
        pytest.param("guest", "/account", '<strong id="account-user">guest</strong>', id="account-guest"),
        pytest.param("guest", "/flask/", "Hello from Flask, guest", id="flask-guest"),
        pytest.param("guest", "/django/", "Hello from Django, guest", id="django-guest"),
    ],
)
def test_every_app_sees_the_logged_in_user(logged_in, user, path, expected):
    response = logged_in[user].get(path)
    assert response.status_int == 200
    assert expected in response.text


@pytest.mark.parametrize(
    ("headers", "check"),
    [
        pytest.param({}, lambda r: "Forbidden" in r.text, id="html"),
        pytest.param(JSON, lambda r: r.json["error"]["status"] == 403, id="json"),
    ],
)
def test_the_guest_may_not_enter_admin(logged_in, headers, check):
    response = logged_in["guest"].get("/admin", headers=headers, status=403)
    assert check(response)
    assert "Admin</h1>" not in response.text


def test_django_knows_the_user_through_remote_user_backend(logged_in):
    """RemoteUserBackend created a Django user on first sight; Django's own session is kept to /django."""
    from django.contrib.auth import get_user_model

    logged_in["admin"].get("/django/", status=200)
    assert get_user_model().objects.filter(username="admin").exists()
    cookies = {cookie.name: cookie.path for cookie in logged_in["admin"].cookiejar}
    assert cookies.get("sessionid") == "/django"


# -- the whole visit: next, flash messages once, logout ---------------------------------------


def test_a_login_leads_back_to_the_page_asked_for(client):
    asked = client.get("/admin", status=303).follow()
    form = asked.forms[0]
    form["username"], form["password"] = "admin", "admin-pass"
    response = form.submit(status=303)
    assert response.headers["Location"] == "/admin"
    assert '<h1 id="admin-title">Admin</h1>' in response.follow().text


def test_the_welcome_is_flashed_once(client):
    landing = log_in(client, "admin").maybe_follow()
    assert "Welcome, admin" in landing.text
    assert "Welcome, admin" not in client.get("/").text
    assert "Welcome, admin" not in client.get("/account").text


def csrf_of(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_logout_flashes_and_ends_the_login_everywhere(client):
    home = log_in(client, "guest").maybe_follow()
    form = next(form for form in home.forms.values() if form.action == "/logout")
    bye = form.submit(status=303)
    assert bye.headers["Location"] == "/logged-out"
    page = bye.follow(status=303).follow()
    assert "Logged out" in page.text
    assert "You are not logged in" in page.text
    assert "Logged out" not in client.get("/").text  # shown once
    for path in ("/account", "/flask/", "/django/"):
        client.get(path, status=303)
    client.get("/api/whoami", headers=JSON, status=401)


@pytest.mark.parametrize(
    "token",
    [pytest.param(None, id="missing"), pytest.param("forged", id="wrong")],
)
def test_logout_needs_the_csrf_token(client, token):
    home = log_in(client, "guest").maybe_follow()
    assert csrf_of(home)
    data = {} if token is None else {"csrf_token": token}
    client.post("/logout", data, status=403)
    assert client.get("/account").status_int == 200  # still logged in


def test_the_stack_lists_the_layers_outermost_first():
    lines = secure.application.describe()
    assert [line.split("(")[0] for line in lines[:5]] == [
        "Sessions", "FormLogin", "TokenAuth", "Authorize", "Mount"]
