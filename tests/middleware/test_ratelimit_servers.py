"""RateLimit under real servers: gunicorn workers and servers sharing a real Redis or memcached.

The limit must hold exactly across processes (``gunicorn -w 4``) and across machines (two
gunicorn servers on two ports, sharing one storage): 200 concurrent requests against a limit
of 50 give exactly 50 answers 200 and 150 answers 429, for every strategy. A storage that
goes away is handled by ``on_storage_error`` and is used again, without a restart, when it
comes back. The app is ``ratelimit_target.py``, configured by environment variables.
"""

from __future__ import annotations

import http.client
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from servers import require
from support import ROOT, MemcachedServer, Process, RedisServer, free_port

require("gunicorn", "limits", "redis", "pymemcache")

LIMIT = 50
REQUESTS = 200
THREADS = 20
RETRY_INTERVAL = 0.5  # seconds a worker leaves a failed storage alone


class Gunicorn(Process):
    """``ratelimit_target:application`` under gunicorn on a free port of 127.0.0.1."""

    def __init__(self, workers: int, **config: str) -> None:
        self.port = free_port()
        env = {f"RATELIMIT_{name.upper()}": value for name, value in config.items()}
        super().__init__([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
                          "--workers", str(workers), "--graceful-timeout", "2", "--timeout", "30",
                          "--pythonpath", str(ROOT / "tests" / "middleware"),
                          "ratelimit_target:application"],
                         env=env, wait_for=("127.0.0.1", self.port), timeout=20)
        self.workers = workers
        try:
            self.warm_up()
        except BaseException:
            self.stop()
            raise

    def warm_up(self, timeout: float = 20.0) -> None:
        """Wait until every worker answers (exempt requests: no ``X-Bucket``, no storage)."""
        pids: set[str] = set()
        deadline = time.monotonic() + timeout
        with ThreadPoolExecutor(THREADS) as pool:
            while len(pids) < self.workers and time.monotonic() < deadline:
                answers = pool.map(lambda _: get(self.port, None), range(THREADS))
                pids.update(body.split()[1] for status, _, body in answers if status == 200)
        if len(pids) < self.workers:
            raise AssertionError(f"{len(pids)} of {self.workers} workers answered:\n{self.output()}")


def get(port: int, bucket: str | None) -> tuple[int, dict[str, str], str]:
    """One GET on a connection of its own: ``(status, headers with lower-case names, body)``.

    :param bucket: The rate-limit key (the ``X-Bucket`` header); ``None``: exempt.
    """
    headers = {"Connection": "close"} if bucket is None else {"X-Bucket": bucket, "Connection": "close"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("GET", "/", headers=headers)
        response = connection.getresponse()
        body = response.read().decode()
        return response.status, {name.lower(): value for name, value in response.getheaders()}, body
    finally:
        connection.close()


def burst(ports: list[int], bucket: str) -> list[tuple[int, int, str]]:
    """REQUESTS concurrent GETs from THREADS threads, spread in turn over *ports*."""

    def one(index: int) -> tuple[int, int, str]:
        port = ports[index % len(ports)]
        status, _, body = get(port, bucket)
        return port, status, body

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(one, range(REQUESTS)))


STORES = [
    pytest.param(("redis", "fixed-window"), id="redis-fixed-window"),
    pytest.param(("redis", "moving-window"), id="redis-moving-window"),
    pytest.param(("redis", "sliding-window-counter"), id="redis-sliding-window-counter"),
    pytest.param(("memcached", "fixed-window"), id="memcached-fixed-window"),
]


@pytest.fixture(scope="module", params=STORES)
def cluster(request) -> Iterator[tuple[Gunicorn, Gunicorn]]:
    """A storage and two gunicorn servers (4 and 2 workers) that share it.

    A day-long window: no run crosses a window boundary (a sliding-window-counter's
    windows are aligned on the clock, so an hour would cross one at every full hour).
    """
    kind, strategy = request.param
    storage = RedisServer() if kind == "redis" else MemcachedServer()
    started: list[Process] = [storage]
    try:
        config = {"limit": f"{LIMIT}/day", "strategy": strategy, "storage": storage.url,
                  "on_storage_error": "deny"}
        first = Gunicorn(4, **config)
        started.append(first)
        second = Gunicorn(2, **config)
        started.append(second)
        yield first, second
    finally:
        for process in reversed(started):
            process.stop()


def check_exact(answers: list[tuple[int, int, str]]) -> None:
    statuses = Counter(status for _, status, _ in answers)
    assert statuses == {200: LIMIT, 429: REQUESTS - LIMIT}


def test_one_server_with_four_workers_allows_exactly_the_limit(cluster):
    first, _ = cluster
    bucket = uuid.uuid4().hex
    answers = burst([first.port], bucket)
    check_exact(answers)
    workers = {body.split()[1] for _, status, body in answers if status == 200}
    assert len(workers) > 1, "the 200 answers all came from one worker process"
    status, headers, _ = get(first.port, bucket)
    assert status == 429
    assert int(headers["retry-after"]) >= 1
    assert headers["ratelimit-policy"] == f'"default";q={LIMIT};w=86400'
    assert headers["ratelimit"].startswith('"default";r=0;t=')


def test_two_servers_sharing_the_storage_allow_exactly_the_limit(cluster):
    first, second = cluster
    answers = burst([first.port, second.port], uuid.uuid4().hex)
    check_exact(answers)
    served = Counter(port for port, status, _ in answers if status == 200)
    assert set(served) == {first.port, second.port}, "one server admitted no request at all"


def until_limited(port: int, bucket: str, most: int = 12) -> list[int]:
    """Sequential GETs until the first 429 (at most *most*): their statuses."""
    statuses: list[int] = []
    while len(statuses) < most and 429 not in statuses:
        statuses.append(get(port, bucket)[0])
    return statuses


@pytest.mark.parametrize(
    ("on_storage_error", "while_down"),
    [pytest.param("allow", 200, id="allow-passes"), pytest.param("deny", 503, id="deny-answers-503")],
)
def test_redis_stopped_then_started_again(on_storage_error, while_down):
    redis = RedisServer()
    server = None
    try:
        server = Gunicorn(2, limit="3/day", strategy="fixed-window", storage=redis.url,
                          on_storage_error=on_storage_error, retry_interval=str(RETRY_INTERVAL))
        bucket = uuid.uuid4().hex
        assert until_limited(server.port, bucket) == [200, 200, 200, 429]

        redis.stop()
        for _ in range(6):  # over the limit already: only the storage error decides
            status, headers, _ = get(server.port, bucket)
            assert status == while_down
            if while_down == 503:
                assert int(headers["retry-after"]) >= 1

        redis = RedisServer(redis.port)  # the same port, empty: the same gunicorn counts again
        time.sleep(RETRY_INTERVAL + 0.2)  # each worker leaves a failed storage alone that long
        assert until_limited(server.port, bucket) == [200, 200, 200, 429]
    finally:
        if server is not None:
            server.stop()
        redis.stop()
