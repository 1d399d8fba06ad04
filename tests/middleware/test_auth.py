"""middleware/auth.py: BasicAuth and TokenAuth, through the validator around a tiny echo app.

Every request goes through ``framework.testing.validated`` (``wsgiref.validate`` around the
layer and the app), so a broken WSGI contract fails as loudly as a wrong answer.
"""

from __future__ import annotations

import base64
import json
import logging

import pytest
from werkzeug.security import generate_password_hash

import middleware.credentials as credentials_module
from framework.testing import TestClient, validated
from middleware.auth import BasicAuth, TokenAuth

FAST = "pbkdf2:sha256:1000"  # cheap hashes keep the tests quick; the layer does not care
USERS = {"alice": generate_password_hash("s3cret", method=FAST),
         "zoë": generate_password_hash("pässword", method=FAST)}
TOKEN = "3q2-7wEXAMPLE.token_of~thirty+two/chars=="
TOKENS = {TOKEN: "ci-bot", "second-token": "deploy"}
BASIC_CHALLENGE = 'Basic realm="Restricted", charset="UTF-8"'


def echo(environ, start_response):
    """Answers ``REMOTE_USER|AUTH_TYPE``: what an app inside sees."""
    body = f"{environ.get('REMOTE_USER', '-')}|{environ.get('AUTH_TYPE', '-')}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def basic(name: str | bytes, password: str | bytes = b"") -> str:
    """``Basic base64(name:password)``, from text (UTF-8) or raw bytes."""
    raw = name if isinstance(name, bytes) else f"{name}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def client(layer) -> TestClient:
    return TestClient(validated(layer))


def get(layer, path: str = "/", **headers: str):
    return client(layer).get(path, headers={k.replace("_", "-"): v for k, v in headers.items()})


# -- BasicAuth -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "seen"),
    [
        pytest.param(basic("alice", "s3cret"), "alice|Basic", id="right"),
        pytest.param(basic("zoë", "pässword"), "zoë|Basic", id="utf-8-name-and-password"),
        pytest.param("basic " + basic("alice", "s3cret")[6:], "alice|Basic", id="scheme-any-case"),
        pytest.param("Basic   " + basic("alice", "s3cret")[6:], "alice|Basic", id="several-spaces"),
    ],
)
def test_basic_lets_the_right_user_in(header, seen):
    response = get(BasicAuth(echo, users=USERS), Authorization=header)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == seen


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="missing"),
        pytest.param(basic("alice", "wrong"), id="wrong-password"),
        pytest.param(basic("alice", "S3CRET"), id="password-is-case-sensitive"),
        pytest.param(basic("mallory", "s3cret"), id="unknown-user"),
        pytest.param(basic("alice", ""), id="empty-password"),
        pytest.param(basic("", "s3cret"), id="empty-user"),
        pytest.param("Basic !!!not-base64!!!", id="bad-base64"),
        pytest.param("Basic YWxpY2U6czNjcmV0X", id="bad-base64-length"),
        pytest.param("Basic YWxp*Y2U6czNjcmV0", id="char-outside-base64"),
        pytest.param(basic(b"alices3cret"), id="no-colon"),
        pytest.param(basic(b"al\xffice:s3cret"), id="non-utf-8"),
        pytest.param(basic(b"alice:s3\xc3"), id="truncated-utf-8"),
        pytest.param(basic("ali\x00ce", "s3cret"), id="nul-in-name"),
        pytest.param(basic("alice", "s3\ncret"), id="newline-in-password"),
        pytest.param("", id="empty"),
        pytest.param("Basic", id="basic-with-nothing"),
        pytest.param("Basic ", id="basic-with-a-space"),
        pytest.param("x" * 8192, id="8kb-of-junk"),
        pytest.param("Basic " + "A" * 8192, id="8kb-of-base64-junk"),
        pytest.param("Basic " + "é!" * 4096, id="8kb-of-latin-1-junk"),
        pytest.param(basic("alice", "s3cret") + ", Bearer abc", id="second-scheme"),
        pytest.param(basic("alice", "s3cret") + " " + basic("alice", "s3cret")[6:], id="two-credentials"),
        pytest.param("Bearer " + TOKEN, id="bearer-sent-to-basic"),
        pytest.param("Digest username=alice", id="another-scheme"),
        pytest.param("Basic realm=x, charset=UTF-8", id="parameters"),
    ],
)
def test_basic_refuses_missing_wrong_and_malformed_credentials_with_401(header):
    headers = {} if header is None else {"Authorization": header}
    response = client(BasicAuth(echo, users=USERS)).get("/", headers=headers)
    assert response.status_code == 401
    assert response.headers.getlist("WWW-Authenticate") == [BASIC_CHALLENGE]


