"""``BasicAuth`` and ``TokenAuth``: HTTP authentication as onion layers.

::

    from werkzeug.security import generate_password_hash
    from middleware.auth import BasicAuth, TokenAuth

    application = BasicAuth(app, users={"admin": generate_password_hash("s3cret")},
                            protect=["/admin"])
    application = TokenAuth(application, tokens={"9f3b...": "ci-bot"}, protect=["/api"])

Both speak the WSGI convention for identity: a request that authenticates goes in
with ``REMOTE_USER`` (the user name) and ``AUTH_TYPE`` (``"Basic"`` or ``"Bearer"``)
set, so any WSGI app inside sees the user. Both leave alone:

- paths outside ``protect`` or inside ``exempt`` (prefixes at segment boundaries,
  :class:`~middleware.toolkit.PathScope`);
- CORS preflight requests (``OPTIONS`` with ``Access-Control-Request-Method``), which
  browsers send without credentials (Fetch standard, "CORS-preflight request");
- requests an outer auth layer already authenticated (``REMOTE_USER`` set: it is
  not an HTTP header, so no client can set it).

A refused request is answered as the framework answers errors (JSON or HTML by
``Accept``, :func:`~middleware.toolkit.error_app`) with the exact ``WWW-Authenticate``
challenge, and logged at WARNING on the logger ``middleware.auth`` with the user
name (Basic) and ``REMOTE_ADDR``, never the password or token. On success the inner
app's iterable is returned as is: streaming and ``close()`` are untouched.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import Authorization
from werkzeug.exceptions import HTTPException

from .credentials import Credentials, SuccessCache
from .toolkit import PathScope, error_app, is_preflight

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["BasicAuth", "TokenAuth"]

logger = logging.getLogger("middleware.auth")

# RFC 7617 2: credentials = "Basic" 1*SP token68, the token68 being base64 (RFC 4648 4).
# Werkzeug parses the header; this only refuses what it would accept too leniently
# (a second scheme after a comma, characters outside base64, which b64decode skips).
_BASIC_SHAPE = re.compile(r"[Bb][Aa][Ss][Ii][Cc] +[A-Za-z0-9+/]+={0,2} *")
# RFC 6750 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# A raw header value (scheme=None): visible ASCII, no spaces (RFC 9110 5.5 field-vchar).
_RAW_TOKEN = re.compile(r"[\x21-\x7e]+")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 5.6.2: a scheme or header name
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # RFC 7617 2: not allowed in user-id or password
_REALM = re.compile(r"[\x20-\x7e]*")


def _quoted(value: str) -> str:
    """*value* as an RFC 9110 5.6.4 quoted-string (always quoted, as RFC 7617's examples)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _checked_realm(owner: str, realm: str) -> str:
    if not isinstance(realm, str) or not _REALM.fullmatch(realm):
        raise ValueError(f"{owner}'s realm must be printable ASCII without control characters, "
                         f"e.g. 'Restricted', not {realm!r}.")
    return realm


class _Challenge(HTTPException):
    """A 401 (or 400) with one exact ``WWW-Authenticate`` value.

    Werkzeug's ``WWWAuthenticate`` leaves token-shaped values unquoted
    (``charset=UTF-8``); the challenges here follow the RFCs' own examples.
    """

    def __init__(self, code: int, description: str, challenge: str) -> None:
        super().__init__(description)
        self.code = code
        self.challenge = challenge

    def get_headers(self, environ: Any = None, scope: Any = None) -> list[tuple[str, str]]:
        return [*super().get_headers(environ, scope), ("WWW-Authenticate", self.challenge)]


class _Layer:
    """What both layers share: the scope, the pass-through rules, ``.app``."""

    app: WSGIApplication
    scope: PathScope
    _scoped: bool  # False for protect=None and no exempt: no path to look at

    def _set_scope(self, protect: Iterable[str] | None, exempt: Iterable[str]) -> None:
        self.scope = PathScope(protect=protect, exempt=exempt)
        self._scoped = self.scope.protect is not None or bool(self.scope.exempt)

    def _passes(self, environ: WSGIEnvironment) -> bool:
        """Whether the request goes in untouched: already a user, a preflight, outside the scope."""
        if environ.get("REMOTE_USER"):
            return True
        if is_preflight(environ):
            return True
        return self._scoped and not self.scope.covers(environ.get("PATH_INFO", ""))

    def _scope_text(self) -> str:
        text = "" if self.scope.protect is None else f", protect={list(self.scope.protect)!r}"
        return text + (f", exempt={list(self.scope.exempt)!r}" if self.scope.exempt else "")


class BasicAuth(_Layer):
    """HTTP Basic authentication (RFC 7617) in front of any WSGI app.

    ::

        from werkzeug.security import generate_password_hash

        application = BasicAuth(app, users={"admin": generate_password_hash("s3cret")},
                                protect=["/admin"], realm="Back office")

    Missing, malformed or wrong credentials get a 401 with
    ``WWW-Authenticate: Basic realm="Restricted", charset="UTF-8"``; user names and
    passwords are read as UTF-8 (RFC 7617 2.1). The header is parsed by Werkzeug's
    :class:`~werkzeug.datastructures.Authorization`; one that is not exactly
    ``Basic <base64>`` (a second scheme, junk, bad base64, no colon, not UTF-8, an
    empty user name or password, control characters) is refused without a password
    check. Passwords are checked by :class:`~middleware.credentials.Credentials`:
    Werkzeug's constant-time hash check, the same hash work for an unknown user.

    Basic sends the password with every request and a good hash costs tens of
    milliseconds, so a successful check is remembered for ``cache_seconds`` (60 by
    default), keyed by a MAC of the whole header, never the password itself; wrong
    passwords are never cached.

    :param app: The WSGI application to protect.
    :param users: User name -> Werkzeug password hash
        (:func:`werkzeug.security.generate_password_hash`).
    :param verify: ``verify(name, password) -> bool``, instead of *users*.
    :param realm: The protection space named in the challenge (printable ASCII).
    :param protect: Path prefixes to protect; ``None``: every path.
    :param exempt: Path prefixes left open inside the protected ones.
    :param cache_seconds: How long a successful check is remembered (by a MAC of the
        whole ``Authorization`` header); 0 checks the password on every request.
    """

    def __init__(self, app: WSGIApplication, *, users: Mapping[str, str] | None = None,
                 verify: Callable[[str, str], bool] | None = None, realm: str = "Restricted",
                 protect: Iterable[str] | None = None, exempt: Iterable[str] = (),
                 cache_seconds: float = 60) -> None:
        if not callable(app):
            raise TypeError(f"BasicAuth's app must be a WSGI callable, not {app!r}.")
        self.app = app
        # Remembered here, by the whole header, rather than in Credentials: a cached
        # request then costs one keyed hash, not a parse and a base64 decode as well.
        self.credentials = Credentials(users=users, verify=verify, owner="BasicAuth")
        if cache_seconds < 0:
            raise ValueError("BasicAuth's cache_seconds must be 0 (no cache) or more.")
        self.cache_seconds = cache_seconds
        self.cache = SuccessCache(cache_seconds) if cache_seconds else None
        self.realm = _checked_realm("BasicAuth", realm)
        self._set_scope(protect, exempt)
        self._refuse = error_app(_Challenge(
            401, "This page needs a user name and password.",
            f"Basic realm={_quoted(realm)}, charset=\"UTF-8\""))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Let the request in with ``REMOTE_USER`` set, or answer 401."""
        # The usual request (no user yet, not OPTIONS, every path covered) makes no call here.
        if environ.get("REMOTE_USER") or (
                (self._scoped or environ.get("REQUEST_METHOD") == "OPTIONS") and self._passes(environ)):
            return self.app(environ, start_response)
        header = environ.get("HTTP_AUTHORIZATION")
        cache = self.cache
        user = cache.get(header) if cache is not None and header else None  # the usual request
        if user is None:
            user = self._check(environ, header)
            if user is None:
                return self._refuse(environ, start_response)
        environ["REMOTE_USER"] = user
        environ["AUTH_TYPE"] = "Basic"
        return self.app(environ, start_response)

    def _check(self, environ: WSGIEnvironment, header: str | None) -> str | None:
        """The user name if *header* holds good Basic credentials (remembered if so)."""
        if not header:
            return None
        auth = Authorization.from_header(header) if _BASIC_SHAPE.fullmatch(header) else None
        if auth is None or auth.type != "basic":
            if header[:6].lower() == "basic ":  # ours, but malformed; another scheme is not
                logger.warning("BasicAuth: malformed Basic credentials from %s",
                               environ.get("REMOTE_ADDR", "-"))
            return None
        name, password = auth.username or "", auth.password or ""
        # Refused without a check: nothing secret depends on it (the client sent it).
        if not name or not password or _CONTROL.search(name) or _CONTROL.search(password):
            logger.warning("BasicAuth: malformed Basic credentials for user %r from %s",
                           name[:64], environ.get("REMOTE_ADDR", "-"))
            return None
        if not self.credentials.check(name, password):
            logger.warning("BasicAuth: wrong password or unknown user %r from %s",
                           name[:64], environ.get("REMOTE_ADDR", "-"))
            return None
        if self.cache is not None:
            self.cache.add(header, name)
        return name

    def describe(self) -> str:
        """One line for ``python -m framework stack``, without a hash or password."""
        source = "verify" if self.credentials.verify is not None else f"{len(self.credentials.users)} users"
        return (f"BasicAuth({source}, realm={self.realm!r}{self._scope_text()}, "
                f"cache_seconds={self.cache_seconds!r})")


class TokenAuth(_Layer):
    """Bearer tokens (RFC 6750), or API keys in a header of their own, in front of any WSGI app.

    ::

        application = TokenAuth(app, tokens={os.environ["CI_TOKEN"]: "ci-bot"},
                                protect=["/api"])
        application = TokenAuth(app, tokens=keys, header="X-API-Key", scheme=None)

    The answers follow RFC 6750 3 and 3.1:

    - no token (no header, or another scheme such as ``Basic``): 401 with
      ``WWW-Authenticate: Bearer`` (``Bearer realm="..."`` when *realm* is given);
    - a token that is not known: 401, ``Bearer error="invalid_token"``;
    - a malformed header (``Bearer`` with no token, two tokens, parameters, a
      second scheme, characters outside the b64token grammar): 400,
      ``Bearer error="invalid_request"``, as RFC 6750 3.1 says for a malformed request.

    With ``scheme=None`` the whole header value is the token (an API key header);
    the challenge then names it: ``WWW-Authenticate: ApiKey header="X-API-Key"``.
    Success sets ``REMOTE_USER`` to the token's user and ``AUTH_TYPE`` to ``"Bearer"``.

    :param app: The WSGI application to protect.
    :param tokens: Token -> user name. Kept only as MACs of the tokens (see ``__init__``).
    :param verify: ``verify(token) -> user name | None``, instead of *tokens* (a
        database lookup, JWT validation, ...); it should compare in constant time itself.
    :param header: The request header that carries the token.
    :param scheme: The auth scheme before the token (``"Bearer"``); ``None``: the
        header's whole value is the token.
    :param realm: A realm for the challenge; ``None``: none.
    :param protect: Path prefixes to protect; ``None``: every path.
    :param exempt: Path prefixes left open inside the protected ones.
    """

    def __init__(self, app: WSGIApplication, *, tokens: Mapping[str, str] | None = None,
                 verify: Callable[[str], str | None] | None = None, header: str = "Authorization",
                 scheme: str | None = "Bearer", realm: str | None = None,
                 protect: Iterable[str] | None = None, exempt: Iterable[str] = ()) -> None:
        if not callable(app):
            raise TypeError(f"TokenAuth's app must be a WSGI callable, not {app!r}.")
        if (tokens is None) == (verify is None):
            raise TypeError("TokenAuth needs tokens={token: user} or verify=f(token), exactly one of them.")
        if verify is not None and not callable(verify):
            raise TypeError("TokenAuth's verify must be a function verify(token) -> user name or None.")
        if not isinstance(header, str) or not _TOKEN.fullmatch(header):
            raise ValueError(f"TokenAuth's header must be a header name such as 'X-API-Key', not {header!r}.")
        if scheme is not None and (not isinstance(scheme, str) or not _TOKEN.fullmatch(scheme)):
            raise ValueError(f"TokenAuth's scheme must be a word such as 'Bearer', or None, not {scheme!r}.")
        self.app = app
        self.header, self.scheme = header, scheme
        self._scheme = None if scheme is None else scheme.lower()  # Werkzeug lower-cases it
        self.realm = None if realm is None else _checked_realm("TokenAuth", realm)
        self.verify = verify
        self._set_scope(protect, exempt)
        self._environ_key = "HTTP_" + header.upper().replace("-", "_")
        self._shape = _B64TOKEN if scheme is not None else _RAW_TOKEN
        # The table is keyed by MACs of the tokens (keyed BLAKE2s, RFC 7693) under a key
        # made here, never by the tokens. A lookup hashes the presented token (time independent of
        # its content) and finds the digest in a dict. Where that lookup spends time
        # depends only on digests an attacker cannot compute without the key, so timing
        # tells nothing about how close a guess is to a real token: the byte-by-byte
        # guessing a plain ``token in tokens`` (or ``==``) allows is gone, and the cost
        # stays O(1) in the number of tokens, unlike compare_digest against each one.
        self._mac = hashlib.blake2s(key=secrets.token_bytes(32), digest_size=32)
        self._digests: dict[bytes, str] = {}  # MAC(token) -> user
        self._headers: dict[bytes, str] = {}  # MAC(the header as sent: "Bearer <token>") -> user
        for token, user in (tokens or {}).items():
            if not isinstance(token, str) or not self._shape.fullmatch(token):
                raise ValueError("Each TokenAuth token must be a non-empty string of "
                                 + ("b64token characters (letters, digits, -._~+/)." if scheme
                                    else "visible ASCII characters without spaces."))
            if not isinstance(user, str) or not user:
                raise ValueError("TokenAuth's tokens map each token to a non-empty user name.")
            self._digests[self._digest(token)] = user
            self._headers[self._digest(token if scheme is None else f"{scheme} {token}")] = user
        if tokens is not None and not self._digests:
            raise ValueError("TokenAuth needs at least one token in tokens={token: user}.")
        self._missing = self._challenge(401, "This resource needs an access token.", None)
        self._invalid = self._challenge(401, "The access token is not valid.", "invalid_token")
        self._malformed = self._challenge(400, "The Authorization header is malformed.", "invalid_request")

    def _digest(self, token: str) -> bytes:
        mac = self._mac.copy()
        mac.update(token.encode("utf-8", "surrogatepass"))  # any str, one way (tokens are ASCII)
        return mac.digest()

    def _challenge(self, code: int, description: str, error: str | None) -> WSGIApplication:
        params = [] if self.realm is None else [f"realm={_quoted(self.realm)}"]
        if self.header.lower() != "authorization":
            params.append(f"header={_quoted(self.header)}")
        if error is not None:
            params.append(f'error="{error}"')
        challenge = " ".join([self.scheme or "ApiKey", ", ".join(params)]).rstrip()
        return error_app(_Challenge(code, description, challenge))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Let the request in with ``REMOTE_USER`` set, or answer 401 (400 when malformed)."""
        # The usual request (no user yet, not OPTIONS, every path covered) makes no call here.
        if environ.get("REMOTE_USER") or (
                (self._scoped or environ.get("REQUEST_METHOD") == "OPTIONS") and self._passes(environ)):
            return self.app(environ, start_response)
        value = environ.get(self._environ_key)
        # Fast path: the exact header a client sends for a known token, looked up by its
        # MAC as the tokens are (see __init__): no parse for the usual good request.
        # Anything else (another spelling, a bad token) is parsed by Werkzeug below.
        user = None
        if value and self._headers:
            mac = self._mac.copy()  # self._digest(value), inline
            mac.update(value.encode("utf-8", "surrogatepass"))
            user = self._headers.get(mac.digest())
        if user is not None:
            environ["REMOTE_USER"] = user
            environ["AUTH_TYPE"] = "Bearer"
            return self.app(environ, start_response)
        token = self.token(environ)
        if token is None:
            return self._missing(environ, start_response)
        if not token:
            logger.warning("TokenAuth: malformed %s header from %s", self.header,
                           environ.get("REMOTE_ADDR", "-"))
            return self._malformed(environ, start_response)
        user = self.user(token)
        if user is None:
            logger.warning("TokenAuth: invalid token from %s", environ.get("REMOTE_ADDR", "-"))
            return self._invalid(environ, start_response)
        environ["REMOTE_USER"] = user
        environ["AUTH_TYPE"] = "Bearer"
        return self.app(environ, start_response)

    def token(self, environ: WSGIEnvironment) -> str | None:
        """The request's token: ``None`` when it has none, ``""`` when the header is malformed."""
        value = environ.get(self._environ_key, "").strip()
        if not value:
            return None
        if self._scheme is None:
            return value if _RAW_TOKEN.fullmatch(value) else ""
        auth = Authorization.from_header(value)
        if auth is None or auth.type != self._scheme:
            return None  # another scheme: no credentials for us (RFC 6750 3.1, no error code)
        token = auth.token
        return token if token and _B64TOKEN.fullmatch(token) else ""

    def user(self, token: str) -> str | None:
        """The user *token* belongs to, or ``None``."""
        if self.verify is None:
            return self._digests.get(self._digest(token))
        user = self.verify(token)
        if user is not None and not isinstance(user, str):
            raise TypeError(f"TokenAuth's verify must return a user name or None, not {user!r}.")
        return user or None

    def describe(self) -> str:
        """One line for ``python -m framework stack``, without a token."""
        source = "verify" if self.verify is not None else f"{len(self._digests)} tokens"
        realm = "" if self.realm is None else f", realm={self.realm!r}"
        return (f"TokenAuth({source}, header={self.header!r}, scheme={self.scheme!r}"
                f"{realm}{self._scope_text()})")
