"""middleware/ratelimit.py: rules, the IETF fields, 429s, keys, threads and storage failures (memory storage).

The real Redis and Memcached servers are exercised in ``test_ratelimit_servers.py``;
here a storage that fails on demand stands in for them.
"""

from __future__ import annotations

import logging
import sys
import threading
import time

import http_sfv
import pytest
import redis.exceptions
from limits import parse_many
from limits.errors import ConfigurationError
from limits.storage import MemoryStorage

from framework.testing import TestClient, validated
from middleware.ratelimit import RateLimit, _hide_password, _storage_options
from middleware.ratelimit_rules import (
    RuleTable,
    Usage,
    policy_field,
    ratelimit_field,
    retry_after,
    seconds_until,
)

STRATEGIES = ["fixed-window", "moving-window", "sliding-window-counter"]


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def client(**options):
    return TestClient(validated(RateLimit(hello, **options)))


def parsed(value):
    """A structured-field list as [(name, {param: value})] (RFC 8941 parsing, not string matching)."""
    field = http_sfv.List()
    field.parse(value.encode())
    return [(item.value, dict(item.params)) for item in field]


class FlakyStorage(MemoryStorage):
    """A memory storage that raises *error* from every call while ``down`` is set."""

    STORAGE_SCHEME = None  # not registered as a URL scheme with limits

    def __init__(self, error=None):
        super().__init__()
        self.error = error or ConnectionError("Connection refused")
        self.down = True
        self.calls = 0

    @property
    def base_exceptions(self):
        return (ValueError, redis.exceptions.RedisError)

    def _call(self, name, *args, **kwargs):
        self.calls += 1
        if self.down:
            raise self.error
        return getattr(super(), name)(*args, **kwargs)

    def incr(self, *args, **kwargs):
        return self._call("incr", *args, **kwargs)

    def get(self, *args, **kwargs):
        return self._call("get", *args, **kwargs)

    def get_expiry(self, *args, **kwargs):
        return self._call("get_expiry", *args, **kwargs)

    def acquire_sliding_window_entry(self, *args, **kwargs):
        return self._call("acquire_sliding_window_entry", *args, **kwargs)

    def get_sliding_window(self, *args, **kwargs):
        return self._call("get_sliding_window", *args, **kwargs)


# -- pure decisions ------------------------------------------------------------------------

TABLE = RuleTable("100/minute", {
    "/api": "10/second;1000/day",
    "/api/search": "2/second",
    ("POST", "/api"): "1/second",
    ("POST", "/login"): "5/minute",
    ("GET", "/feed"): "7/minute",
})


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        pytest.param("GET", "/", "default", id="no-rule-default"),
        pytest.param("GET", "/api", "/api", id="prefix-itself"),
        pytest.param("GET", "/api/users/7", "/api", id="below-prefix"),
        pytest.param("GET", "/apix", "default", id="segment-boundary"),
        pytest.param("GET", "/api/search/x", "/api/search", id="longest-prefix"),
        pytest.param("POST", "/api/users", "POST /api", id="method-beats-method-less-same-prefix"),
        pytest.param("POST", "/api/search", "/api/search", id="longer-method-less-beats-method"),
        pytest.param("POST", "/login", "POST /login", id="method-rule"),
        pytest.param("GET", "/login", "default", id="method-rule-other-method"),
        pytest.param("HEAD", "/feed", "GET /feed", id="head-follows-get"),
        pytest.param("PUT", "/feed", "default", id="put-not-get"),
    ],
)
def test_rule_table(method, path, name):
    assert TABLE.find(method, path).name == name


def test_rule_table_without_default_limit():
    table = RuleTable(None, {"/api": "1/second"})
    assert table.find("GET", "/api/x").name == "/api"
    assert table.find("GET", "/other") is None