def test_basic_checks_a_malformed_header_without_hashing(monkeypatch):
    calls = []
    monkeypatch.setattr(credentials_module, "check_password_hash", lambda h, p: calls.append(p))
    for header in ("Basic !!!", basic(b"alices3cret"), basic("alice", "s3cret") + ", Bearer x"):
        assert get(BasicAuth(echo, users=USERS), Authorization=header).status_code == 401
    assert calls == []


@pytest.mark.parametrize(
    ("realm", "challenge"),
    [
        pytest.param("Back office", 'Basic realm="Back office", charset="UTF-8"', id="space"),
        pytest.param('say "hi"', 'Basic realm="say \\"hi\\"", charset="UTF-8"', id="quote-escaped"),
        pytest.param("a\\b", 'Basic realm="a\\\\b", charset="UTF-8"', id="backslash-escaped"),
        pytest.param("", 'Basic realm="", charset="UTF-8"', id="empty"),
    ],
)
def test_basic_realm_is_quoted(realm, challenge):
    response = get(BasicAuth(echo, users=USERS, realm=realm))
    assert response.headers["WWW-Authenticate"] == challenge


def test_basic_verify_function():
    layer = BasicAuth(echo, verify=lambda name, password: (name, password) == ("ldap-user", "pw"))
    assert get(layer, Authorization=basic("ldap-user", "pw")).get_data(as_text=True) == "ldap-user|Basic"
    assert get(layer, Authorization=basic("ldap-user", "no")).status_code == 401


def test_basic_unknown_and_known_users_cost_one_hash_each(monkeypatch):
    seen = []
    real = credentials_module.check_password_hash
    monkeypatch.setattr(credentials_module, "check_password_hash", lambda h, p: seen.append(h) or real(h, p))
    layer = BasicAuth(echo, users=USERS, cache_seconds=0)
    for name in ("alice", "mallory"):
        seen.clear()
        assert get(layer, Authorization=basic(name, "wrong")).status_code == 401
        assert len(seen) == 1 and seen[0].startswith(FAST + "$")  # the users' method, for both


def test_basic_caches_successes_only(monkeypatch):
    calls = []
    real = credentials_module.check_password_hash
    monkeypatch.setattr(credentials_module, "check_password_hash", lambda h, p: calls.append(p) or real(h, p))
    app = client(BasicAuth(echo, users=USERS))
    statuses = [app.get("/", headers={"Authorization": basic("alice", pw)}).status_code
                for pw in ("s3cret", "s3cret", "s3cret", "bad", "bad")]
    assert statuses == [200, 200, 200, 401, 401]
    assert calls == ["s3cret", "bad", "bad"]


def test_basic_without_cache_checks_every_request(monkeypatch):
    calls = []
    real = credentials_module.check_password_hash
    monkeypatch.setattr(credentials_module, "check_password_hash", lambda h, p: calls.append(p) or real(h, p))
    app = client(BasicAuth(echo, users=USERS, cache_seconds=0))
    for _ in range(3):
        assert app.get("/", headers={"Authorization": basic("alice", "s3cret")}).status_code == 200
    assert len(calls) == 3


def test_basic_cache_keeps_no_password():
    layer = BasicAuth(echo, users=USERS)
    get(layer, Authorization=basic("alice", "s3cret"))
    assert layer.cache is not None
    kept = repr(layer.cache._entries).encode()
    assert b"s3cret" not in kept and basic("alice", "s3cret")[6:].encode() not in kept


