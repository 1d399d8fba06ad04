"""Checking a user name and password: the one place the auth layers do it.

::

    from werkzeug.security import generate_password_hash
    from middleware.credentials import Credentials

    credentials = Credentials(users={"alice": generate_password_hash("s3cret")})
    credentials.check("alice", "s3cret")     # True
    credentials.check("mallory", "guess")    # False, after the same hash work

``BasicAuth`` and ``FormLogin`` take ``users={name: hash}`` (hashes made by
:func:`werkzeug.security.generate_password_hash`) or ``verify=f(name, password)``
and hand them to a :class:`Credentials`. It checks passwords with Werkzeug's
:func:`~werkzeug.security.check_password_hash`, which compares in constant time,
and spends the same hash work on an unknown user as on a known one, so the answer's
timing does not tell which user names exist.

Password hashes are slow on purpose (scrypt: tens of milliseconds). HTTP Basic
sends the password with every request, so successful checks can be remembered for
``cache_seconds``: the cache keys are MACs (keyed BLAKE2s) of the credentials under a
key made at start-up (:class:`SuccessCache`), never the passwords themselves, and only successes
are cached (a wrong password always costs the full hash).
"""

from __future__ import annotations

import collections
import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Mapping

from werkzeug.security import check_password_hash, generate_password_hash

__all__ = ["Credentials", "SuccessCache"]


def _method_of(password_hash: str) -> str:
    """``"scrypt:32768:8:1"`` for a Werkzeug hash ``"scrypt:32768:8:1$salt$hash"``."""
    method, sep, _ = password_hash.partition("$")
    if not sep or not method:
        raise ValueError(
            f"{password_hash[:20]!r}... is not a Werkzeug password hash; make one with "
            "werkzeug.security.generate_password_hash(password).")
    return method


class SuccessCache:
    """Successful checks remembered for *seconds*, keyed by a MAC of what was checked.

    ::

        cache = SuccessCache(60)
        cache.add("Basic YWxpY2U6czNjcmV0", "alice")   # what was checked, its user
        cache.get("Basic YWxpY2U6czNjcmV0")     # "alice" for the next 60 seconds, then None

    The keys are keyed BLAKE2s digests (BLAKE2's MAC mode, RFC 7693) under a key made
    at start-up, so the passwords or headers remembered are never kept, and a lookup
    takes time that depends only on digests nobody outside can compute. (Keyed BLAKE2s
    rather than HMAC: OpenSSL 3's HMAC costs several µs a call, too much on every
    request.) At most 10,000 entries; the oldest half goes when it is full.

    :param seconds: How long an entry lasts.
    """

    __slots__ = ("seconds", "_mac", "_entries", "_lock")

    MAX_ENTRIES = 10_000

    def __init__(self, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError("A SuccessCache's seconds must be more than 0.")
        self.seconds = seconds
        self._mac = hashlib.blake2s(key=secrets.token_bytes(32), digest_size=32)
        self._entries: dict[bytes, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def _digest(self, material: str) -> bytes:
        mac = self._mac.copy()
        mac.update(material.encode("utf-8", "surrogatepass"))
        return mac.digest()

    def get(self, material: str) -> str | None:
        """The value remembered for *material*, or ``None`` (never added, or expired)."""
        mac = self._mac.copy()  # _digest inline: this runs on every cached request
        mac.update(material.encode("utf-8", "surrogatepass"))
        entry = self._entries.get(mac.digest())
        if entry is not None and entry[1] > time.monotonic():
            return entry[0]
        return None

    def add(self, material: str, value: str) -> None:
        """Remember *value* for *material* for ``seconds``."""
        key = self._digest(material)
        with self._lock:
            if len(self._entries) >= self.MAX_ENTRIES:  # bounded: forget the oldest half
                for old in list(self._entries)[: self.MAX_ENTRIES // 2]:
                    del self._entries[old]
            self._entries.pop(key, None)  # re-inserted last: the dict's order is the age
            self._entries[key] = (value, time.monotonic() + self.seconds)


class Credentials:
    """User names and passwords, checked in constant time.

    :param users: User name -> Werkzeug password hash.
    :param verify: ``verify(name, password) -> bool``, instead of *users* (an LDAP bind,
        a database lookup, ...).
    :param cache_seconds: Remember a successful check this long (0: never), so a Basic
        client does not pay the hash on every request. Changing a password takes
        effect for new checks at once, for cached ones after this delay.
    :param owner: The layer's name, for error messages.
    """

    def __init__(self, *, users: Mapping[str, str] | None = None,
                 verify: Callable[[str, str], bool] | None = None,
                 cache_seconds: float = 0, owner: str = "the layer") -> None:
        if (users is None) == (verify is None):
            raise TypeError(f"{owner} needs users={{name: password_hash}} or verify=f(name, password), "
                            "exactly one of them.")
        if verify is not None and not callable(verify):
            raise TypeError(f"{owner}'s verify must be a function verify(name, password) -> bool.")
        if cache_seconds < 0:
            raise ValueError(f"{owner}'s cache_seconds must be 0 (no cache) or more.")
        self.users = dict(users or {})
        self.verify = verify
        self.cache_seconds = cache_seconds
        # An unknown user costs the same hash as the commonest method among the users.
        methods = collections.Counter(_method_of(value) for value in self.users.values())
        method = methods.most_common(1)[0][0] if methods else "scrypt"
        self._dummy = generate_password_hash(secrets.token_urlsafe(16), method=method)
        self.cache = SuccessCache(cache_seconds) if cache_seconds else None

    def check(self, name: str, password: str) -> bool:
        """Whether *password* is *name*'s; the same hash work whether *name* exists or not."""
        remembered = f"{name}\0{password}"
        if self.cache is not None and self.cache.get(remembered) is not None:
            return True
        if self.verify is not None:
            ok = bool(self.verify(name, password))
        else:
            stored = self.users.get(name)
            ok = check_password_hash(self._dummy if stored is None else stored, password)
            ok = ok and stored is not None
        if ok and self.cache is not None:
            self.cache.add(remembered, name)
        return ok

    def __repr__(self) -> str:
        source = "verify" if self.verify is not None else f"{len(self.users)} users"
        return f"<Credentials: {source}>"