def test_rule_names_are_printable_ascii():
    table = RuleTable(None, {"/caf\u00e9 x": "1/second"})
    rule = table.find("GET", "/caf\u00e9 x/menu".encode().decode("latin-1"))  # PEP 3333 PATH_INFO
    assert rule.name == "/caf%C3%A9%20x"
    assert parsed(rule.policy) == [("/caf%C3%A9%20x", {"q": 1, "w": 1})]


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        pytest.param("100/minute", [("default", {"q": 100, "w": 60})], id="one"),
        pytest.param("10/second;1000/day",
                     [("default", {"q": 10, "w": 1}), ("default", {"q": 1000, "w": 86400})], id="two"),
        pytest.param("5 per 2 hours", [("default", {"q": 5, "w": 7200})], id="multiples"),
    ],
)
def test_policy_field(limit, expected):
    value = policy_field("default", parse_many(limit))
    assert parsed(value) == expected


@pytest.mark.parametrize(
    ("usages", "expected"),
    [
        pytest.param((Usage("default", 42, 17),), '"default";r=42;t=17', id="one"),
        pytest.param((Usage("/api", 0, 1), Usage("/api", 990, 3600)), '"/api";r=0;t=1, "/api";r=990;t=3600',
                     id="two"),
        pytest.param((Usage('say "hi"', 1, 0),), '"say \\"hi\\"";r=1;t=0', id="escaped-name"),
    ],
)
def test_ratelimit_field(usages, expected):
    assert ratelimit_field(usages) == expected
    field = http_sfv.List()  # the same text as http_sfv's own List of Items
    for name, remaining, reset in usages:
        item = http_sfv.Item(name)
        item.params["r"], item.params["t"] = remaining, reset
        field.append(item)
    assert str(field) == expected


def test_ratelimit_field_refuses_what_is_not_a_structured_field():
    with pytest.raises(ValueError):
        ratelimit_field([Usage("caf\u00e9", 1, 1)])  # sf-string: printable ASCII only
    with pytest.raises(ValueError):
        ratelimit_field([Usage("default", 10**15, 1)])  # sf-integer: at most 15 digits


@pytest.mark.parametrize(
    ("usages", "seconds"),
    [
        pytest.param([Usage("a", 0, 17)], 17, id="exhausted"),
        pytest.param([Usage("a", 0, 0)], 1, id="at-least-one"),
        pytest.param([Usage("a", 0, 1), Usage("a", 0, 3600)], 3600, id="latest-exhausted"),
        pytest.param([Usage("a", 0, 2), Usage("a", 5, 3600)], 2, id="not-exhausted-ignored"),
        pytest.param([], 1, id="none"),
    ],
)
def test_retry_after(usages, seconds):
    assert retry_after(usages) == seconds


@pytest.mark.parametrize(
    ("reset", "now", "seconds"),
    [
        pytest.param(100.0, 100.0, 0, id="now"),
        pytest.param(100.2, 100.0, 1, id="rounded-up"),
        pytest.param(117.0, 100.0, 17, id="whole"),
        pytest.param(99.0, 100.0, 0, id="past"),
    ],
)
def test_seconds_until(reset, now, seconds):
    assert seconds_until(reset, now) == seconds


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        pytest.param("redis://:s3cret@host:6379/0", "redis://:***@host:6379/0", id="password-only"),
        pytest.param("redis://user:s3cret@host/0", "redis://user:***@host/0", id="user-and-password"),
        pytest.param("redis://host:6379/0", "redis://host:6379/0", id="no-password"),
        pytest.param("memory://", "memory://", id="memory"),
    ],
)
def test_hide_password(url, shown):
    assert _hide_password(url) == shown


@pytest.mark.parametrize(
    ("url", "options"),
    [
        pytest.param("redis://h:6379/0", {"socket_timeout": 0.25, "socket_connect_timeout": 0.25},
                     id="redis"),
        pytest.param("rediss://h:6379/0", {"socket_timeout": 0.25, "socket_connect_timeout": 0.25},
                     id="rediss"),
        pytest.param("memcached://h:11211", {"connect_timeout": 0.25, "timeout": 0.25}, id="memcached"),
        pytest.param("redis+cluster://h:7000", {"socket_timeout": 0.25, "socket_connect_timeout": 0.25},
                     id="redis-cluster"),
        pytest.param("memory://", {}, id="memory"),
    ],
)
def test_storage_options(url, options):
    got = _storage_options(url, 0.25)
    retry = got.pop("retry", None)
    assert got == options
    if url.startswith("redis:") or url.startswith("rediss:"):
        assert retry.get_retries() == 0  # redis-py's default retries would multiply the timeout