def test_basic_logs_failures_with_user_and_address_never_the_password(caplog):
    caplog.set_level(logging.WARNING, logger="middleware.auth")
    layer = BasicAuth(echo, users=USERS)
    client(layer).get("/", headers={"Authorization": basic("alice", "hunter2")},
                      environ_base={"REMOTE_ADDR": "203.0.113.9"})
    client(layer).get("/", headers={"Authorization": "Basic !!!"},
                      environ_base={"REMOTE_ADDR": "203.0.113.9"})
    records = [r for r in caplog.records if r.name == "middleware.auth"]
    assert [r.levelno for r in records] == [logging.WARNING] * 2
    assert "'alice'" in records[0].getMessage() and "203.0.113.9" in records[0].getMessage()
    assert all("hunter2" not in r.getMessage() for r in records)


def test_basic_does_not_log_a_request_without_credentials(caplog):
    caplog.set_level(logging.WARNING, logger="middleware.auth")
    get(BasicAuth(echo, users=USERS))
    assert not [r for r in caplog.records if r.name == "middleware.auth"]


def test_basic_describe_shows_no_secret():
    line = BasicAuth(echo, users=USERS, protect=["/admin"], exempt=["/admin/help"]).describe()
    assert line == ("BasicAuth(2 users, realm='Restricted', protect=['/admin'], "
                    "exempt=['/admin/help'], cache_seconds=60)")
    assert BasicAuth(echo, verify=lambda n, p: False).describe().startswith("BasicAuth(verify,")


@pytest.mark.parametrize(
    ("options", "error"),
    [
        pytest.param({}, TypeError, id="neither-users-nor-verify"),
        pytest.param({"users": USERS, "verify": lambda n, p: True}, TypeError, id="both"),
        pytest.param({"users": {"a": "plaintext"}}, ValueError, id="not-a-hash"),
        pytest.param({"users": USERS, "realm": "bad\r\nrealm"}, ValueError, id="realm-control-character"),
        pytest.param({"users": USERS, "realm": "réalm"}, ValueError, id="realm-not-ascii"),
        pytest.param({"users": USERS, "realm": None}, ValueError, id="realm-not-a-string"),
        pytest.param({"users": USERS, "cache_seconds": -1}, ValueError, id="negative-cache"),
        pytest.param({"users": USERS, "protect": "/admin"}, TypeError, id="protect-a-string"),
        pytest.param({"users": USERS, "protect": ["admin"]}, ValueError, id="protect-without-slash"),
    ],
)
def test_basic_bad_configuration(options, error):
    with pytest.raises(error):
        BasicAuth(echo, **options)


def test_basic_refuses_an_app_that_is_not_callable():
    with pytest.raises(TypeError):
        BasicAuth("app", users=USERS)


# -- TokenAuth -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "seen"),
    [
        pytest.param(f"Bearer {TOKEN}", "ci-bot|Bearer", id="right"),
        pytest.param("Bearer second-token", "deploy|Bearer", id="another-token"),
        pytest.param(f"bearer {TOKEN}", "ci-bot|Bearer", id="scheme-any-case"),
        pytest.param(f"Bearer   {TOKEN}  ", "ci-bot|Bearer", id="extra-spaces"),
    ],
)
def test_token_lets_a_known_token_in(header, seen):
    response = get(TokenAuth(echo, tokens=TOKENS), Authorization=header)
    assert response.status_code == 200 and response.get_data(as_text=True) == seen


