"""The options of a signed cookie, checked once for every layer that sets one.

``Sessions`` and ``FormLogin`` both sign a cookie with itsdangerous under rotating
secret keys and both take ``samesite``/``secure``; the rules are the same, so they
are written here::

    keys = secret_keys(secret_key, "Sessions")     # bytes, the signing key first
    serializer = timed_serializer(keys, salt="onion-wsgi.session")
    samesite = samesite_option("lax", secure=False, owner="Sessions")   # "Lax"
"""

from __future__ import annotations

from typing import Any

from itsdangerous import URLSafeTimedSerializer

__all__ = ["samesite_option", "secret_keys", "timed_serializer"]

_SAMESITE = {"lax": "Lax", "strict": "Strict", "none": "None"}


def secret_keys(secret_key: Any, owner: str) -> list[bytes]:
    """*secret_key* (one key, or a list whose first signs and all verify) as a list of bytes.

    A full-sentence ``TypeError`` naming *owner* for anything else.
    """
    keys = [secret_key] if isinstance(secret_key, (str, bytes)) else secret_key
    if not isinstance(keys, (list, tuple)) or not keys:
        raise TypeError(f"{owner} needs secret_key: a non-empty str or bytes, or a list of them (the "
                        f"first signs, all verify), e.g. secrets.token_hex(32); got {secret_key!r}.")
    for key in keys:
        if not isinstance(key, (str, bytes)) or not key:
            raise TypeError(f"Each key of {owner}'s secret_key must be a non-empty str or bytes, "
                            "e.g. secrets.token_hex(32).")
    return [key.encode() if isinstance(key, str) else key for key in keys]


def timed_serializer(keys: list[bytes], salt: str | bytes) -> URLSafeTimedSerializer:
    """An itsdangerous serializer that signs with ``keys[0]`` and verifies with every key.

    itsdangerous signs with the *last* key of a list; ours signs with the first.
    """
    return URLSafeTimedSerializer(keys[::-1], salt=salt)  # type: ignore[arg-type]


def samesite_option(samesite: Any, secure: bool, owner: str) -> str:
    """``"Lax"``, ``"Strict"`` or ``"None"`` as browsers expect it; ``ValueError`` otherwise.

    ``SameSite=None`` without ``Secure`` is refused by browsers, so it is refused here.
    """
    same = _SAMESITE.get(samesite.lower()) if isinstance(samesite, str) else None
    if same is None:
        raise ValueError(f"{owner}'s samesite must be 'Lax', 'Strict' or 'None', not {samesite!r}.")
    if same == "None" and not secure:
        raise ValueError(f"{owner}(samesite='None') needs secure=True: browsers refuse a "
                         "SameSite=None cookie without Secure.")
    return same
