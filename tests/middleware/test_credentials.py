"""middleware/credentials.py: password checks, the same work for unknown users, the cache."""

from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from middleware.credentials import Credentials, SuccessCache

FAST = "pbkdf2:sha256:1000"  # cheap hashes keep the tests quick; the method is what matters
USERS = {"alice": generate_password_hash("s3cret", method=FAST),
         "bob": generate_password_hash("pw", method=FAST)}


@pytest.mark.parametrize(
    ("name", "password", "ok"),
    [
        pytest.param("alice", "s3cret", True, id="right"),
        pytest.param("alice", "S3cret", False, id="wrong"),
        pytest.param("alice", "", False, id="empty"),
        pytest.param("mallory", "s3cret", False, id="unknown-user"),
        pytest.param("", "", False, id="nothing"),
        pytest.param("bob", "s3cret", False, id="another-users-password"),
    ],
)
def test_check(name, password, ok):
    assert Credentials(users=USERS).check(name, password) is ok


def test_an_unknown_user_costs_a_hash_of_the_users_method(monkeypatch):
    import middleware.credentials as module

    seen = []
    real = module.check_password_hash
    monkeypatch.setattr(module, "check_password_hash", lambda h, p: seen.append(h) or real(h, p))
    credentials = Credentials(users=USERS)
    credentials.check("mallory", "x")
    assert len(seen) == 1 and seen[0].startswith(FAST + "$")


@pytest.mark.parametrize(
    ("options", "error"),
    [
        pytest.param({}, TypeError, id="neither"),
        pytest.param({"users": USERS, "verify": lambda n, p: True}, TypeError, id="both"),
        pytest.param({"verify": "yes"}, TypeError, id="verify-not-callable"),
        pytest.param({"users": {"a": "plaintext"}}, ValueError, id="not-a-hash"),
        pytest.param({"users": USERS, "cache_seconds": -1}, ValueError, id="negative-cache"),
    ],
)
def test_bad_configuration(options, error):
    with pytest.raises(error):
        Credentials(**options)


def test_verify_function():
    credentials = Credentials(verify=lambda name, password: (name, password) == ("ann", "pw"))
    assert credentials.check("ann", "pw") and not credentials.check("ann", "no")


def test_the_cache_remembers_successes_only():
    calls = []

    def verify(name, password):
        calls.append(name)
        return password == "pw"

    credentials = Credentials(verify=verify, cache_seconds=60)
    assert [credentials.check("ann", "pw") for _ in range(3)] == [True] * 3
    assert [credentials.check("ann", "bad") for _ in range(2)] == [False] * 2
    assert calls == ["ann", "ann", "ann"]  # one real check for the success, every failure checked
    assert b"pw" not in b"".join(credentials.cache._entries)  # keyed by a MAC, never the password


def test_the_cache_expires(monkeypatch):
    import middleware.credentials as module

    now = [1000.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: now[0])
    calls = []
    credentials = Credentials(verify=lambda n, p: calls.append(n) or True, cache_seconds=10)
    credentials.check("ann", "pw")
    now[0] += 5
    credentials.check("ann", "pw")
    now[0] += 6
    credentials.check("ann", "pw")
    assert len(calls) == 2


def test_success_cache_remembers_by_mac_and_forgets_after_its_seconds(monkeypatch):
    import middleware.credentials as module

    now = [1000.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: now[0])
    cache = SuccessCache(10)
    cache.add("Basic YWxpY2U6czNjcmV0", "alice")
    assert cache.get("Basic YWxpY2U6czNjcmV0") == "alice"
    assert cache.get("Basic YWxpY2U6czNjcmV0 ") is None  # another text, another MAC
    assert all(len(key) == 32 and b"YWxp" not in key for key in cache._entries)
    now[0] += 11
    assert cache.get("Basic YWxpY2U6czNjcmV0") is None


def test_success_cache_is_bounded_and_forgets_the_oldest(monkeypatch):
    monkeypatch.setattr(SuccessCache, "MAX_ENTRIES", 4)
    cache = SuccessCache(60)
    for n in range(5):
        cache.add(f"k{n}", f"v{n}")
    assert [cache.get(f"k{n}") for n in range(5)] == [None, None, "v2", "v3", "v4"]


def test_success_caches_of_two_layers_use_two_keys():
    first, second = SuccessCache(60), SuccessCache(60)
    first.add("same", "x")
    second.add("same", "x")
    assert set(first._entries).isdisjoint(second._entries)


@pytest.mark.parametrize("seconds", [pytest.param(0, id="zero"), pytest.param(-1, id="negative")])
def test_success_cache_needs_positive_seconds(seconds):
    with pytest.raises(ValueError):
        SuccessCache(seconds)
