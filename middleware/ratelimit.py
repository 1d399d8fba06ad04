"""``RateLimit``: request rate limits per client, with the IETF ``RateLimit`` header fields.

::

    from middleware.ratelimit import RateLimit

    application = RateLimit(app, limit="100/minute", key="user",
                            rules={"/api": "10/second;1000/day", ("POST", "/login"): "5/minute"},
                            storage="redis://127.0.0.1:6379/0")

Built on the `limits` library: its limit strings (``"10/second;1000/day"``: every
limit of the string applies), its strategies (``"fixed-window"``, ``"moving-window"``,
``"sliding-window-counter"``) and its storages (``memory://``, ``redis://``,
``memcached://``).

.. warning::

    ``memory://`` (the default) counts in one process. Under ``gunicorn -w 4`` each
    worker has its own counters and a limit of 100 lets 400 requests through. Use a
    Redis or Memcached storage as soon as there is more than one process or machine;
    the layer logs a warning (once) when a memory storage runs under a server that
    sets ``wsgi.multiprocess``.

Every limited response carries the fields of the IETF httpapi draft
(draft-ietf-httpapi-ratelimit-headers), one item per applied limit, named after its
rule (``"default"`` for ``limit``)::

    RateLimit-Policy: "default";q=100;w=60
    RateLimit: "default";r=42;t=17

Over a limit: 429 with ``Retry-After`` (whole seconds, at least 1), in JSON or HTML
by ``Accept``. The inner app's response is never buffered: the fields are added by
a ``start_response`` wrapper and its iterable is returned as is.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from limits.errors import ConcurrentUpdateError, ConfigurationError, StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import STRATEGIES, RateLimiter
from werkzeug.exceptions import ServiceUnavailable, TooManyRequests

from .ratelimit_rules import (
    Rule,
    RuleTable,
    Usage,
    UsageTuple,
    policy_field,
    ratelimit_field,
    retry_after,
)
from .toolkit import error_app, is_preflight

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["RateLimit", "Rule", "RuleTable", "Usage", "policy_field", "ratelimit_field", "retry_after"]

logger = logging.getLogger("middleware.ratelimit")

KeyFunc = Callable[[Any], "str | None"]
_ON_ERROR = ("allow", "deny", "memory")
# The client library of each storage scheme, and the extra that installs it.
_EXTRAS = {**dict.fromkeys(("redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster"),
                           ("redis", "redis")),
           "memcached": ("pymemcache", "memcached")}


def _key_function(key: Any) -> KeyFunc:
    if key == "ip":
        return _ip_key
    if key == "user":
        return _user_key
    if callable(key) and not isinstance(key, str):
        return key  # type: ignore[no-any-return]
    raise ValueError(f"RateLimit's key must be 'ip', 'user' or a function f(environ) -> str | None, "
                     f"not {key!r}.")


def _ip_key(environ: WSGIEnvironment) -> str:
    """The client address the server saw (``ProxyFix`` outside fixes it behind a proxy)."""
    return "ip:" + (environ.get("REMOTE_ADDR") or "")


def _user_key(environ: WSGIEnvironment) -> str:
    """``REMOTE_USER``; a request without one is counted by its address."""
    user = environ.get("REMOTE_USER")
    return "user:" + user if user else _ip_key(environ)


def _storage_options(url: str, timeout: float) -> dict[str, Any]:
    """The client options that make a storage that does not answer in *timeout* seconds fail."""
    scheme = urlsplit(url).scheme
    if scheme == "memcached":
        return {"connect_timeout": timeout, "timeout": timeout}
    if scheme not in _EXTRAS:
        return {}
    sockets: dict[str, Any] = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    if scheme == "redis+cluster":
        return sockets
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # No retries: redis-py retries 3 times with a backoff by default, which would
    # turn a 0.5 s timeout into seconds.
    sockets["retry"] = Retry(NoBackoff(), 0)
    if scheme == "redis+sentinel":  # the sentinels have connections of their own
        return {**sockets, "sentinel_kwargs": dict(sockets)}
    return sockets


def _open_storage(storage: Any, timeout: float) -> Storage:
    """*storage* (a `limits` storage URL, or a ``Storage``) as a ``Storage``."""
    if isinstance(storage, Storage):
        return storage
    if not isinstance(storage, str):
        raise TypeError(f"RateLimit's storage must be a URL such as 'memory://' or "
                        f"'redis://127.0.0.1:6379/0', not {storage!r}.")
    scheme = urlsplit(storage).scheme
    if scheme in _EXTRAS:
        module, extra = _EXTRAS[scheme]
        try:
            __import__(module)
        except ImportError:
            raise ImportError(f"RateLimit's storage {_hide_password(storage)!r} needs the {module} "
                              f'package: pip install "onion-wsgi[{extra}]".') from None
    try:
        opened = storage_from_string(storage, wrap_exceptions=True, **_storage_options(storage, timeout))
    except ConfigurationError as error:
        raise ValueError(f"RateLimit's storage {_hide_password(storage)!r} is not a storage URL the "
                         f"limits library knows ({error}); use e.g. 'memory://', "
                         "'redis://host:6379/0' or 'memcached://host:11211'.") from None
    if not isinstance(opened, Storage):
        raise ValueError(f"RateLimit's storage {_hide_password(storage)!r} is an asyncio storage; "
                         "a WSGI layer needs a synchronous one.")
    return opened


def _hide_password(url: str) -> str:
    """*url* with its password (if any) replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[2]}"))