def test_sentinel_timeouts_reach_the_sentinels_too():
    options = _storage_options("redis+sentinel://h:26379/mymaster", 0.25)
    assert options["sentinel_kwargs"]["socket_timeout"] == 0.25
    assert options["sentinel_kwargs"]["retry"].get_retries() == options["retry"].get_retries() == 0


def test_storage_timeout_reaches_the_clients():
    redis_storage = RateLimit(hello, storage="redis://127.0.0.1:1/0", storage_timeout=0.25).storage
    kwargs = redis_storage.storage.connection_pool.connection_kwargs
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (0.25, 0.25)
    memcached = RateLimit(hello, storage="memcached://127.0.0.1:1", strategy="fixed-window",
                          storage_timeout=0.25).storage
    assert memcached.options == {"connect_timeout": 0.25, "timeout": 0.25}


# -- counting, fields, 429 -----------------------------------------------------------------


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_exact_count_then_429(strategy):
    c = client(limit="3/hour", strategy=strategy)
    for remaining in (2, 1, 0):
        response = c.get("/")
        assert response.status_code == 200
        assert response.text == "hello"
        assert parsed(response.headers["RateLimit-Policy"]) == [("default", {"q": 3, "w": 3600})]
        [(name, params)] = parsed(response.headers["RateLimit"])
        assert (name, params["r"]) == ("default", remaining)
        assert 0 <= params["t"] <= 3600
    refused = c.get("/", headers={"Accept": "application/json"})
    assert refused.status_code == 429
    [(name, params)] = parsed(refused.headers["RateLimit"])
    assert (name, params["r"]) == ("default", 0)
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert refused.headers["Retry-After"] == str(max(1, params["t"]))
    assert refused.json["error"]["status"] == 429
    assert refused.json["error"]["message"].startswith("Too many requests; try again in ")


def test_429_in_html_by_accept():
    c = client(limit="1/hour")
    c.get("/")
    refused = c.get("/", headers={"Accept": "text/html"})
    assert refused.status_code == 429
    assert refused.mimetype == "text/html"
    assert "Too many requests" in refused.text
    assert "RateLimit" in refused.headers and "Retry-After" in refused.headers


def test_head_429_has_no_body():
    c = client(limit="1/hour")
    c.head("/")
    refused = c.head("/")
    assert refused.status_code == 429 and refused.data == b""


