"""middleware/sessions.py: the signed cookie, its attributes, expiry, rotation, laziness."""

from __future__ import annotations

import logging
import re
import secrets
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from framework import App, Response
from framework.testing import TestClient, validated
from middleware.sessions import Session, Sessions, add_vary_cookie

KEY = "test-secret-key"
SALT = "onion-wsgi.session"


def make_app() -> App:
    app = App(__name__)

    @app.get("/get")
    def get(request):
        return {"session": dict(request.session)}

    @app.post("/set")
    def set_(request):
        request.session.update(request.json)
        return {"session": dict(request.session)}

    @app.post("/clear")
    def clear(request):
        request.session.clear()
        return "cleared"

    @app.get("/untouched")
    def untouched(request):
        return "nothing read"

    @app.get("/vary")
    def vary(request):
        request.session.get("a")
        return Response("x", headers={"Vary": request.args.get("vary", "")})

    @app.post("/append")
    def append(request):
        request.session["cart"].append(request.args["item"])
        if "mark" in request.args:
            request.session.modified = True
        return "ok"

    @app.post("/setdefault")
    def setdefault(request):
        request.session.setdefault("cart", []).append(request.args["item"])
        return "ok"

    @app.post("/touch")
    def touch(request):
        request.session.modified = True  # without reading it first
        return "ok"

    return app


def client(*, use_cookies: bool = True, **options) -> TestClient:
    """A browser on the test app in ``Sessions(**options)``; it keeps cookies unless told not to
    (Werkzeug's client replaces a ``Cookie`` header given to a request with its own cookies)."""
    options.setdefault("secret_key", KEY)
    return TestClient(validated(Sessions(make_app(), **options)), use_cookies=use_cookies)


def set_cookie(response) -> str | None:
    values = response.headers.getlist("Set-Cookie")
    assert len(values) <= 1, values
    return values[0] if values else None


def attributes(cookie: str) -> dict[str, str]:
    """``{"session": value, "HttpOnly": "", "Path": "/", ...}`` from a Set-Cookie value."""
    pairs = [part.partition("=") for part in cookie.split("; ")]
    return {name: value for name, _, value in pairs}


def signed(data, key=KEY, salt=SALT, age=0) -> str:
    """A cookie value as Sessions signs it, *age* seconds old."""

    class Signer(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - age

    return URLSafeTimedSerializer(key, salt=salt, signer=Signer).dumps(data)


def get_with(cookie_header: str, **options):
    return client(use_cookies=False, **options).get("/get", headers={"Cookie": cookie_header})


# -- configuration ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        pytest.param({"secret_key": None}, TypeError, "secret_key", id="no-key"),
        pytest.param({"secret_key": ""}, TypeError, "non-empty", id="empty-key"),
        pytest.param({"secret_key": []}, TypeError, "secret_key", id="empty-list"),
        pytest.param({"secret_key": ["a", 3]}, TypeError, "non-empty str or bytes", id="key-not-str"),
        pytest.param({"samesite": "lax-ish"}, ValueError, "'Lax', 'Strict' or 'None'", id="samesite"),
        pytest.param({"samesite": "None"}, ValueError, "secure=True", id="samesite-none-not-secure"),
        pytest.param({"cookie_name": "my session"}, ValueError, "cookie_name", id="cookie-name"),
        pytest.param({"cookie_name": ""}, ValueError, "cookie_name", id="cookie-name-empty"),
        pytest.param({"max_age": 0}, ValueError, "more than 0", id="max-age-zero"),
        pytest.param({"max_age": -5}, ValueError, "more than 0", id="max-age-negative"),
        pytest.param({"max_age": "1h"}, TypeError, "seconds", id="max-age-str"),
        pytest.param({"max_age": True}, TypeError, "seconds", id="max-age-bool"),
        pytest.param({"path": "app"}, ValueError, "start with '/'", id="path"),
        pytest.param({"domain": ""}, TypeError, "domain", id="domain"),
        pytest.param({"salt": ""}, TypeError, "salt", id="salt"),
    ],
)
def test_bad_configuration(options, error, words):
    options = {"secret_key": KEY, **options}
    with pytest.raises(error, match=re.escape(words)):
        Sessions(make_app(), **options)


def test_describe_shows_options_not_keys():
    layer = Sessions(make_app(), secret_key=["new-secret", "old-secret"], max_age=60)
    line = layer.describe()
    assert line == ("Sessions(cookie_name='session', max_age=60, secure=False, samesite='Lax', "
                    "path='/', keys=2)")
    assert "secret" not in line


