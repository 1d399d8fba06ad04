"""A session in a signed cookie: ``request.session`` for any WSGI app inside.

::

    from middleware.sessions import Sessions

    application = Sessions(app, secret_key="a long random string", max_age=14 * 24 * 3600)

    @app.post("/cart")
    def add(request):
        request.session["cart"] = [*request.session.get("cart", []), request.form["item"]]
        return redirect("/cart")

The session is a dict at ``environ["framework.session"]`` (``request.session`` in the
framework). Its contents travel in the cookie itself, as JSON signed with
itsdangerous (as in Flask): the client can read them but not change them, so keep
secrets out of it. What the layer guarantees:

- The cookie is ``HttpOnly``, has the ``SameSite`` given, ``Secure`` when asked.
- ``max_age`` is checked on the server too: the signature carries its time, so a
  cookie older than ``max_age`` is refused even when a browser (or an attacker)
  kept it.
- A tampered, expired or undecodable cookie gives an empty session, never an error.
- Keys rotate: of a list of secret keys the first signs, all verify.
- The cookie is written only when the session changed (:attr:`Session.modified`);
  a session emptied deletes it. A response that read the session gets
  ``Vary: Cookie``, as Flask does, so a shared cache never serves one user's page to
  another.
- The cookie is verified on the first read of the session, not before: a request
  that never touches the session costs no signature work.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from itsdangerous import BadData, BadSignature, SignatureExpired
from werkzeug.http import dump_cookie
from werkzeug.sansio.http import parse_cookie

from .cookies import samesite_option, secret_keys, timed_serializer

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["Session", "Sessions"]

logger = logging.getLogger("middleware.sessions")

# RFC 6265 4.1.1: a cookie name is an RFC 2616 token.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Browsers keep cookies up to about 4 KB, name and attributes included (RFC 6265 6.1).
_COOKIE_LIMIT = 4093
_HeaderList = list[tuple[str, str]]


class Session(dict[str, Any]):
    """The session: a dict that knows whether it was read and whether it changed.

    ``modified`` is set by every method that changes the dict (``session[key] =``,
    ``del``, ``pop``, ``popitem``, ``setdefault``, ``update``, ``|=``, ``clear``). A change
    *inside* a value is not seen: after ``session["cart"].append(item)`` set
    ``session.modified = True``, or assign the value again (as in Flask).
    ``setdefault`` counts as a change, so ``session.setdefault("cart", []).append(x)``
    is saved.

    A session made by :class:`Sessions` is lazy: the cookie is verified on the first
    use of any method, which also sets ``accessed``.
    """

    # Class-level defaults: a session is made on every request, and dict's own
    # constructor with no attribute to set is the cheapest way to make one.
    #: The session changed in this request: the cookie will be written (or deleted).
    modified = False
    #: The session was read or written in this request (the response varies on the cookie).
    accessed = False
    #: The layer and the ``Cookie`` header to load from on first use (``None``: nothing to load).
    _pending: tuple[Sessions, str] | None = None

    def _load(self) -> None:
        self.accessed = True
        pending = self._pending
        if pending is not None:
            self._pending = None
            dict.update(self, pending[0].load(pending[1]))

    # -- reads ----------------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        if not self.accessed:
            self._load()
        return dict.__getitem__(self, key)

    def __contains__(self, key: object) -> bool:
        if not self.accessed:
            self._load()
        return dict.__contains__(self, key)

    def __iter__(self) -> Iterator[str]:
        if not self.accessed:
            self._load()
        return dict.__iter__(self)

    def __len__(self) -> int:
        if not self.accessed:
            self._load()
        return dict.__len__(self)

    def __reversed__(self) -> Iterator[str]:
        if not self.accessed:
            self._load()
        return dict.__reversed__(self)

    def __eq__(self, other: object) -> bool:
        if not self.accessed:
            self._load()
        return dict.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        if not self.accessed:
            self._load()
        return dict.__ne__(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        # Not a use: a repr of the environ (wsgiref.validate makes one) must not load the cookie.
        if self._pending is not None:
            return "<Session (cookie not read yet)>"
        return f"<Session {dict.__repr__(self)}{' modified' if self.modified else ''}>"

    def __or__(self, other: Any) -> Any:
        if not self.accessed:
            self._load()
        return dict.__or__(self, other)

    def __ror__(self, other: Any) -> Any:
        if not self.accessed:
            self._load()
        return dict.__ror__(self, other)

    def get(self, key: str, default: Any = None) -> Any:
        """``session[key]``, or *default* when it is not there."""
        if not self.accessed:
            self._load()
        return dict.get(self, key, default)

    def keys(self) -> Any:
        """The keys, as ``dict.keys``."""
        if not self.accessed:
            self._load()
        return dict.keys(self)

    def values(self) -> Any:
        """The values, as ``dict.values``."""
        if not self.accessed:
            self._load()
        return dict.values(self)

    def items(self) -> Any:
        """The items, as ``dict.items``."""
        if not self.accessed:
            self._load()
        return dict.items(self)

    def copy(self) -> dict[str, Any]:  # type: ignore[override]
        """A plain ``dict`` with the same items."""
        if not self.accessed:
            self._load()
        return dict(dict.items(self))

    # -- writes ---------------------------------------------------------------------------------

    def __setitem__(self, key: str, value: Any) -> None:
        if not self.accessed:
            self._load()
        self.modified = True
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: str) -> None:
        if not self.accessed:
            self._load()
        dict.__delitem__(self, key)
        self.modified = True

    def __ior__(self, other: Any) -> Session:  # type: ignore[override,misc]
        self.update(other)
        return self

    def pop(self, key: str, *default: Any) -> Any:
        """Remove *key* and return its value (or *default*); a change only if it was there."""
        if not self.accessed:
            self._load()
        if dict.__contains__(self, key):
            self.modified = True
        return dict.pop(self, key, *default)

    def popitem(self) -> tuple[str, Any]:
        """Remove and return the last item inserted."""
        if not self.accessed:
            self._load()
        item = dict.popitem(self)
        self.modified = True
        return item

    def setdefault(self, key: str, default: Any = None) -> Any:
        """``session[key]``, set to *default* first if missing; always counts as a change."""
        if not self.accessed:
            self._load()
        self.modified = True
        return dict.setdefault(self, key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Add or replace items, as ``dict.update``."""
        if not self.accessed:
            self._load()
        self.modified = True
        dict.update(self, *args, **kwargs)

    def clear(self) -> None:
        """Empty the session; the response deletes the cookie."""
        if not self.accessed:
            self._load()
        if dict.__len__(self):
            self.modified = True
        dict.clear(self)