class RateLimit:
    """Limit how often each client may call the wrapped app, with the IETF ``RateLimit`` fields.

    ::

        application = RateLimit(app, limit="100/minute", key="user",
                                rules={"/api": "10/second;1000/day", ("POST", "/login"): "5/minute"},
                                storage="redis://127.0.0.1:6379/0")

    Each request is counted against the limits of its rule (see :class:`RuleTable`)
    under its client's key. Within them it goes in, and its response gets the
    ``RateLimit-Policy`` and ``RateLimit`` fields; over one of them it gets a 429
    with those fields and ``Retry-After``. A request whose key is ``None``, a path no
    rule covers when *limit* is ``None``, and a CORS preflight (``OPTIONS`` with
    ``Access-Control-Request-Method``, sent by browsers on their own) pass uncounted
    and without the fields.

    When the storage fails or does not answer within *storage_timeout* seconds,
    *on_storage_error* decides, and the storage is left alone for *retry_interval*
    seconds (so a hung Redis costs one timeout per interval, not one per request),
    then tried again: a storage that comes back is used again without a restart.
    The failure is logged at WARNING on ``middleware.ratelimit`` once per interval,
    the recovery at INFO. Never a 500.

    :param app: The WSGI application to wrap.
    :param limit: The limit string (`limits` syntax, e.g. ``"100/minute"`` or
        ``"10/second;1000/day"``) where no rule matches; ``None``: only the rules limit.
    :param key: Whom a request counts for: ``"ip"`` (``REMOTE_ADDR`` only: put
        werkzeug's ``ProxyFix`` outside behind a proxy; ``X-Forwarded-For`` is never
        read here), ``"user"`` (``REMOTE_USER``, set by an auth layer outside; a
        request without a user counts by its address), or ``f(environ) -> str | None``
        (``None``: the request is exempt).
    :param storage: A `limits` storage URL: ``"memory://"`` (one process only),
        ``"redis://host:6379/0"``, ``"memcached://host:11211"``; or a
        ``limits.storage.Storage``. Redis and Memcached need the ``onion-wsgi[redis]``
        or ``onion-wsgi[memcached]`` extra.
    :param strategy: ``"sliding-window-counter"``, ``"fixed-window"`` or ``"moving-window"``
        (not with Memcached).
    :param rules: Path prefix, or ``(METHOD, prefix)``, -> limit string; the longest
        prefix wins, a method rule beats a method-less one at the same prefix.
    :param on_storage_error: ``"allow"`` (requests pass, without the fields),
        ``"deny"`` (503 with ``Retry-After``) or ``"memory"`` (limits counted in this
        process until the storage answers again).
    :param storage_timeout: Seconds a Redis or Memcached storage may take to answer
        (connect and each command) before it counts as down; a ``Storage`` object
        given as *storage* keeps its own client's timeouts.
    :param retry_interval: Seconds a failed storage is left alone before the next try.
    :param legacy_headers: Also send ``X-RateLimit-Limit``, ``X-RateLimit-Remaining``
        and ``X-RateLimit-Reset`` (an epoch time, as GitHub's API) for the limit with
        the fewest requests left.
    """

    def __init__(self, app: WSGIApplication, *, limit: str | None = "100/minute", key: Any = "ip",
                 storage: str | Storage = "memory://", strategy: str = "sliding-window-counter",
                 rules: Mapping[Any, str] | None = None, on_storage_error: str = "allow",
                 storage_timeout: float = 0.5, retry_interval: float = 5.0,
                 legacy_headers: bool = False) -> None:
        if not callable(app):
            raise TypeError(f"RateLimit's app must be a WSGI callable, not {app!r}.")
        if strategy not in STRATEGIES:
            raise ValueError(f"RateLimit's strategy must be one of {', '.join(map(repr, STRATEGIES))}, "
                             f"not {strategy!r}.")
        if on_storage_error not in _ON_ERROR:
            raise ValueError("RateLimit's on_storage_error must be 'allow', 'deny' or 'memory', "
                             f"not {on_storage_error!r}.")
        for name, seconds in (("storage_timeout", storage_timeout), ("retry_interval", retry_interval)):
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
                raise ValueError(f"RateLimit's {name} must be a number of seconds above 0, not {seconds!r}.")
        self.app = app
        self.rules = RuleTable(limit, rules)
        self.key = key
        self._key = _key_function(key)
        self.storage = _open_storage(storage, storage_timeout)
        self.strategy = strategy
        try:
            self.limiter: RateLimiter = STRATEGIES[strategy](self.storage)
        except NotImplementedError:
            raise ValueError(f"RateLimit's storage {type(self.storage).__name__} does not support the "
                             f"{strategy!r} strategy; choose another strategy or storage.") from None
        self.on_storage_error = on_storage_error
        self.storage_timeout = storage_timeout
        self.retry_interval = retry_interval
        self.legacy_headers = legacy_headers
        self._fallback = STRATEGIES[strategy](MemoryStorage()) if on_storage_error == "memory" else None
        self._errors = _storage_errors(self.storage)
        self._down_until = 0.0  # monotonic time until which the storage counts as down; 0: up
        self._lock = threading.Lock()
        self._warn_multiprocess = isinstance(self.storage, MemoryStorage)
        self._limit, self._storage_url = limit, storage

    def describe(self) -> str:
        """One line for ``python -m framework stack``; a storage URL's password is hidden."""
        storage = (_hide_password(self._storage_url) if isinstance(self._storage_url, str)
                   else type(self._storage_url).__name__)
        key = self.key if isinstance(self.key, str) else getattr(self.key, "__name__", "callable")
        rules = len(self.rules.any_method) + sum(map(len, self.rules.by_method.values()))
        return (f"RateLimit(limit={self._limit!r}, key={key!r}, storage={storage!r}, "
                f"strategy={self.strategy!r}, rules={rules}, on_storage_error={self.on_storage_error!r})")

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Count the request; pass it in with the fields, or answer 429 (503 when the storage is down)."""
        method = environ.get("REQUEST_METHOD") or "GET"
        rule = self.rules.find(method, environ.get("PATH_INFO") or "/")
        if rule is None or (method == "OPTIONS" and is_preflight(environ)):
            return self.app(environ, start_response)
        key: str | None
        if self._key is _ip_key:  # the default, inlined: it runs on every request
            key = "ip:" + (environ.get("REMOTE_ADDR") or "")
        else:
            key = self._key(environ)
            if key is None:
                return self.app(environ, start_response)
            if not isinstance(key, str):
                raise TypeError(f"RateLimit's key function returned {key!r}; it must return a str, or None "
                                "to exempt the request.")
        if self._warn_multiprocess and environ.get("wsgi.multiprocess"):
            self._warn_once()
        if self._down_until:  # the storage failed lately: _count decides where to count
            counted = self._count(rule, key)
        else:  # _count's usual path, inlined: it runs on every request
            try:
                counted = _hit(self.limiter, rule, key)
            except self._errors as error:
                self._failed(error)
                counted = None if self._fallback is None else _hit(self._fallback, rule, key)
        if counted is None:
            return self._storage_down(environ, start_response)
        allowed, field, usages = counted
        fields = [("RateLimit-Policy", rule.policy), ("RateLimit", field)]
        if self.legacy_headers:
            fields += _legacy_fields(rule, usages)
        if allowed:
            return self.app(environ, _adding(start_response, fields))
        wait = retry_after(usages)
        refuse = error_app(TooManyRequests(f"Too many requests; try again in {wait} "
                                           f"second{'' if wait == 1 else 's'}.", retry_after=wait))
        return refuse(environ, _adding(start_response, fields))

    def _warn_once(self) -> None:
        """Say, once, that a memory storage under several processes multiplies every limit."""
        with self._lock:  # several threads may see the first multiprocess request at once
            if not self._warn_multiprocess:
                return
            self._warn_multiprocess = False
        logger.warning("RateLimit counts in memory (storage='memory://') under a server with several "
                       "processes: each process has its own counters, so every limit is multiplied by "
                       "the number of workers. Use storage='redis://...' or 'memcached://...'.")

    def _count(self, rule: Rule, key: str) -> tuple[bool, str, list[UsageTuple]] | None:
        """Hit the rule's limits: ``(allowed, RateLimit field, usages)``; ``None``: no storage to count in."""
        down_until = self._down_until
        if not down_until or time.monotonic() >= down_until:
            try:
                counted = _hit(self.limiter, rule, key)
            except self._errors as error:
                self._failed(error)
            else:
                if down_until:
                    self._recovered()
                return counted
        return None if self._fallback is None else _hit(self._fallback, rule, key)

    def _failed(self, error: BaseException) -> None:
        """Leave the storage alone for ``retry_interval``; log once per interval."""
        with self._lock:
            now = time.monotonic()
            if now < self._down_until:  # another thread failed at the same time and said so
                return
            self._down_until = now + self.retry_interval
        what = {"allow": "requests pass unlimited", "deny": "requests get 503",
                "memory": "limits are counted in this process"}[self.on_storage_error]
        logger.warning("RateLimit: the storage failed (%s: %s); %s, retrying in %ss.",
                       type(error).__name__, error, what, self.retry_interval)

    def _recovered(self) -> None:
        with self._lock:
            if not self._down_until:
                return
            self._down_until = 0.0
        logger.info("RateLimit: the storage answers again.")

    def _storage_down(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self.on_storage_error == "allow":
            return self.app(environ, start_response)
        wait = max(1, math.ceil(self._down_until - time.monotonic()))
        refuse = error_app(ServiceUnavailable("The rate limit cannot be checked; try again later.",
                                              retry_after=wait))
        return refuse(environ, start_response)


def _legacy_fields(rule: Rule, usages: list[UsageTuple]) -> list[tuple[str, str]]:
    """``X-RateLimit-Limit/-Remaining/-Reset`` for the limit with the fewest requests left."""
    index = min(range(len(usages)), key=lambda i: (usages[i][1], -usages[i][2]))
    _, remaining, reset = usages[index]
    return [("X-RateLimit-Limit", str(rule.items[index].amount)),
            ("X-RateLimit-Remaining", str(remaining)),
            ("X-RateLimit-Reset", str(math.ceil(time.time()) + reset))]


def _hit(limiter: RateLimiter, rule: Rule, key: str) -> tuple[bool, str, list[UsageTuple]]:
    """Hit *rule*'s limits in order, up to the first that refuses; then read where each stands.

    Returns whether the request is allowed, the ``RateLimit`` field (what
    :func:`ratelimit_field` makes of the usages, built here: it runs on every request)
    and the usages.
    """
    refused = None
    for item in rule.items:
        if not limiter.hit(item, rule.name, key):
            refused = item
            break
    now = time.time()
    usages: list[UsageTuple] = []
    parts = []
    label = rule.label
    for item in rule.items:
        stats = limiter.get_window_stats(item, rule.name, key)
        # The sliding window counter weighs the previous window: a refused hit may still
        # read as 1 left. The client was refused, so it is told 0.
        remaining = 0 if item is refused else stats.remaining
        reset = math.ceil(stats.reset_time - now)  # seconds_until, inlined
        if reset < 0:
            reset = 0
        # Plain tuples (a Usage cost more than the field); both numbers are sf-integers,
        # as RuleTable checked the limits' amounts and windows.
        usages.append((rule.name, remaining, reset))
        parts.append(f"{label};r={remaining};t={reset}")
    return refused is None, ", ".join(parts), usages


def _adding(start_response: StartResponse, fields: list[tuple[str, str]]) -> StartResponse:
    """A ``start_response`` that appends *fields* to the headers (``exc_info`` passed on)."""

    def wrapped(status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None) -> Any:
        return start_response(status, [*headers, *fields], exc_info)

    return wrapped  # type: ignore[return-value]


def _storage_errors(storage: Storage) -> tuple[type[BaseException], ...]:
    """What a storage raises when it is down: its client's errors, socket errors, `limits`' own."""
    base = storage.base_exceptions
    return (StorageError, ConcurrentUpdateError, ConfigurationError, OSError,
            *(base if isinstance(base, tuple) else (base,)))
