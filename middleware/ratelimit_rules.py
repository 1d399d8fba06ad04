"""The rules of ``RateLimit``: which limits apply to a request, and the header fields that say so.

::

    table = RuleTable("100/minute", {"/api": "10/second;1000/day", ("POST", "/login"): "5/minute"})
    rule = table.find("GET", "/api/items")      # Rule("/api", ...)
    rule.policy                                 # '"/api";q=10;w=1, "/api";q=1000;w=86400'
    ratelimit_field([Usage("/api", 9, 1)])      # '"/api";r=9;t=1'

Pure functions and tables, no storage: :mod:`middleware.ratelimit` counts the hits.
The fields follow the IETF httpapi draft (draft-ietf-httpapi-ratelimit-headers), as
RFC 8941 structured fields.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import quote

import http_sfv
from http_sfv.integer import ser_integer
from limits import RateLimitItem, parse_many

from .toolkit import PrefixMap

__all__ = ["Rule", "RuleTable", "Usage", "UsageTuple", "parse_limit", "policy_field", "ratelimit_field",
           "retry_after", "seconds_until", "sf_string"]

_METHOD = re.compile(r"[A-Z]+")


@dataclass(frozen=True)
class Rule:
    """The limits that apply to a request: the rule's *name* and its parsed *items*."""

    name: str
    items: tuple[RateLimitItem, ...]
    #: The ``RateLimit-Policy`` value, serialized once.
    policy: str
    #: The name as an RFC 8941 string, serialized once, for the ``RateLimit`` field.
    label: str = ""


#: Where a client stands against one limit: ``(name, remaining, reset)``, a :class:`Usage`'s fields.
UsageTuple = tuple[str, int, int]


class Usage(NamedTuple):
    """Where a client stands against one limit after a request."""

    name: str
    remaining: int
    #: Seconds until the limit resets (a quota unit is free again), rounded up.
    reset: int


def parse_limit(owner: str, value: Any) -> tuple[RateLimitItem, ...]:
    """The limits of a `limits` string such as ``"10/second;1000/day"``, or a ``ValueError``."""
    if not isinstance(value, str):
        raise TypeError(f"{owner} must be a limit string such as '100/minute' or "
                        f"'10/second;1000/day', not {value!r}.")
    try:
        items = tuple(parse_many(value))
    except ValueError:
        items = ()
    if not items:
        raise ValueError(f"{owner} {value!r} is not a limit string; write e.g. '100/minute', "
                         "'5 per second' or '10/second;1000/day'.")
    return items


def policy_field(name: str, items: Iterable[RateLimitItem]) -> str:
    """The ``RateLimit-Policy`` value of a rule: one item per limit, with quota ``q`` and window ``w``.

    ::

        policy_field("default", parse_many("10/second;1000/day"))
        # '"default";q=10;w=1, "default";q=1000;w=86400'
    """
    field = http_sfv.List()
    for item in items:
        member = http_sfv.Item(name)
        member.params["q"], member.params["w"] = item.amount, item.get_expiry()
        field.append(member)
    return str(field)


@lru_cache(maxsize=256)
def sf_string(name: str) -> str:
    """*name* as an RFC 8941 string (``'"default"'``), cached: rule names repeat."""
    return str(http_sfv.Item(name))


def _sf_integer(value: int) -> str:
    """An RFC 8941 integer: ``str`` for the usual range, http_sfv's checks for the rest."""
    return str(value) if 0 <= value < 10**15 else ser_integer(value)


def ratelimit_field(usages: Iterable[tuple[str, int, int]]) -> str:
    """The ``RateLimit`` value: one item per limit, with remaining ``r`` and reset ``t`` (seconds).

    ::

        ratelimit_field([Usage("default", 42, 17)])     # '"default";r=42;t=17'

    *usages* are :class:`Usage` s or plain ``(name, remaining, reset)`` tuples. The
    same text as an ``http_sfv.List`` of ``Item`` s gives, at a tenth of the cost (it
    runs on every request): the name goes through http_sfv's serializer (cached), an
    integer through it only outside ``0 <= n < 10**15`` (where ``str`` is the
    serialization), put together as RFC 8941 4.1.1 (list members joined by ``", "``)
    and 4.1.1.2 (parameters as ``;key=value``) say.
    """
    return ", ".join([f"{sf_string(name)};r={_sf_integer(remaining)};t={_sf_integer(reset)}"
                      for name, remaining, reset in usages])