@pytest.mark.parametrize(
    ("header", "status", "challenge"),
    [
        # RFC 6750 3.1: no credentials (or another scheme's) -> no error code.
        pytest.param(None, 401, "Bearer", id="missing"),
        pytest.param("", 401, "Bearer", id="empty"),
        pytest.param(basic("alice", "s3cret"), 401, "Bearer", id="basic-sent-to-token"),
        pytest.param("x" * 8192, 401, "Bearer", id="8kb-of-junk"),
        # A well-formed token nobody has -> invalid_token.
        pytest.param("Bearer not-a-known-token", 401, 'Bearer error="invalid_token"', id="unknown-token"),
        pytest.param(f"Bearer {TOKEN[:-3]}", 401, 'Bearer error="invalid_token"', id="prefix-of-a-token"),
        pytest.param(f"Bearer x{TOKEN}", 401, 'Bearer error="invalid_token"', id="one-more-character"),
        pytest.param(f"Bearer {TOKEN}x", 400, 'Bearer error="invalid_request"', id="character-after-padding"),
        pytest.param("Bearer " + "A" * 8192, 401, 'Bearer error="invalid_token"', id="8kb-token"),
        # Malformed -> 400 invalid_request (RFC 6750 3.1).
        pytest.param("Bearer", 400, 'Bearer error="invalid_request"', id="bearer-with-nothing"),
        pytest.param("Bearer ", 400, 'Bearer error="invalid_request"', id="bearer-with-a-space"),
        pytest.param(f"Bearer {TOKEN} {TOKEN}", 400, 'Bearer error="invalid_request"', id="two-tokens"),
        pytest.param("Bearer a=b, c=d", 400, 'Bearer error="invalid_request"', id="parameters"),
        pytest.param(f"Bearer {TOKEN}, Basic YWxpY2U6cHc=", 400, 'Bearer error="invalid_request"',
                     id="second-scheme"),
        pytest.param("Bearer t\u00f6ken", 400, 'Bearer error="invalid_request"', id="latin-1-character"),
        pytest.param("Bearer tok\"en", 400, 'Bearer error="invalid_request"', id="quote"),
        pytest.param("Bearer " + "a b" * 2730, 400, 'Bearer error="invalid_request"',
                     id="8kb-of-spaced-junk"),
    ],
)
def test_token_answers_per_rfc_6750(header, status, challenge):
    headers = {} if header is None else {"Authorization": header}
    response = client(TokenAuth(echo, tokens=TOKENS)).get("/", headers=headers)
    assert response.status_code == status
    assert response.headers.getlist("WWW-Authenticate") == [challenge]


@pytest.mark.parametrize(
    ("header", "challenge"),
    [
        pytest.param(None, 'Bearer realm="api"', id="missing"),
        pytest.param("Bearer nope", 'Bearer realm="api", error="invalid_token"', id="invalid"),
        pytest.param("Bearer", 'Bearer realm="api", error="invalid_request"', id="malformed"),
    ],
)
def test_token_challenge_with_a_realm(header, challenge):
    headers = {} if header is None else {"Authorization": header}
    response = client(TokenAuth(echo, tokens=TOKENS, realm="api")).get("/", headers=headers)
    assert response.headers["WWW-Authenticate"] == challenge


@pytest.mark.parametrize(
    ("value", "status", "challenge"),
    [
        pytest.param(TOKEN, 200, None, id="raw-value"),
        pytest.param(f"  {TOKEN} ", 200, None, id="surrounding-spaces"),
        pytest.param(None, 401, 'ApiKey header="X-API-Key"', id="missing"),
        pytest.param(f"Bearer {TOKEN}", 400, 'ApiKey header="X-API-Key", error="invalid_request"',
                     id="a-scheme"),
        pytest.param("nope", 401, 'ApiKey header="X-API-Key", error="invalid_token"', id="unknown"),
    ],
)
def test_token_in_a_header_of_its_own(value, status, challenge):
    layer = TokenAuth(echo, tokens=TOKENS, header="X-API-Key", scheme=None)
    headers = {} if value is None else {"X-API-Key": value}
    response = client(layer).get("/", headers=headers)
    assert response.status_code == status
    assert response.headers.get("WWW-Authenticate") == challenge
    if status == 200:
        assert response.get_data(as_text=True) == "ci-bot|Bearer"


def test_token_ignores_authorization_when_it_reads_another_header():
    layer = TokenAuth(echo, tokens=TOKENS, header="X-API-Key", scheme=None)
    assert get(layer, Authorization=f"Bearer {TOKEN}").status_code == 401


def test_token_custom_scheme():
    layer = TokenAuth(echo, tokens=TOKENS, scheme="Token")
    assert get(layer, Authorization=f"Token {TOKEN}").get_data(as_text=True) == "ci-bot|Bearer"
    assert get(layer, Authorization=f"Bearer {TOKEN}").headers["WWW-Authenticate"] == "Token"


def test_token_verify_function():
    layer = TokenAuth(echo, verify=lambda token: "svc" if token == "good" else None)
    assert get(layer, Authorization="Bearer good").get_data(as_text=True) == "svc|Bearer"
    assert get(layer, Authorization="Bearer bad").status_code == 401