# -- the cookie and its attributes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param({}, {"HttpOnly": "", "Path": "/", "SameSite": "Lax"}, id="defaults"),
        pytest.param({"max_age": 3600}, {"HttpOnly": "", "Path": "/", "SameSite": "Lax", "Max-Age": "3600",
                                         "Expires": ...}, id="max-age"),
        pytest.param({"secure": True, "samesite": "strict"},
                     {"HttpOnly": "", "Path": "/", "SameSite": "Strict", "Secure": ""}, id="secure-strict"),
        pytest.param({"secure": True, "samesite": "None"},
                     {"HttpOnly": "", "Path": "/", "SameSite": "None", "Secure": ""}, id="samesite-none"),
        pytest.param({"path": "/app", "domain": "example.com"},
                     {"HttpOnly": "", "Path": "/app", "SameSite": "Lax", "Domain": "example.com"},
                     id="path-domain"),
    ],
)
def test_cookie_attributes(options, expected):
    response = client(**options).post("/set", json={"a": 1})
    found = attributes(set_cookie(response))
    value = found.pop("session")
    if expected.get("Expires") is ...:
        assert found.pop("Expires").endswith(" GMT")
        del expected["Expires"]
    assert found == expected
    assert re.fullmatch(r"[A-Za-z0-9_.\-]+", value)  # URL-safe: no quoting needed


def test_cookie_name_and_round_trip():
    browser = client(cookie_name="sid")
    assert set_cookie(browser.post("/set", json={"user": "ada", "n": [1, 2]})).startswith("sid=")
    assert browser.get("/get").json == {"session": {"user": "ada", "n": [1, 2]}}


def test_max_age_as_timedelta():
    from datetime import timedelta

    response = client(max_age=timedelta(hours=1)).post("/set", json={"a": 1})
    assert attributes(set_cookie(response))["Max-Age"] == "3600"


# -- written only when changed, deleted when emptied, Vary -----------------------------------------


@pytest.mark.parametrize(
    ("path", "method", "body", "cookie", "vary"),
    [
        pytest.param("/untouched", "GET", None, False, None, id="untouched"),
        pytest.param("/get", "GET", None, False, "Cookie", id="read"),
        pytest.param("/set", "POST", {"a": 1}, True, "Cookie", id="same-value-assigned"),
        pytest.param("/set", "POST", {"b": 2}, True, "Cookie", id="new-value"),
        pytest.param("/set", "POST", {}, True, "Cookie", id="update-with-nothing"),
    ],
)
def test_written_only_when_changed(path, method, body, cookie, vary):
    browser = client()
    browser.post("/set", json={"a": 1})
    response = browser.open(path, method=method, json=body)
    assert (set_cookie(response) is not None) is cookie
    assert response.headers.get("Vary") == vary


def test_clearing_a_session_deletes_the_cookie():
    browser = client(max_age=600)
    browser.post("/set", json={"a": 1})
    response = browser.post("/clear")
    found = attributes(set_cookie(response))
    assert found["session"] == ""
    assert found["Max-Age"] == "0"
    assert found["Expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert found["Path"] == "/" and "HttpOnly" in found
    assert browser.get_cookie("session") is None
    assert browser.get("/get").json == {"session": {}}


def test_clearing_an_empty_session_writes_nothing():
    response = client().post("/clear")
    assert set_cookie(response) is None


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        pytest.param("", "Cookie", id="none"),
        pytest.param("Accept-Encoding", "Accept-Encoding, Cookie", id="merged"),
        pytest.param("Accept-Encoding, cookie", "Accept-Encoding, cookie", id="already-there"),
        pytest.param("*", "*", id="star"),
    ],
)
def test_vary_cookie_when_the_session_was_read(existing, expected):
    response = client().get("/vary", query_string={"vary": existing})
    assert response.headers.getlist("Vary") == [expected]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param([("Vary", "Accept"), ("Vary", "Cookie")], [("Vary", "Accept"), ("Vary", "Cookie")],
                     id="in-a-second-vary"),
        pytest.param([("X", "1")], [("X", "1"), ("Vary", "Cookie")], id="appended"),
    ],
)
def test_add_vary_cookie(headers, expected):
    add_vary_cookie(headers)
    assert headers == expected


def test_a_change_inside_a_value_needs_modified():
    browser = client()
    browser.post("/set", json={"cart": ["milk"]})
    assert set_cookie(browser.post("/append", query_string={"item": "eggs"})) is None
    assert browser.get("/get").json == {"session": {"cart": ["milk"]}}
    assert set_cookie(browser.post("/append", query_string={"item": "eggs", "mark": "1"})) is not None
    assert browser.get("/get").json == {"session": {"cart": ["milk", "eggs"]}}


