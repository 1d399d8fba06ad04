"""middleware/login.py's safe_next: the open-redirect table, pure and through the layer."""

from __future__ import annotations

from urllib.parse import unquote, urljoin, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from webtest import TestApp
from werkzeug.security import generate_password_hash

from framework.testing import validated
from middleware.login import FormLogin, safe_next

ACCEPTED = [
    pytest.param("/", id="root"),
    pytest.param("/admin", id="path"),
    pytest.param("/admin/users/", id="trailing-slash"),
    pytest.param("/admin?tab=users&page=2", id="query"),
    pytest.param("/search?q=a%20b", id="encoded-space-in-query"),
    pytest.param("/search?url=https://evil.com", id="url-in-query-is-data"),
    pytest.param("/search?next=//evil.com", id="double-slash-in-query-is-data"),
    pytest.param("/docs#install", id="fragment"),
    pytest.param("/wiki/Caf%C3%A9", id="encoded-utf8"),
    pytest.param("/a%2520b", id="encoded-percent"),
    pytest.param("/files/report.v2.pdf", id="dots-in-a-name"),
    pytest.param("/.well-known/x", id="dot-prefixed-segment"),
    pytest.param("/a:b", id="colon-in-path"),
    pytest.param("/@evil.com", id="at-sign-path"),
]

REFUSED = [
    # another host, however spelled
    pytest.param("//evil.com", id="scheme-relative"),
    pytest.param("///evil.com", id="triple-slash"),
    pytest.param("////evil.com", id="four-slashes"),
    pytest.param("https://evil.com", id="absolute-https"),
    pytest.param("http://evil.com/", id="absolute-http"),
    pytest.param("https://example.com/admin", id="absolute-same-host-only-paths-allowed"),
    pytest.param("http:evil.com", id="scheme-without-slashes"),
    pytest.param("http:/evil.com", id="scheme-one-slash"),
    pytest.param("HTTPS://evil.com", id="uppercase-scheme"),
    pytest.param("evil.com", id="bare-host"),
    pytest.param("admin", id="relative-path"),
    pytest.param("./admin", id="dot-relative"),
    pytest.param("../admin", id="dotdot-relative"),
    # backslashes: browsers read them as slashes
    pytest.param("/\\evil.com", id="slash-backslash"),
    pytest.param("\\\\evil.com", id="two-backslashes"),
    pytest.param("\\/evil.com", id="backslash-slash"),
    pytest.param("/admin\\..\\..", id="backslash-inside"),
    pytest.param("/search?q=\\", id="backslash-in-query"),
    # encoded slashes and backslashes
    pytest.param("%2F%2Fevil.com", id="encoded-double-slash"),
    pytest.param("%2f%2fevil.com", id="encoded-double-slash-lowercase"),
    pytest.param("/%2F/evil.com", id="slash-encoded-slash"),
    pytest.param("/%2Fevil.com", id="slash-then-encoded-slash"),
    pytest.param("/%252F%252Fevil.com", id="double-encoded-slashes"),
    pytest.param("/%25252F%25252Fevil.com", id="triple-encoded-slashes"),
    pytest.param("/%2525252Fa", id="encoded-four-times"),
    pytest.param("%5C%5Cevil.com", id="encoded-backslashes"),
    pytest.param("/%5Cevil.com", id="slash-encoded-backslash"),
    pytest.param("/%5cevil.com", id="slash-encoded-backslash-lowercase"),
    pytest.param("/%255Cevil.com", id="slash-double-encoded-backslash"),
    # dot segments a browser or a later redirect could fold into "//"
    pytest.param("/.//evil.com", id="dot-double-slash"),
    pytest.param("/./evil.com", id="dot-segment"),
    pytest.param("/a/../admin", id="dotdot-segment"),
    pytest.param("/%2E%2E/admin", id="encoded-dotdot-segment"),
    pytest.param("/%2e//evil.com", id="encoded-dot-double-slash"),
    pytest.param("/admin//x", id="double-slash-inside"),
    # schemes that run code
    pytest.param("javascript:alert(1)", id="javascript"),
    pytest.param("JavaScript:alert(1)", id="javascript-mixed-case"),
    pytest.param("data:text/html,<script>alert(1)</script>", id="data-url"),
    pytest.param("vbscript:msgbox(1)", id="vbscript"),
    # whitespace and control characters: browsers drop tabs and newlines inside URLs
    pytest.param("\t//evil.com", id="tab-then-scheme-relative"),
    pytest.param("/\t/evil.com", id="slash-tab-slash"),
    pytest.param(" //evil.com", id="space-then-scheme-relative"),
    pytest.param("/\n/evil.com", id="newline-inside"),
    pytest.param("/admin\r\nSet-Cookie: x=1", id="header-injection"),
    pytest.param("/\x00/evil.com", id="nul"),
    pytest.param("/\x7f", id="del"),
    pytest.param("/%0A/evil.com", id="encoded-newline"),
    pytest.param("/%09/evil.com", id="encoded-tab"),
    pytest.param("/%00", id="encoded-nul"),
    pytest.param("/admin ", id="trailing-space"),
    # non-ASCII tricks
    pytest.param("/\uff0f\uff0fevil.com", id="fullwidth-slashes"),
    pytest.param("/\u2215\u2215evil.com", id="division-slashes"),
    pytest.param("/\uff3cevil.com", id="fullwidth-backslash"),
    pytest.param("/caf\u00e9", id="raw-non-ascii"),
    pytest.param("/\u202eevil.com", id="right-to-left-override"),
    pytest.param("/\u3002evil.com", id="ideographic-full-stop"),
    # not a string, empty, huge
    pytest.param("", id="empty"),
    pytest.param(None, id="none"),
    pytest.param(b"/admin", id="bytes"),
    pytest.param(["/admin"], id="list"),
    pytest.param("/" + "a" * 3000, id="huge"),
]


