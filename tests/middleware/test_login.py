"""middleware/login.py: FormLogin's page, cookie, CSRF, redirects, logout and bad input."""

from __future__ import annotations

import json
import logging
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer
from webtest import TestApp
from werkzeug.security import generate_password_hash

from framework import App
from framework.testing import TestClient, validated
from middleware.authorize import Authorize
from middleware.login import FormLogin

FAST = "pbkdf2:sha256:1000"  # cheap hashes keep the tests quick; production uses the default
USERS = {"alice": generate_password_hash("s3cret", method=FAST),
         "jörg": generate_password_hash("pässword", method=FAST)}
KEY = "test key"


class Body:
    """A response iterable that records its ``close()``."""

    closed = 0

    def __init__(self, chunks):
        self.chunks = chunks

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        Body.closed += 1


def whoami(environ, start_response):
    """Answers who the request is from, in JSON (or HTML under /page)."""
    seen = {"user": environ.get("REMOTE_USER"), "auth_type": environ.get("AUTH_TYPE"),
            "csrf_token": environ.get("framework.csrf_token")}
    if environ["PATH_INFO"].startswith("/page"):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return Body([b"<p>", json.dumps(seen).encode(), b"</p>"])
    start_response("200 OK", [("Content-Type", "application/json")])
    return Body([json.dumps(seen).encode()])


def make(app=whoami, environ=None, **options):
    options.setdefault("users", USERS)
    options.setdefault("secret_key", KEY)
    options.setdefault("protect", ["/admin", "/page/private"])
    return TestApp(validated(FormLogin(app, **options)),
                   extra_environ={"REMOTE_ADDR": "127.0.0.1", **(environ or {})})


def seen(response):
    text = response.text
    return json.loads(text[text.index("{"):text.rindex("}") + 1])


def log_in(client, username="alice", password="s3cret", next_value=""):
    form = client.get("/login").forms[0]
    form["username"], form["password"], form["next"] = username, password, next_value
    return form.submit()


def token(client):
    """The current CSRF token, as the app inside sees it."""
    return seen(client.get("/page"))["csrf_token"]


def cookie_attributes(header):
    name_value, *attributes = header.split("; ")
    return name_value.split("=", 1), attributes


# -- the login page -------------------------------------------------------------------------------


def test_the_builtin_login_page():
    client = make()
    page = client.get("/login", params={"next": "/admin"})
    assert page.status_int == 200 and page.content_type == "text/html"
    assert page.headers["Cache-Control"] == "no-store" and page.headers["X-Frame-Options"] == "DENY"
    form = page.forms[0]
    assert form.method.upper() == "POST" and form.action == "/login"
    assert set(form.fields) >= {"username", "password", "csrf_token", "next"}
    assert form["next"].value == "/admin"
    assert form["csrf_token"].value == token(client)  # the cookie set with the page makes it valid
    assert '<label for="username">' in page.text and 'autocomplete="current-password"' in page.text


def test_the_login_page_escapes_what_it_shows():
    client = make()
    page = client.get("/login", params={"next": '/a"><script>alert(1)</script>'})
    assert "<script>alert" not in page.text
    form = page.forms[0]
    form["username"], form["password"] = "<b>mallory</b>", "x"
    again = form.submit(status=200)
    assert "<b>mallory</b>" not in again.text and "&lt;b&gt;mallory&lt;/b&gt;" in again.text


def test_head_of_the_login_page_has_no_body():
    response = make().head("/login")
    assert response.status_int == 200 and response.body == b""


def test_the_apps_own_login_template_wins(tmp_path):
    (tmp_path / "login.html").write_text(
        "<h1>Our login</h1><form method=post action='{{ action }}'>"
        "<input name=csrf_token value='{{ csrf_token() }}'><input name=username>"
        "<input name=password><input name=next value='{{ next }}'></form>"
        "{{ request.path }} {{ error or '' }}")
    app = App("ownlogin", template_folder=str(tmp_path))

    @app.get("/admin")
    def admin(request):
        return {"user": request.remote_user}

    client = make(app)
    page = client.get("/login")
    assert "<h1>Our login</h1>" in page.text and "/login" in page.text  # the app's request too
    form = page.forms[0]
    form["username"], form["password"], form["next"] = "alice", "s3cret", "/admin"
    assert form.submit(status=303).follow().json == {"user": "alice"}


def test_an_app_without_login_html_gets_the_builtin_page_through_authorize(tmp_path):
    app = App("nologin", template_folder=str(tmp_path))
    client = make(Authorize(app, rules={"/admin": {"alice"}}))
    assert 'id="username"' in client.get("/login").text