def test_setdefault_counts_as_a_change():
    browser = client()
    browser.post("/setdefault", query_string={"item": "milk"})
    browser.post("/setdefault", query_string={"item": "eggs"})
    assert browser.get("/get").json == {"session": {"cart": ["milk", "eggs"]}}


def test_modified_set_without_reading_keeps_the_contents():
    browser = client()
    browser.post("/set", json={"a": 1})
    assert set_cookie(browser.post("/touch")) is not None
    assert browser.get("/get").json == {"session": {"a": 1}}


def test_a_value_json_cannot_hold_is_a_type_error():
    def app(environ, start_response):
        environ["framework.session"]["when"] = object()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"x"]

    with pytest.raises(TypeError, match="JSON cannot encode"):
        TestClient(validated(Sessions(app, secret_key=KEY))).get("/")


def test_an_oversized_cookie_is_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="middleware.sessions"):
        response = client().post("/set", json={"big": secrets.token_urlsafe(4000)})  # does not compress
    assert set_cookie(response) is not None
    assert "browsers drop cookies over 4093" in caplog.text


# -- refused cookies: an empty session, never an error ---------------------------------------------


ADA = {"user": "ada"}


def _flip(value: str) -> str:
    payload, rest = value[:3], value[3:]
    return payload + ("A" if rest[0] != "A" else "B") + rest[1:]


@pytest.mark.parametrize(
    ("cookie", "level"),
    [
        pytest.param(lambda: "session=" + _flip(signed(ADA)), logging.INFO, id="tampered-payload"),
        pytest.param(lambda: "session=" + signed(ADA)[:-2] + "xx", logging.INFO, id="tampered-signature"),
        pytest.param(lambda: "session=" + signed(ADA, key="other"), logging.INFO, id="unknown-key"),
        pytest.param(lambda: "session=" + signed(ADA, salt="other"), logging.INFO, id="other-salt"),
        pytest.param(lambda: "session=" + signed(["not", "a", "dict"]), logging.INFO, id="not-an-object"),
        pytest.param(lambda: "session=" + signed(ADA, age=3601), logging.DEBUG, id="expired"),
        pytest.param(lambda: "session=" + signed(ADA, age=-120), logging.DEBUG, id="from-the-future"),
        pytest.param(lambda: "session=garbage", logging.INFO, id="garbage"),
        pytest.param(lambda: "session=a.b.c", logging.INFO, id="three-parts"),
        pytest.param(lambda: "session=\u00e9\u00ff.x.y", logging.INFO, id="latin-1"),
        pytest.param(lambda: "session=" + "A" * 8000, logging.INFO, id="8kb-of-junk"),
        pytest.param(lambda: "session=", None, id="empty"),
        pytest.param(lambda: "other=1; ; ;;=", None, id="no-session-cookie"),
    ],
)
def test_a_refused_cookie_gives_an_empty_session(cookie, level, caplog):
    with caplog.at_level(logging.DEBUG, logger="middleware.sessions"):
        response = get_with(cookie(), max_age=3600)
    assert response.status_code == 200
    assert response.json == {"session": {}}
    records = [r for r in caplog.records if r.name == "middleware.sessions"]
    assert [r.levelno for r in records] == ([] if level is None else [level])
    assert "ada" not in caplog.text  # the contents are never logged


def test_the_age_is_checked_on_the_server():
    fresh = "session=" + signed({"user": "ada"}, age=3500)
    assert get_with(fresh, max_age=3600).json == {"session": {"user": "ada"}}
    old = "session=" + signed({"user": "ada"}, age=3700)
    assert get_with(old, max_age=3600).json == {"session": {}}
    # Without max_age the server checks no age (the cookie lasts until the browser closes).
    assert get_with(old).json == {"session": {"user": "ada"}}


def test_a_refused_cookie_is_replaced_when_the_session_changes():
    browser = client()
    browser.set_cookie("session", "garbage")
    response = browser.post("/set", json={"a": 1})
    assert response.json == {"session": {"a": 1}}
    assert browser.get("/get").json == {"session": {"a": 1}}


# -- key rotation ----------------------------------------------------------------------------------