def test_token_verify_must_return_a_name():
    with pytest.raises(TypeError, match="user name or None"):
        TokenAuth(echo, verify=lambda token: 42).user("x")


def test_token_table_holds_digests_never_tokens():
    layer = TokenAuth(echo, tokens=TOKENS)
    assert TOKEN not in repr(vars(layer)) and "second-token" not in repr(vars(layer))
    assert all(isinstance(key, bytes) and len(key) == 32 for key in layer._digests)
    assert sorted(layer._digests.values()) == ["ci-bot", "deploy"]
    # Two layers, two keys: a digest seen in one process tells nothing about another.
    assert set(layer._digests).isdisjoint(TokenAuth(echo, tokens=TOKENS)._digests)


def test_token_lookup_is_by_mac_whatever_the_token(monkeypatch):
    """A known token: one MAC (of the header as sent); any other: the header's and the token's.

    How close a guess is to a real token changes nothing: the same MACs, then dict
    lookups by digests an attacker cannot compute.
    """
    layer = TokenAuth(echo, tokens={f"token-{n}": f"user-{n}" for n in range(100)})
    macs = []

    class Spy:  # the layer's keyed BLAKE2s, recording what it hashes
        def __init__(self, mac):
            self.mac = mac

        def copy(self):
            return Spy(self.mac.copy())

        def update(self, data):
            macs.append(data.decode())
            self.mac.update(data)

        def digest(self):
            return self.mac.digest()

    monkeypatch.setattr(layer, "_mac", Spy(layer._mac))
    for token, status in [("token-7", 200), ("token-99", 200), ("token-8x", 401), ("token-", 401),
                          ("t", 401), ("A" * 4096, 401)]:
        macs.clear()
        assert get(layer, Authorization=f"Bearer {token}").status_code == status
        assert macs == ([f"Bearer {token}"] if status == 200 else [f"Bearer {token}", token])


def test_token_other_spellings_of_a_good_header_take_the_parsed_path():
    layer = TokenAuth(echo, tokens=TOKENS)
    for header in (f"bearer {TOKEN}", f"BEARER  {TOKEN}", f"Bearer {TOKEN} "):
        assert get(layer, Authorization=header).get_data(as_text=True) == "ci-bot|Bearer"


def test_token_logs_failures_without_the_token(caplog):
    caplog.set_level(logging.WARNING, logger="middleware.auth")
    layer = TokenAuth(echo, tokens=TOKENS)
    for header in ("Bearer guessed-token-123", "Bearer a b"):
        client(layer).get("/", headers={"Authorization": header},
                          environ_base={"REMOTE_ADDR": "198.51.100.7"})
    messages = [r.getMessage() for r in caplog.records if r.name == "middleware.auth"]
    assert len(messages) == 2 and all("198.51.100.7" in m for m in messages)
    assert all("guessed" not in m and TOKEN not in m for m in messages)


def test_token_describe_shows_no_token():
    line = TokenAuth(echo, tokens=TOKENS, protect=["/api"]).describe()
    assert line == "TokenAuth(2 tokens, header='Authorization', scheme='Bearer', protect=['/api'])"
    assert TOKEN not in line


@pytest.mark.parametrize(
    ("options", "error"),
    [
        pytest.param({}, TypeError, id="neither-tokens-nor-verify"),
        pytest.param({"tokens": TOKENS, "verify": lambda t: None}, TypeError, id="both"),
        pytest.param({"verify": "yes"}, TypeError, id="verify-not-callable"),
        pytest.param({"tokens": {}}, ValueError, id="no-tokens"),
        pytest.param({"tokens": {"": "u"}}, ValueError, id="empty-token"),
        pytest.param({"tokens": {"has space": "u"}}, ValueError, id="token-with-space"),
        pytest.param({"tokens": {"tök": "u"}}, ValueError, id="token-not-ascii"),
        pytest.param({"tokens": {"tok": ""}}, ValueError, id="empty-user"),
        pytest.param({"tokens": TOKENS, "header": "X API Key"}, ValueError, id="header-not-a-name"),
        pytest.param({"tokens": TOKENS, "scheme": "Bear er"}, ValueError, id="scheme-not-a-word"),
        pytest.param({"tokens": TOKENS, "realm": "a\nb"}, ValueError, id="realm-control-character"),
        pytest.param({"tokens": TOKENS, "exempt": ["/a"], "protect": ["/a"]}, ValueError, id="both-lists"),
    ],
)
def test_token_bad_configuration(options, error):
    with pytest.raises(error):
        TokenAuth(echo, **options)