def test_a_templates_folder_option(tmp_path):
    (tmp_path / "mine.html").write_text("mine {{ csrf_token() }}")
    client = make(templates=str(tmp_path), template="mine.html")
    assert client.get("/login").text == "mine " + token(client)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_on_the_login_path_are_405(method):
    response = make().request("/login", method=method, status=405)
    assert response.headers["Allow"] == "GET, HEAD, POST"


# -- logging in -----------------------------------------------------------------------------------


def test_login_sets_the_cookie_and_later_requests_see_the_user():
    client = make()
    response = log_in(client, next_value="/admin/x?a=1")
    assert response.status_int == 303 and response.headers["Location"] == "/admin/x?a=1"
    (name, value), attributes = cookie_attributes(response.headers["Set-Cookie"])
    assert name == "login" and value
    assert attributes[0].startswith("Expires=")
    assert attributes[1:] == ["Max-Age=1209600", "HttpOnly", "Path=/", "SameSite=Lax"]
    assert seen(client.get("/admin/x")) == {"user": "alice", "auth_type": "Form",
                                           "csrf_token": token(client)}


def test_secure_strict_cookie_attributes():
    client = make(secure=True, samesite="strict", max_age=600, cookie_name="__Host-login",
                  environ={"wsgi.url_scheme": "https", "HTTPS": "on"})
    response = log_in(client)
    (name, _), attributes = cookie_attributes(response.headers["Set-Cookie"])
    assert name == "__Host-login"
    assert attributes[1:] == ["Max-Age=600", "Secure", "HttpOnly", "Path=/", "SameSite=Strict"]


def test_a_non_ascii_user_name():
    client = make()
    log_in(client, "jörg", "pässword")
    assert seen(client.get("/admin"))["user"] == "jörg"


def test_login_under_a_script_name_goes_back_to_the_mounts_root():
    client = make()
    page = client.get("/login", extra_environ={"SCRIPT_NAME": "/app"})
    assert page.forms[0].action == "/app/login"
    response = client.post("/login", {"username": "alice", "password": "s3cret", "csrf_token":
                                      page.forms[0]["csrf_token"].value},
                           extra_environ={"SCRIPT_NAME": "/app"}, status=303)
    assert response.headers["Location"] == "/app/"


def test_the_csrf_token_changes_at_login():
    client = make()
    before = token(client)
    log_in(client)
    after = token(client)
    assert before != after and after == token(client)
    client.post("/logout", {"csrf_token": before}, status=403)


def test_a_wrong_password_shows_the_form_again_and_is_logged(caplog):
    client = make()
    with caplog.at_level(logging.INFO, logger="middleware.auth"):
        page = log_in(client, "alice", "wrong-pw-123", "/admin")
        log_in(client, "nobody", "other-pw-456")
    assert page.status_int == 200 and "Set-Cookie" not in page.headers
    assert "Wrong user name or password." in page.text and 'role="alert"' in page.text
    assert page.forms[0]["username"].value == "alice" and page.forms[0]["next"].value == "/admin"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "middleware.auth"]
    assert [r.getMessage() for r in warnings] == ["Failed login for 'alice' from 127.0.0.1",
                                                   "Failed login for 'nobody' from 127.0.0.1"]
    assert not any(pw in caplog.text for pw in ("wrong-pw-123", "other-pw-456"))
    client.get("/admin", status=303)


def test_verify_instead_of_users():
    client = make(users=None, verify=lambda name, password: (name, password) == ("carol", "pw"))
    assert log_in(client, "carol", "pw").status_int == 303
    assert seen(client.get("/admin"))["user"] == "carol"


# -- CSRF -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({}, id="missing"),
        pytest.param({"csrf_token": ""}, id="empty"),
        pytest.param({"csrf_token": "x" * 43}, id="wrong"),
        pytest.param({"csrf_token": "é" * 43}, id="non-ascii"),
        pytest.param({"csrf_token": ["one", "two"]}, id="twice"),
    ],
)
@pytest.mark.parametrize("path", ["/login", "/logout"])
def test_a_missing_or_wrong_csrf_token_is_403(path, fields):
    client = make()
    log_in(client)
    response = client.post(path, {"username": "alice", "password": "s3cret", **fields}, status=403)
    assert "CSRF" in response.text and "Set-Cookie" not in response.headers
    assert seen(client.get("/admin"))["user"] == "alice"  # still logged in