def test_rotated_keys_the_first_signs_all_verify():
    old_cookie = "session=" + signed({"user": "ada"}, key="old-key")
    rotated = client(secret_key=["new-key", "old-key"], use_cookies=False)
    assert rotated.get("/get", headers={"Cookie": old_cookie}).json == {"session": {"user": "ada"}}
    # A new cookie is signed with the first key: the new key alone reads it, the old alone does not.
    value = attributes(set_cookie(rotated.post("/set", json={"n": 1}, headers={"Cookie": old_cookie})))
    new_cookie = "session=" + value["session"]
    assert get_with(new_cookie, secret_key="new-key").json == {"session": {"user": "ada", "n": 1}}
    assert get_with(new_cookie, secret_key="old-key").json == {"session": {}}
    # Once the old key is dropped, cookies signed with it are refused.
    assert get_with(old_cookie, secret_key=["new-key"]).json == {"session": {}}


def test_bytes_keys():
    cookie = "session=" + signed({"a": 1}, key=b"raw-bytes")
    assert get_with(cookie, secret_key=[b"other", b"raw-bytes"]).json == {"session": {"a": 1}}


# -- laziness and the WSGI contract ----------------------------------------------------------------


def test_a_request_that_never_touches_the_session_does_no_signature_work(monkeypatch):
    calls = []
    real = URLSafeTimedSerializer.loads
    monkeypatch.setattr(URLSafeTimedSerializer, "loads", lambda *a, **k: calls.append(1) or real(*a, **k))
    browser = client()
    browser.post("/set", json={"a": 1})
    response = browser.get("/untouched")
    assert response.text == "nothing read" and calls == []
    assert "Vary" not in response.headers and set_cookie(response) is None
    browser.get("/get")
    assert calls == [1]


def test_around_any_wsgi_app_and_the_body_is_not_buffered():
    seen = {}

    def chunks():
        yield b"a"
        yield b"b"

    body = chunks()

    def app(environ, start_response):
        seen["session"] = environ["framework.session"]
        environ["framework.session"]["visits"] = 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    statuses = []
    layer = Sessions(app, secret_key=KEY)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_COOKIE": "session=junk"}
    returned = layer(environ, lambda status, headers, exc_info=None: statuses.append(headers))
    assert returned is body  # passed through as the app returned it
    assert isinstance(seen["session"], Session) and seen["session"] == {"visits": 1}
    assert any(name == "Set-Cookie" for name, _ in statuses[0])


def test_exc_info_is_forwarded():
    import sys

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("late")
        except ValueError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"error"]

    got = []
    Sessions(app, secret_key=KEY)({"REQUEST_METHOD": "GET"}, lambda s, h, e=None: got.append((s, e)))
    assert got[1][0].startswith("500") and got[1][1][0] is ValueError


# -- Session, the dict -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "modified"),
    [
        pytest.param(lambda s: s.__setitem__("b", 2), True, id="setitem"),
        pytest.param(lambda s: s.__delitem__("a"), True, id="delitem"),
        pytest.param(lambda s: s.pop("a"), True, id="pop"),
        pytest.param(lambda s: s.pop("missing", None), False, id="pop-missing"),
        pytest.param(lambda s: s.popitem(), True, id="popitem"),
        pytest.param(lambda s: s.setdefault("a", 0), True, id="setdefault-present"),
        pytest.param(lambda s: s.update(b=2), True, id="update"),
        pytest.param(lambda s: s.__ior__({"b": 2}), True, id="ior"),
        pytest.param(lambda s: s.clear(), True, id="clear"),
        pytest.param(lambda s: s.get("a"), False, id="get"),
        pytest.param(lambda s: list(s.items()), False, id="items"),
        pytest.param(lambda s: s | {"b": 2}, False, id="or"),
        pytest.param(lambda s: s.copy(), False, id="copy"),
    ],
)
def test_session_modified(change, modified):
    session = Session(a=1)
    change(session)
    assert session.modified is modified
    assert session.accessed is True


def test_a_lazy_session_loads_on_first_use_and_repr_is_not_a_use():
    loads = []

    class Layer:
        def load(self, header):
            loads.append(header)
            return {"user": "ada"}

    session = Session()
    session._pending = (Layer(), "session=x")  # what Sessions does for a request with a cookie
    assert "not read yet" in repr(session) and loads == [] and not session.accessed
    assert session == {"user": "ada"} and loads == ["session=x"]
    assert session.accessed and not session.modified
    assert list(session) == ["user"] and len(session) == 1 and loads == ["session=x"]
    assert repr(session) == "<Session {'user': 'ada'}>"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=255), max_size=300))
def test_any_cookie_header_loads_without_an_error(header):
    layer = Sessions(make_app(), secret_key=KEY, max_age=60)
    assert layer.load(header) == {}
    assert layer.load("session=" + header) == {}