# -- what both layers share ------------------------------------------------------------------

LAYERS = [
    pytest.param(lambda app, **kw: BasicAuth(app, users=USERS, **kw), basic("alice", "s3cret"), id="basic"),
    pytest.param(lambda app, **kw: TokenAuth(app, tokens=TOKENS, **kw), f"Bearer {TOKEN}", id="token"),
]


@pytest.mark.parametrize(("make", "good"), LAYERS)
@pytest.mark.parametrize(
    ("path", "protected"),
    [
        pytest.param("/admin", True, id="prefix-itself"),
        pytest.param("/admin/", True, id="prefix-slash"),
        pytest.param("/admin/users", True, id="under-prefix"),
        pytest.param("/administrator", False, id="segment-boundary"),
        pytest.param("/admin/help", False, id="exempt"),
        pytest.param("/admin/help/more", False, id="under-exempt"),
        pytest.param("/admin/helpers", True, id="exempt-segment-boundary"),
        pytest.param("/", False, id="root"),
        pytest.param("/public", False, id="elsewhere"),
    ],
)
def test_protect_and_exempt_at_segment_boundaries(make, good, path, protected):
    layer = make(echo, protect=["/admin"], exempt=["/admin/help"])
    response = get(layer, path)
    assert response.status_code == (401 if protected else 200)
    if not protected:
        assert response.get_data(as_text=True) == "-|-"  # left alone: no user set
    assert get(layer, path, Authorization=good).status_code == 200


@pytest.mark.parametrize(("make", "good"), LAYERS)
def test_cors_preflight_passes_without_credentials(make, good):
    layer = client(make(echo))
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "DELETE"}
    assert layer.options("/", headers=preflight).status_code == 200
    assert layer.options("/").status_code == 401  # a plain OPTIONS is not a preflight


@pytest.mark.parametrize(("make", "good"), LAYERS)
def test_a_user_set_by_an_outer_layer_passes(make, good):
    def outer(environ, start_response):
        environ["REMOTE_USER"], environ["AUTH_TYPE"] = "carol", "Form"
        return inner(environ, start_response)

    inner = make(echo)
    assert client(outer).get("/").get_data(as_text=True) == "carol|Form"


@pytest.mark.parametrize(("make", "good"), LAYERS)
@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        pytest.param("application/json", "application/json", id="json"),
        pytest.param("text/html", "text/html; charset=utf-8", id="html"),
        pytest.param(None, "text/html; charset=utf-8", id="no-accept"),
    ],
)
def test_errors_in_json_or_html_by_accept(make, good, accept, content_type):
    headers = {"Accept": accept} if accept else {}
    response = client(make(echo)).get("/", headers=headers)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == content_type
    assert response.headers["WWW-Authenticate"] in (BASIC_CHALLENGE, "Bearer")
    if accept == "application/json":
        assert json.loads(response.get_data())["error"]["status"] == 401
    else:
        assert "401" in response.get_data(as_text=True)


@pytest.mark.parametrize(("make", "good"), LAYERS)
def test_head_refused_without_a_body(make, good):
    response = client(make(echo)).head("/")
    assert response.status_code == 401 and response.get_data() == b""


@pytest.mark.parametrize(("make", "good"), LAYERS)
def test_the_inner_iterable_is_returned_as_is(make, good):
    """Streaming and close() untouched: the layer hands back the app's own iterable."""

    class Body:
        closed = False

        def __iter__(self):
            yield b"chunk 1"
            yield b"chunk 2"

        def close(self):
            Body.closed = True

    body = Body()

    def streaming(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_AUTHORIZATION": good}
    assert make(streaming)(environ, lambda *args: None) is body
    response = client(make(streaming)).get("/", headers={"Authorization": good})
    assert response.get_data() == b"chunk 1chunk 2" and Body.closed