def test_a_token_from_another_browser_is_403():
    theirs, ours = make(), make()
    stolen = theirs.get("/login").forms[0]["csrf_token"].value
    ours.get("/login")
    ours.post("/login", {"username": "alice", "password": "s3cret", "csrf_token": stolen}, status=403)


def test_a_token_without_any_cookie_is_403():
    client = make()
    value = client.get("/login").forms[0]["csrf_token"].value
    client.reset()
    client.post("/login", {"username": "alice", "password": "s3cret", "csrf_token": value}, status=403)


def test_the_csrf_403_is_json_for_a_json_client():
    response = make().post("/logout", {}, headers={"Accept": "application/json"}, status=403)
    assert response.json["error"]["status"] == 403


# -- the cookie -----------------------------------------------------------------------------------


def test_an_anonymous_cookie_only_on_html_responses():
    client = make()
    assert "Set-Cookie" not in client.get("/").headers          # JSON
    first = client.get("/page").headers["Set-Cookie"]             # HTML: the token needs it
    assert first.startswith("login=")
    assert "Set-Cookie" not in client.get("/page").headers       # kept, not sent again


def bad_cookies():
    signer = URLSafeTimedSerializer(KEY, salt="middleware.login")
    return [
        pytest.param("garbage", id="garbage"),
        pytest.param("x" * 8000, id="8KB"),
        pytest.param("eyJuIjoi.x.y", id="bad-base64"),
        pytest.param(URLSafeTimedSerializer("other key", salt="middleware.login").dumps(
            {"n": "n", "u": "alice"}), id="other-key"),
        pytest.param(URLSafeTimedSerializer(KEY, salt="other").dumps({"n": "n", "u": "alice"}),
                     id="other-salt"),
        pytest.param(signer.dumps(["alice"]), id="a-list"),
        pytest.param(signer.dumps({"u": "alice"}), id="no-nonce"),
        pytest.param(signer.dumps({"n": "n", "u": 7}), id="user-not-a-string"),
        pytest.param(signer.dumps({"n": "n", "u": ""}), id="empty-user"),
    ]


@pytest.mark.parametrize("value", bad_cookies())
def test_a_bad_cookie_is_logged_out_never_an_error(value):
    client = make()
    client.set_cookie("login", value)
    client.get("/admin", status=303)
    assert seen(client.get("/"))["user"] is None


def test_a_tampered_cookie_is_logged_out():
    client = make()
    log_in(client)
    value = client.cookies["login"]
    client.reset()  # WebTest would send the good cookie beside the one set by hand
    for at in (3, value.index(".") + 2, len(value) - 3):  # the payload, the timestamp, the signature
        client.set_cookie("login", value[:at] + ("A" if value[at] != "A" else "B") + value[at + 1:])
        client.get("/admin", status=303)


def test_an_expired_cookie_is_refused_server_side(monkeypatch):
    layer = FormLogin(whoami, users=USERS, secret_key=KEY, max_age=60, protect=["/admin"])
    client = TestApp(validated(layer))
    log_in(client)
    assert seen(client.get("/admin"))["user"] == "alice"
    old = layer._serializer.dumps({"n": "n", "u": "alice"})
    import itsdangerous.timed

    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: 4_000_000_000)
    client.reset()
    client.set_cookie("login", old)  # the browser kept it past Max-Age: replayed
    client.get("/admin", status=303)


def test_a_cookie_accepted_before_is_refused_once_expired(monkeypatch):
    layer = FormLogin(whoami, users=USERS, secret_key=KEY, max_age=60, protect=["/admin"])
    client = TestApp(validated(layer))
    log_in(client)
    assert seen(client.get("/admin"))["user"] == "alice"  # verified, and remembered
    import itsdangerous.timed

    now = itsdangerous.timed.time.time()
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: now + 61)
    client.get("/admin", status=303)


@pytest.mark.parametrize(
    ("header", "user"),
    [
        pytest.param("login={good}", "alice", id="alone"),
        pytest.param("a=1; login={good}; b=2", "alice", id="among-others"),
        pytest.param('login="{good}"', "alice", id="quoted"),
        pytest.param("login={good};login=junk", "alice", id="first-of-two"),
        pytest.param("login=junk; login={good}", None, id="first-is-junk"),
        pytest.param("xlogin={good}", None, id="another-name-ending-alike"),
        pytest.param("login_x={good}", None, id="another-name-starting-alike"),
        pytest.param("a=login={good}", None, id="inside-another-value"),
    ],
)
def test_which_cookie_is_read(header, user):
    good = URLSafeTimedSerializer(KEY, salt="middleware.login").dumps({"n": "n", "u": "alice"})
    layer = FormLogin(whoami, users=USERS, secret_key=KEY, protect=["/admin"])
    client = TestClient(validated(layer), use_cookies=False)
    response = client.get("/", headers={"Cookie": header.format(good=good)})
    assert response.json["user"] == user


