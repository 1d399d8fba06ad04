"""middleware/authorize.py: Authorize's prefix rules, 401/403 by Accept, and its configuration."""

from __future__ import annotations

import pytest
from webtest import TestApp

from framework.testing import validated
from middleware.authorize import Authorize


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello ", (environ.get("REMOTE_USER") or "nobody").encode()]


def is_staff(user, environ):
    return user.endswith("@staff") and environ["REQUEST_METHOD"] in ("GET", "HEAD")


RULES = {
    "/admin": {"alice", "bob"},
    "/admin/billing": frozenset({"carol"}),   # the longest prefix decides
    "/staff": is_staff,
    "/closed": set(),
    "/list": ["dave"],
}


def client():
    return TestApp(validated(Authorize(hello, rules=RULES)))


@pytest.mark.parametrize(
    ("path", "user", "status"),
    [
        pytest.param("/", None, 200, id="no-rule-no-user"),
        pytest.param("/public/x", "mallory", 200, id="no-rule-any-user"),
        pytest.param("/administrator", None, 200, id="segment-boundary"),
        pytest.param("/admin", None, 401, id="no-user"),
        pytest.param("/admin", "", 401, id="empty-user"),
        pytest.param("/admin", "alice", 200, id="in-the-set"),
        pytest.param("/admin/", "bob", 200, id="trailing-slash"),
        pytest.param("/admin/users/7", "bob", 200, id="below"),
        pytest.param("/admin", "mallory", 403, id="not-in-the-set"),
        pytest.param("/admin", "Alice", 403, id="case-matters"),
        pytest.param("/admin/billing", "alice", 403, id="longest-prefix-refuses"),
        pytest.param("/admin/billing/2024", "carol", 200, id="longest-prefix-accepts"),
        pytest.param("/admin/billingx", "alice", 200, id="longer-name-is-the-shorter-rule"),
        pytest.param("/staff/x", "eve@staff", 200, id="callable-accepts"),
        pytest.param("/staff/x", "eve@example.com", 403, id="callable-refuses"),
        pytest.param("/staff", None, 401, id="callable-no-user"),
        pytest.param("/closed", "alice", 403, id="empty-set"),
        pytest.param("/list", "dave", 200, id="a-list-of-names"),
    ],
)
def test_rules(path, user, status):
    environ = {} if user is None else {"REMOTE_USER": user}
    response = client().get(path, extra_environ=environ, status=status)
    if status == 200:
        assert response.text == f"hello {user or 'nobody'}"


def test_the_callable_sees_the_environ():
    client().post("/staff", extra_environ={"REMOTE_USER": "eve@staff"}, status=403)


@pytest.mark.parametrize(
    ("user", "status", "message"),
    [
        pytest.param(None, 401, "Log in to see this page.", id="401"),
        pytest.param("mallory", 403, "You are not allowed to see this page.", id="403"),
    ],
)
def test_errors_in_json_or_html_by_accept(user, status, message):
    environ = {} if user is None else {"REMOTE_USER": user}
    as_json = client().get("/admin", headers={"Accept": "application/json"}, extra_environ=environ,
                           status=status)
    assert as_json.json == {"error": {"status": status, "message": message}}
    as_html = client().get("/admin", headers={"Accept": "text/html"}, extra_environ=environ, status=status)
    assert as_html.content_type == "text/html" and message in as_html.text
    assert as_html.headers["Vary"] == "Accept"
    assert ("WWW-Authenticate" in as_html.headers) is (status == 401)


def test_the_401_challenge():
    assert client().get("/admin", status=401).headers["WWW-Authenticate"] == "Form"
    basic = 'Basic realm="Restricted", charset="UTF-8"'
    layer = TestApp(validated(Authorize(hello, rules=RULES, challenge=basic)))
    assert layer.get("/admin", status=401).headers["WWW-Authenticate"] == basic


def test_cors_preflight_passes():
    client().options("/admin", headers={"Access-Control-Request-Method": "GET", "Origin": "https://a.b"})
    client().options("/admin", status=401)


def test_head_gets_no_body():
    assert client().head("/admin", status=401).body == b""


@pytest.mark.parametrize(
    ("rules", "error", "words"),
    [
        pytest.param({"/admin": "alice"}, TypeError, r"\{'alice'\}", id="a-string-is-not-a-set"),
        pytest.param({"/admin": b"alice"}, TypeError, "string", id="bytes"),
        pytest.param({"/admin": {"alice", 7}}, TypeError, "set of user names", id="not-all-strings"),
        pytest.param({"/admin": {""}}, TypeError, "set of user names", id="empty-name"),
        pytest.param({"/admin": {"alice": True}}, TypeError, "set of user names", id="a-dict"),
        pytest.param({"/admin": None}, TypeError, "set of user names", id="none"),
        pytest.param({"/admin": 3}, TypeError, "set of user names", id="a-number"),
        pytest.param({"admin": {"alice"}}, ValueError, "start with '/'", id="prefix-without-slash"),
        pytest.param({}, TypeError, "needs rules", id="no-rules"),
        pytest.param([("/admin", {"alice"})], TypeError, "needs rules", id="not-a-mapping"),
    ],
)
def test_bad_rules(rules, error, words):
    with pytest.raises(error, match=words):
        Authorize(hello, rules=rules)


@pytest.mark.parametrize("challenge", ["", "   ", "Form\r\nSet-Cookie: x=1", None])
def test_bad_challenge(challenge):
    with pytest.raises(ValueError, match="challenge"):
        Authorize(hello, rules=RULES, challenge=challenge)


def test_describe():
    assert Authorize(hello, rules=RULES).describe() == (
        "Authorize(/admin: 2 users, /admin/billing: 1 user, /staff: is_staff, /closed: 0 users, "
        "/list: 1 user)")


def test_allows_is_a_pure_decision():
    layer = Authorize(hello, rules=RULES)
    assert layer.allows("/admin", "alice", {}) is True
    assert layer.allows("/admin", "mallory", {}) is False
    assert layer.allows("/admin", None, {}) is None
    assert layer.allows("/elsewhere", None, {}) is True