@pytest.mark.parametrize("value", ACCEPTED)
def test_a_same_site_path_is_kept_as_is(value):
    assert safe_next(value) == value


@pytest.mark.parametrize("value", REFUSED)
def test_anything_else_is_refused(value):
    assert safe_next(value) is None


FAST = "pbkdf2:sha256:1000"


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


@pytest.fixture
def client():
    layer = FormLogin(hello, users={"alice": generate_password_hash("s3cret", method=FAST)},
                      secret_key="test key", protect=["/admin"])
    return TestApp(validated(layer))


def log_in(client, next_value):
    form = client.get("/login").forms[0]
    form["username"], form["password"], form["next"] = "alice", "s3cret", next_value
    return form.submit(status=303)


@pytest.mark.parametrize("value", REFUSED[:-5])  # the non-strings cannot be posted
def test_after_login_every_refused_next_goes_home(client, value):
    response = log_in(client, value)
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("value", ACCEPTED)
def test_after_login_a_safe_next_is_followed(client, value):
    assert log_in(client, value).headers["Location"] == value


@pytest.mark.parametrize("value", REFUSED[:-5])
def test_the_login_page_never_carries_a_refused_next(client, value):
    page = client.get("/login", params={"next": value})
    assert page.forms[0]["next"].value == ""


@pytest.mark.parametrize("value", REFUSED[:-5])
def test_after_logout_a_refused_next_goes_home(client, value):
    log_in(client, "/")
    form = client.get("/login").forms[0]  # any page with the token; the logout form is the app's
    response = client.post("/logout", {"csrf_token": form["csrf_token"].value, "next": value}, status=303)
    assert response.headers["Location"] == "/"


URL_TEXT = st.text(alphabet=st.sampled_from("/\\.%25C2Fafe:@?#\t\n x\u00e9\uff0f"), max_size=12)


@given(st.one_of(URL_TEXT, st.text(max_size=20)))
@settings(max_examples=500, deadline=None)
def test_whatever_is_accepted_stays_on_the_site(value):
    accepted = safe_next(value)
    if accepted is None:
        return
    assert accepted == value
    for reading in (value, value.replace("\\", "/"), unquote(value), unquote(unquote(value))):
        assert urlsplit(urljoin("https://site.example/a/b", reading)).netloc == "site.example", reading