def test_key_rotation_the_first_signs_all_verify():
    old = make(secret_key="old key")
    log_in(old)
    client = make(secret_key=["new key", "old key"])
    client.set_cookie("login", old.cookies["login"])
    assert seen(client.get("/admin"))["user"] == "alice"
    fresh = make(secret_key=["new key", "old key"])
    log_in(fresh)
    URLSafeTimedSerializer("new key", salt="middleware.login").loads(fresh.cookies["login"])
    gone = make(secret_key="new key")
    gone.set_cookie("login", old.cookies["login"])
    gone.get("/admin", status=303)


# -- protected paths ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "script_name", "location"),
    [
        pytest.param("/admin", "", "/login?next=%2Fadmin", id="path"),
        pytest.param("/admin/x?a=1&b=%2F", "", "/login?next=%2Fadmin%2Fx%3Fa%3D1%26b%3D%252F", id="query"),
        pytest.param("/admin/caf%C3%A9", "", "/login?next=%2Fadmin%2Fcaf%25C3%25A9", id="utf8"),
        pytest.param("/admin", "/app", "/app/login?next=%2Fapp%2Fadmin", id="script-name"),
    ],
)
def test_a_browser_is_sent_to_the_login_page(url, script_name, location):
    response = make().get(url, extra_environ={"SCRIPT_NAME": script_name}, status=303)
    assert response.headers["Location"] == location
    assert response.headers["Vary"] == "Accept"


def test_the_round_trip_from_a_protected_page_back_to_it():
    client = make()
    page = client.get("/admin/x?a=1", status=303).follow()
    form = page.forms[0]
    form["username"], form["password"] = "alice", "s3cret"
    assert seen(form.submit(status=303).follow())["user"] == "alice"


def test_a_json_client_gets_401():
    response = make().get("/admin", headers={"Accept": "application/json"}, status=401)
    assert response.json == {"error": {"status": 401, "message": "Log in to see this page."}}
    assert response.headers["WWW-Authenticate"] == "Form"


@pytest.mark.parametrize(
    ("options", "url", "status"),
    [
        pytest.param({}, "/", 200, id="unprotected"),
        pytest.param({}, "/administrator", 200, id="segment-boundary"),
        pytest.param({"exempt": ["/admin/help"]}, "/admin/help/x", 200, id="exempt"),
        pytest.param({"protect": None}, "/", 303, id="protect-everything"),
        pytest.param({"protect": None}, "/login", 200, id="the-login-page-itself"),
    ],
)
def test_scope(options, url, status):
    assert make(**options).get(url, status=status)


def test_cors_preflight_passes():
    client = make()
    client.options("/admin", headers={"Access-Control-Request-Method": "POST", "Origin": "https://a.b"})
    client.options("/admin", status=303)  # a plain OPTIONS is guarded like any request


def test_a_user_set_by_an_outer_layer_is_kept():
    response = make().get("/admin", extra_environ={"REMOTE_USER": "bob", "AUTH_TYPE": "Basic"})
    assert seen(response)["user"] == "bob" and seen(response)["auth_type"] == "Basic"


def test_the_body_streams_through_and_is_closed():
    client = make()
    log_in(client)
    before = Body.closed
    assert client.get("/page/private").text.startswith("<p>")
    assert Body.closed == before + 1


# -- logging out ----------------------------------------------------------------------------------


def test_logout_clears_the_cookie():
    client = make()
    log_in(client)
    response = client.post("/logout", {"csrf_token": token(client)}, status=303)
    assert response.headers["Location"] == "/"
    (name, value), attributes = cookie_attributes(response.headers["Set-Cookie"])
    assert (name, value) == ("login", "")
    assert attributes == ["Expires=Thu, 01 Jan 1970 00:00:00 GMT", "Max-Age=0", "HttpOnly", "Path=/",
                          "SameSite=Lax"]
    client.get("/admin", status=303)