def test_both_limits_of_a_string_apply():
    per_hour_first = client(limit="3/hour;5/day")
    statuses = [per_hour_first.get("/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    per_day_first = client(limit="5/hour;3/day")
    responses = [per_day_first.get("/") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    policy = parsed(responses[0].headers["RateLimit-Policy"])
    assert policy == [("default", {"q": 5, "w": 3600}), ("default", {"q": 3, "w": 86400})]
    assert [params["r"] for _, params in parsed(responses[2].headers["RateLimit"])] == [2, 0]
    # The hour limit counted the refused request (limits are hit in order, up to the
    # first that refuses); the day limit refused it and sets Retry-After.
    refused = parsed(responses[3].headers["RateLimit"])
    assert [params["r"] for _, params in refused] == [1, 0]
    assert responses[3].headers["Retry-After"] == str(max(1, refused[1][1]["t"]))


def test_ten_per_second_and_thousand_per_day_both_in_the_fields():
    response = client(limit="10/second;1000/day").get("/")
    assert parsed(response.headers["RateLimit-Policy"]) == [("default", {"q": 10, "w": 1}),
                                                            ("default", {"q": 1000, "w": 86400})]
    remaining = [(name, params["r"]) for name, params in parsed(response.headers["RateLimit"])]
    assert remaining == [("default", 9), ("default", 999)]


def test_per_rule_and_per_method_limits():
    c = client(limit="5/hour", rules={"/api": "2/hour", ("POST", "/login"): "1/hour"})
    assert [c.get("/api/x").status_code for _ in range(3)] == [200, 200, 429]
    assert [c.post("/login").status_code for _ in range(2)] == [200, 429]
    assert c.get("/login").status_code == 200  # the default limit, counted apart
    response = c.get("/")
    assert parsed(response.headers["RateLimit"])[0][0] == "default"
    assert parsed(response.headers["RateLimit"])[0][1]["r"] == 3  # two requests to /login and /
    named = c.get("/api")
    assert parsed(named.headers["RateLimit-Policy"]) == [("/api", {"q": 2, "w": 3600})]


def test_same_limit_in_two_rules_counts_apart():
    c = client(limit=None, rules={"/a": "1/hour", "/b": "1/hour"})
    assert [c.get("/a").status_code, c.get("/b").status_code, c.get("/a").status_code] == [200, 200, 429]


def test_legacy_headers():
    c = client(limit="2/hour;10/day", legacy_headers=True)
    c.get("/")
    response = c.get("/")
    assert response.headers["X-RateLimit-Limit"] == "2"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert 0 <= int(response.headers["X-RateLimit-Reset"]) - time.time() <= 3601
    assert "X-RateLimit-Limit" not in client(limit="2/hour").get("/").headers


# -- keys and exemptions -------------------------------------------------------------------


def test_ip_key_is_remote_addr_only():
    c = client(limit="1/hour")
    assert c.get("/", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200
    assert c.get("/", environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 200
    spoofed = c.get("/", environ_base={"REMOTE_ADDR": "10.0.0.1"}, headers={"X-Forwarded-For": "1.2.3.4"})
    assert spoofed.status_code == 429


def test_user_key():
    c = client(limit="1/hour", key="user")
    for user in ("alice", "bob"):
        assert c.get("/", environ_base={"REMOTE_USER": user}).status_code == 200
    assert c.get("/", environ_base={"REMOTE_USER": "alice"}).status_code == 429
    # Without a user: counted by address, apart from a user of the same name.
    assert c.get("/", environ_base={"REMOTE_ADDR": "alice"}).status_code == 200
    assert c.get("/", environ_base={"REMOTE_ADDR": "alice"}).status_code == 429


def test_callable_key_and_exemption():
    def by_api_key(environ):
        return environ.get("HTTP_X_API_KEY")  # no key: exempt

    c = client(limit="1/hour", key=by_api_key)
    assert c.get("/", headers={"X-API-Key": "k1"}).status_code == 200
    assert c.get("/", headers={"X-API-Key": "k1"}).status_code == 429
    for _ in range(3):
        exempt = c.get("/")
        assert exempt.status_code == 200
        assert "RateLimit" not in exempt.headers and "RateLimit-Policy" not in exempt.headers


def test_key_function_returning_a_non_string():
    c = TestClient(RateLimit(hello, key=lambda environ: 42))
    with pytest.raises(TypeError, match="must return a str"):
        c.get("/")


def test_unlimited_paths_and_preflights_pass_uncounted():
    c = client(limit=None, rules={"/api": "1/hour"})
    assert all(c.get("/").status_code == 200 for _ in range(3))
    assert "RateLimit" not in c.get("/").headers
    preflight = {"Access-Control-Request-Method": "POST", "Origin": "https://example.com"}
    assert all(c.options("/api", headers=preflight).status_code == 200 for _ in range(3))
    assert c.get("/api").status_code == 200
    assert c.get("/api").status_code == 429


def test_eight_threads_on_one_key_get_exactly_the_limit():
    layer = RateLimit(hello, limit="50/hour", strategy="fixed-window")
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def hammer():
        c = TestClient(validated(layer))
        start.wait()
        got = [c.get("/").status_code for _ in range(25)]
        with lock:
            statuses.extend(got)

    for strategy in STRATEGIES:
        layer = RateLimit(hello, limit="50/hour", strategy=strategy)
        statuses.clear()
        threads = [threading.Thread(target=hammer) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert (statuses.count(200), statuses.count(429)) == (50, 150), strategy


# -- the body, close() and exc_info --------------------------------------------------------


class Body:
    def __init__(self):
        self.closed = 0
        self.chunks = iter([b"a", b"b"])

    def __iter__(self):
        return self

    def __next__(self):
        return next(self.chunks)

    def close(self):
        self.closed += 1


def test_body_returned_as_is_and_closed():
    bodies = []

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        bodies.append(Body())
        return bodies[-1]

    layer = RateLimit(app, limit="5/hour")
    seen = []
    returned = layer({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "REMOTE_ADDR": "1.2.3.4"},
                     lambda status, headers, exc_info=None: seen.append(headers))
    assert returned is bodies[0]  # never buffered nor wrapped
    assert [name for name, _ in seen[0]] == ["Content-Type", "RateLimit-Policy", "RateLimit"]
    response = TestClient(validated(layer)).get("/")
    assert response.data == b"ab" and bodies[1].closed == 1


def test_exc_info_forwarded():
    def failing(environ, start_response):
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"error"]

    calls = []
    RateLimit(failing)({"REQUEST_METHOD": "GET", "PATH_INFO": "/"},
                       lambda status, headers, exc_info=None: calls.append(exc_info))
    assert calls[0][0] is RuntimeError


# -- the multiprocess warning --------------------------------------------------------------


def test_memory_storage_under_multiprocess_warns_once(caplog):
    c = client(limit="100/hour")
    with caplog.at_level(logging.WARNING, logger="middleware.ratelimit"):
        c.get("/")
        assert caplog.records == []
        for _ in range(3):
            c.get("/", environ_overrides={"wsgi.multiprocess": True})
    assert len(caplog.records) == 1
    assert "multiplied by the number of workers" in caplog.records[0].getMessage()


# -- storage failures ----------------------------------------------------------------------

ERRORS = [
    pytest.param(ConnectionError("Connection refused"), id="connection-refused"),
    pytest.param(TimeoutError("timed out"), id="timeout"),
    pytest.param(redis.exceptions.ConnectionError("Error 111"), id="redis-connection"),
    pytest.param(redis.exceptions.TimeoutError("Timeout reading from socket"), id="redis-timeout"),
    pytest.param(ConfigurationError("memcached prerequisite not available"), id="configuration"),
]


@pytest.mark.parametrize("error", ERRORS)
def test_allow_passes_and_logs_once_per_interval(error, caplog):
    storage = FlakyStorage(error)
    c = client(limit="1/hour", storage=storage, retry_interval=0.2)
    with caplog.at_level(logging.WARNING, logger="middleware.ratelimit"):
        responses = [c.get("/") for _ in range(5)]
        assert [r.status_code for r in responses] == [200] * 5
        assert all("RateLimit" not in r.headers for r in responses)
        assert storage.calls == 1  # left alone for the interval
        assert len(caplog.records) == 1
        assert "requests pass unlimited" in caplog.records[0].getMessage()
        time.sleep(0.25)
        assert c.get("/").status_code == 200
    assert storage.calls == 2 and len(caplog.records) == 2


@pytest.mark.parametrize("error", ERRORS)
def test_deny_answers_503_with_retry_after(error):
    c = client(limit="1/hour", storage=FlakyStorage(error), on_storage_error="deny", retry_interval=3)
    for _ in range(2):
        response = c.get("/", headers={"Accept": "application/json"})
        assert response.status_code == 503
        assert 1 <= int(response.headers["Retry-After"]) <= 3
        assert response.json["error"]["status"] == 503


def test_memory_fallback_then_recovery(caplog):
    storage = FlakyStorage()
    c = client(limit="2/hour", storage=storage, on_storage_error="memory", retry_interval=0.2)
    with caplog.at_level(logging.INFO, logger="middleware.ratelimit"):
        statuses = [c.get("/").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]  # still limited, in this process
        assert "RateLimit" in c.get("/").headers
        assert storage.calls == 1
        storage.down = False
        time.sleep(0.25)
        back = c.get("/")
        assert back.status_code == 200  # the shared storage again, with its own counts
        assert parsed(back.headers["RateLimit"])[0][1]["r"] == 1
        assert storage.calls > 1
    messages = [record.getMessage() for record in caplog.records]
    assert "counted in this process" in messages[0]
    assert messages[-1] == "RateLimit: the storage answers again."


def test_deny_recovers_without_restart():
    storage = FlakyStorage()
    c = client(limit="5/hour", storage=storage, on_storage_error="deny", retry_interval=0.1)
    assert c.get("/").status_code == 503
    storage.down = False
    assert c.get("/").status_code == 503  # still within the interval
    time.sleep(0.15)
    assert c.get("/").status_code == 200


# -- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        pytest.param({"limit": "lots"}, ValueError, "is not a limit string", id="bad-limit"),
        pytest.param({"limit": 100}, TypeError, "must be a limit string", id="limit-not-string"),
        pytest.param({"limit": None}, ValueError, "needs a limit", id="no-limit-no-rules"),
        pytest.param({"rules": {"/api": "ten"}}, ValueError, "rule '/api'", id="bad-rule-limit"),
        pytest.param({"rules": {"api": "1/second"}}, ValueError, "starting with '/'",
                     id="prefix-without-slash"),
        pytest.param({"rules": {("post", "/x"): "1/second"}}, ValueError, "upper-case method",
                     id="lower-method"),
        pytest.param({"rules": ["/api"]}, TypeError, "must be a dict", id="rules-not-dict"),
        pytest.param({"key": "X-Forwarded-For"}, ValueError, "'ip', 'user'", id="bad-key"),
        pytest.param({"strategy": "token-bucket"}, ValueError, "strategy must be one of", id="bad-strategy"),
        pytest.param({"on_storage_error": "ignore"}, ValueError, "'allow', 'deny' or 'memory'",
                     id="bad-on-error"),
        pytest.param({"storage_timeout": 0}, ValueError, "storage_timeout", id="zero-timeout"),
        pytest.param({"retry_interval": -1}, ValueError, "retry_interval", id="negative-retry"),
        pytest.param({"storage": "nosuch://x"}, ValueError, "not a storage URL", id="unknown-scheme"),
        pytest.param({"storage": "async+memory://"}, ValueError, "asyncio storage", id="async-storage"),
        pytest.param({"storage": 6379}, TypeError, "must be a URL", id="storage-not-url"),
        pytest.param({"storage": "memcached://127.0.0.1:1", "strategy": "moving-window"}, ValueError,
                     "does not support the 'moving-window' strategy", id="memcached-moving-window"),
    ],
)
def test_bad_configuration(options, error, match):
    with pytest.raises(error, match=match):
        RateLimit(hello, **options)


def test_app_must_be_callable():
    with pytest.raises(TypeError, match="WSGI callable"):
        RateLimit(None)


@pytest.mark.parametrize(
    ("url", "extra"),
    [
        pytest.param("redis://127.0.0.1:6379/0", "redis", id="redis"),
        pytest.param("memcached://127.0.0.1:11211", "memcached", id="memcached"),
    ],
)
def test_missing_client_library_names_the_extra(url, extra, monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.setitem(sys.modules, "pymemcache", None)
    with pytest.raises(ImportError, match=rf'pip install "onion-wsgi\[{extra}\]"'):
        RateLimit(hello, storage=url, strategy="fixed-window")


def test_describe_hides_the_password():
    layer = RateLimit(hello, limit="5/minute", storage="redis://:s3cret@127.0.0.1:1/0",
                      rules={"/api": "1/second"}, key="user")
    assert layer.describe() == ("RateLimit(limit='5/minute', key='user', "
                                "storage='redis://:***@127.0.0.1:1/0', strategy='sliding-window-counter', "
                                "rules=1, on_storage_error='allow')")
    assert "s3cret" not in layer.describe()