def seconds_until(reset: float, now: float) -> int:
    """Whole seconds from *now* until *reset* (an epoch time), rounded up, never negative."""
    return max(0, math.ceil(reset - now))


def retry_after(usages: Iterable[tuple[str, int, int]]) -> int:
    """``Retry-After`` for a refused request: the latest reset of the exhausted limits, at least 1.

    RFC 9110 10.2.3 gives it in whole seconds; 0 would invite an immediate retry
    that the limit refuses again.
    """
    return max([1, *(reset for _, remaining, reset in usages if remaining <= 0)])


def _policy_name(method: str | None, prefix: str) -> str:
    """A rule's name in the fields: ``"/api"`` or ``"POST /login"``, printable ASCII (RFC 8941 3.3.3)."""
    name = quote(prefix.encode("utf-8", "surrogateescape"), safe="/!$&'()*+,;=:@-._~")
    return f"{method} {name}" if method else name


class RuleTable:
    """Which limits apply to a method and path: ``rules`` and the default ``limit``.

    ::

        table = RuleTable("100/minute", {"/api": "10/second", ("POST", "/login"): "5/minute"})
        table.find("GET", "/api/users").name      # "/api"
        table.find("POST", "/login").name         # "POST /login"
        table.find("GET", "/login").name          # "default"

    The longest matching prefix wins (at segment boundaries); at the same prefix a
    rule for the request's method beats a rule for every method. ``HEAD`` follows
    the ``GET`` rules when it has none of its own (a server answers it as a ``GET``).

    :param limit: The limit string where no rule matches; ``None``: no limit there.
    :param rules: Prefix, or ``(METHOD, prefix)``, -> limit string.
    """

    def __init__(self, limit: str | None, rules: Mapping[Any, str] | None) -> None:
        self.default = None if limit is None else self._rule("default", "limit", limit)
        self.any_method: PrefixMap[Rule] = PrefixMap()
        self.by_method: dict[str, PrefixMap[Rule]] = {}
        if rules is not None and not isinstance(rules, Mapping):
            raise TypeError("RateLimit's rules must be a dict such as {'/api': '10/second', "
                            f"('POST', '/login'): '5/minute'}}, not {rules!r}.")
        for target, value in (rules or {}).items():
            method, prefix = target if isinstance(target, tuple) and len(target) == 2 else (None, target)
            if method is not None and (not isinstance(method, str) or not _METHOD.fullmatch(method)):
                raise ValueError(f"RateLimit's rule {target!r} needs an upper-case method such as 'POST'.")
            if not isinstance(prefix, str) or not prefix.startswith("/"):
                raise ValueError(f"RateLimit's rule {target!r} needs a path prefix starting with '/', "
                                 "e.g. '/api' or ('POST', '/login').")
            table = self.any_method if method is None else self.by_method.setdefault(method, PrefixMap())
            table[prefix] = self._rule(_policy_name(method, prefix), f"rule {target!r}:", value)
        if self.default is None and not self.any_method and not self.by_method:
            raise ValueError("RateLimit needs a limit (e.g. limit='100/minute') or some rules.")

    @staticmethod
    def _rule(name: str, owner: str, value: Any) -> Rule:
        items = parse_limit(f"RateLimit's {owner}", value)
        for item in items:  # so that remaining (<= amount) and reset (<= window) are sf-integers
            if not (item.amount < 10**15 and item.get_expiry() < 10**15):
                raise ValueError(f"RateLimit's {owner} {value!r} is beyond what the RateLimit fields "
                                 "can carry (15 digits).")
        return Rule(name, items, policy_field(name, items), sf_string(name))

    def find(self, method: str, path: str) -> Rule | None:
        """The rule for *method* and *path* (a PEP 3333 ``PATH_INFO``); ``None``: no limit."""
        best = self.any_method.find(path) if self.any_method else None
        tables = self.by_method
        if tables:
            table = tables.get(method) or (tables.get("GET") if method == "HEAD" else None)
            found = table.find(path) if table is not None else None
            if found is not None and (best is None or len(found[0]) >= len(best[0])):
                best = found
        return self.default if best is None else best[1]