def _max_age(max_age: Any) -> int | None:
    if max_age is None:
        return None
    if isinstance(max_age, timedelta):
        max_age = int(max_age.total_seconds())
    if isinstance(max_age, bool) or not isinstance(max_age, int):
        raise TypeError(f"Sessions' max_age must be a number of seconds or a timedelta, not {max_age!r}.")
    if max_age <= 0:
        raise ValueError("Sessions' max_age must be more than 0 seconds, or None for a cookie "
                         "that lasts until the browser closes.")
    return max_age


def add_vary_cookie(headers: _HeaderList) -> None:
    """Add ``Cookie`` to the ``Vary`` of *headers* (in place) unless it is there (or ``*``)."""
    vary = [i for i, (name, _) in enumerate(headers) if name.lower() == "vary"]
    for i in vary:
        tokens = {token.strip().lower() for token in headers[i][1].split(",")}
        if "cookie" in tokens or "*" in tokens:
            return
    if vary:
        name, value = headers[vary[0]]
        headers[vary[0]] = (name, f"{value}, Cookie" if value.strip() else "Cookie")
    else:
        headers.append(("Vary", "Cookie"))


class Sessions:
    """A session dict in a signed cookie, at ``environ["framework.session"]``.

    ::

        application = Sessions(app, secret_key=["new key", "old key"], max_age=3600,
                               secure=True, samesite="Strict")

    The session holds what JSON holds: ``str``, numbers, ``bool``, ``None``, lists and
    dicts with string keys (a tuple comes back as a list). Anything else is a
    ``TypeError`` when the response starts. Changes made after the response started
    (in a streamed body) are not saved: the cookie went out with the headers.

    :param app: The WSGI application to wrap.
    :param secret_key: The key that signs the cookie (``str`` or ``bytes``), or a list
        of keys: the first signs new cookies, every one verifies, so a key can be
        replaced without logging everyone out. Keep it secret and long
        (``secrets.token_hex(32)``).
    :param cookie_name: The cookie's name.
    :param max_age: Seconds (or a ``timedelta``) a session lasts after it was last
        written: sent as the cookie's ``Max-Age`` and checked on the server against
        the signature's time. ``None``: the cookie lasts until the browser closes and
        the server checks no age (a copied cookie stays valid: prefer a ``max_age``).
        A session that is only read is not written again, so it ends ``max_age``
        after its last change; set ``session.modified = True`` to extend it.
    :param secure: Send the cookie over HTTPS only (``Secure``).
    :param samesite: ``"Lax"``, ``"Strict"`` or ``"None"`` (``"None"`` needs ``secure=True``).
    :param path: The cookie's ``Path``.
    :param domain: The cookie's ``Domain`` (``None``: this host only).
    :param salt: Separates these signatures from others made with the same key.
    """

    def __init__(self, app: WSGIApplication, *, secret_key: str | bytes | Iterable[str | bytes],
                 cookie_name: str = "session", max_age: int | timedelta | None = None,
                 secure: bool = False, samesite: str = "Lax", path: str = "/",
                 domain: str | None = None, salt: str | bytes = "onion-wsgi.session") -> None:
        keys = secret_keys(secret_key, "Sessions")
        if not isinstance(cookie_name, str) or not _TOKEN.fullmatch(cookie_name):
            raise ValueError(f"Sessions' cookie_name must be a cookie name (letters, digits, "
                             f"'-', '_', '.'), not {cookie_name!r}.")
        samesite = samesite_option(samesite, secure, "Sessions")
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"Sessions' path must start with '/', not {path!r}.")
        if domain is not None and (not isinstance(domain, str) or not domain):
            raise TypeError(f"Sessions' domain must be a host name or None, not {domain!r}.")
        if not isinstance(salt, (str, bytes)) or not salt:
            raise TypeError("Sessions' salt must be a non-empty str or bytes.")
        self.app = app
        self.cookie_name = cookie_name
        self.max_age = _max_age(max_age)
        self.secure = bool(secure)
        self.samesite = samesite
        self.path = path
        self.domain = domain
        self._serializer = timed_serializer(keys, salt)
        self._key_count = len(keys)

    def describe(self) -> str:
        """One line for ``python -m framework stack``, without the keys."""
        return (f"Sessions(cookie_name={self.cookie_name!r}, max_age={self.max_age!r}, "
                f"secure={self.secure!r}, samesite={self.samesite!r}, path={self.path!r}, "
                f"keys={self._key_count})")

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Put a (lazy) session in the environ; write the cookie on the way out if it changed."""
        session = environ["framework.session"] = Session()
        cookie = environ.get("HTTP_COOKIE")
        if cookie:  # verified on first use of the session, not now
            session._pending = (self, cookie)

        # toolkit.rewrite_start_response, inlined: this layer sees every request, and one
        # closure instead of two is a fifth of its cost when the session is not touched
        # (bench/sessions.py). As there, exc_info goes on to the server as given.
        def save(status: str, headers: _HeaderList, exc_info: OptExcInfo | None = None) -> Any:
            if session.accessed or session.modified:
                headers = self.finish(session, list(headers))
            return start_response(status, headers, exc_info)

        return self.app(environ, save)

    # -- the cookie -----------------------------------------------------------------------------

    def load(self, header: str) -> dict[str, Any]:
        """The session in the ``Cookie`` *header*, or ``{}`` when it is missing or not valid."""
        # PEP 3333 gives the header as latin-1; browsers send UTF-8. Werkzeug's WSGI
        # parse_cookie decodes strictly (a 500 on a stray byte): decode here, forgivingly.
        text = header.encode("latin-1", "replace").decode("utf-8", "replace")
        value = parse_cookie(text).get(self.cookie_name)
        if not value:
            return {}
        try:
            data = self._serializer.loads(value, max_age=self.max_age)
        except SignatureExpired:
            logger.debug("Session cookie %r is older than max_age=%s (or dated in the future): "
                         "a new session starts.",
                         self.cookie_name, self.max_age)
            return {}
        except BadSignature:
            logger.info("Session cookie %r has a bad signature (tampered, or signed with an unknown "
                        "key): a new session starts.", self.cookie_name)
            return {}
        except BadData:  # the signature held but the payload did not decode
            logger.info("Session cookie %r does not decode: a new session starts.", self.cookie_name)
            return {}
        if not isinstance(data, dict):
            logger.info("Session cookie %r holds no JSON object: a new session starts.", self.cookie_name)
            return {}
        return data

    def dump(self, data: Mapping[str, Any]) -> str:
        """The signed cookie value for *data*."""
        try:
            return self._serializer.dumps(dict(data))
        except (TypeError, ValueError) as error:
            raise TypeError(f"The session holds a value JSON cannot encode ({error}); keep str, "
                            "numbers, bool, None, lists and dicts with str keys in it.") from error

    def finish(self, session: Session, headers: _HeaderList) -> _HeaderList:
        """*headers* with ``Vary: Cookie`` and, if the session changed, its ``Set-Cookie``."""
        if not session.accessed:  # only session.modified was set: the contents are still needed
            session._load()
        add_vary_cookie(headers)
        if not session.modified:
            return headers
        if dict.__len__(session):
            value, max_age, expires = self.dump(session), self.max_age, None
        else:  # emptied: delete it (RFC 6265 5.2.2: Max-Age=0 expires it at once)
            value, max_age, expires = "", 0, 0
        cookie = dump_cookie(self.cookie_name, value, max_age=max_age, expires=expires, path=self.path,
                             domain=self.domain, secure=self.secure, httponly=True,
                             samesite=self.samesite, max_size=0)
        if len(cookie) > _COOKIE_LIMIT:
            logger.warning("The session cookie %r is %d bytes; browsers drop cookies over %d: "
                           "keep less in the session.", self.cookie_name, len(cookie), _COOKIE_LIMIT)
        headers.append(("Set-Cookie", cookie))
        return headers