def test_logout_is_logged(caplog):
    client = make()
    log_in(client)
    with caplog.at_level(logging.INFO, logger="middleware.auth"):
        client.post("/logout", {"csrf_token": token(client)}, status=303)
    assert "Logout: 'alice' from 127.0.0.1" in caplog.text


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT"])
def test_logout_by_another_method_is_405(method):
    response = make().request("/logout", method=method, status=405)
    assert response.headers["Allow"] == "POST"


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        pytest.param(b"username=\xff\xfe&password=\xff", "application/x-www-form-urlencoded", 403,
                     id="not-utf8"),
        pytest.param(b"a=" + b"x" * 70_000, "application/x-www-form-urlencoded", 413, id="huge"),
        pytest.param(b"--x\r\njunk", "multipart/form-data; boundary=x", 403, id="broken-multipart"),
        pytest.param(b"x", "multipart/form-data", 403, id="multipart-no-boundary"),
        pytest.param(b'{"username": "alice"}', "application/json", 403, id="json"),
        pytest.param(b"", "", 403, id="empty"),
    ],
)
@pytest.mark.parametrize("path", ["/login", "/logout"])
def test_bad_bodies_are_4xx(path, body, content_type, status):
    client = make()
    client.get("/login")
    client.post(path, body, content_type=content_type, status=status)


# -- configuration --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        pytest.param({"users": None}, TypeError, "exactly one", id="no-users"),
        pytest.param({"secret_key": ""}, TypeError, "secret_key", id="empty-key"),
        pytest.param({"secret_key": []}, TypeError, "secret_key", id="no-keys"),
        pytest.param({"secret_key": 42}, TypeError, "secret_key", id="key-not-a-string"),
        pytest.param({"login_path": "login"}, ValueError, "login_path", id="relative-login-path"),
        pytest.param({"logout_path": "/login"}, ValueError, "differ", id="same-paths"),
        pytest.param({"protect": "/admin"}, TypeError, "list", id="protect-a-string"),
        pytest.param({"cookie_name": "my cookie"}, ValueError, "cookie_name", id="bad-cookie-name"),
        pytest.param({"cookie_name": "__Host-x"}, ValueError, "secure", id="host-prefix-needs-secure"),
        pytest.param({"max_age": 0}, ValueError, "max_age", id="max-age-zero"),
        pytest.param({"max_age": True}, ValueError, "max_age", id="max-age-bool"),
        pytest.param({"samesite": "lots"}, ValueError, "samesite", id="bad-samesite"),
        pytest.param({"samesite": "None"}, ValueError, "secure", id="samesite-none-needs-secure"),
        pytest.param({"template": ""}, TypeError, "template", id="empty-template"),
        pytest.param({"templates": "/no/such/folder"}, ValueError, "does not exist", id="no-folder"),
    ],
)
def test_bad_configuration(options, error, words):
    with pytest.raises(error, match=words):
        FormLogin(whoami, **{"users": USERS, "secret_key": KEY, **options})


def test_describe_shows_no_secret():
    line = FormLogin(whoami, users=USERS, secret_key="hush-hush", protect=["/admin"]).describe()
    assert line == ("FormLogin(2 users, login_path='/login', logout_path='/logout', protect=['/admin'], "
                    "exempt=[], cookie_name='login', max_age=1209600, secure=False, samesite='Lax')")
    assert "hush" not in line and "pbkdf2" not in line and re.search("alice", line) is None


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_cookie_header_is_anonymous_never_an_error(header):
    layer = validated(FormLogin(whoami, users=USERS, secret_key=KEY, protect=["/admin"]))
    response = TestClient(layer, use_cookies=False).get("/admin", headers={"Cookie": "login=" + header})
    assert response.status_code == 303


@pytest.mark.parametrize(
    ("path", "query", "status"),
    [
        pytest.param("/login", "next=\xff\xfe%ff", 200, id="login-query-not-utf8"),
        pytest.param("/login", "&".join(["a=1"] * 100), 200, id="login-query-many-fields"),
        pytest.param("/admin/\xc3\xa9\xff", "a=\xff&b=%zz", 303, id="protected-path-not-utf8"),
    ],
)
def test_bytes_that_are_not_utf8_are_no_error(path, query, status):
    client = TestClient(validated(FormLogin(whoami, users=USERS, secret_key=KEY, protect=["/admin"])))
    response = client.get(environ_overrides={"PATH_INFO": path, "QUERY_STRING": query})
    assert response.status_code == status


def test_the_builtin_page_shows_flashed_messages_when_the_app_has_them(tmp_path):
    app = App("flashing", template_folder=str(tmp_path))
    app.jinja_env.globals["get_flashed_messages"] = lambda with_categories=False: [
        ("message", "You were logged out.")]
    page = make(app).get("/login")
    assert '<p class="flash message" role="status">You were logged out.</p>' in page.text
    assert "flash" not in make().get("/login").text.split("</style>")[1]  # no Sessions: nothing
