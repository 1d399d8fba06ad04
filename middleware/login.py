"""Form login: a login page, a signed login cookie, CSRF tokens and safe redirects.

::

    from werkzeug.security import generate_password_hash
    from middleware.login import FormLogin

    application = FormLogin(app, users={"alice": generate_password_hash("s3cret")},
                            secret_key="a long random string", protect=["/admin"])

CSRF: every request gets ``environ["framework.csrf_token"]``, an HMAC (under a key
derived from ``secret_key``) of a random nonce kept in the signed login cookie; a
form posts it back as ``csrf_token`` and the layer compares it in constant time.
Another site can make a browser post a form here, with the cookie, but can read
neither the cookie nor our pages (same-origin policy), so it cannot know the token;
it cannot forge a cookie with a nonce of its choosing either (the cookie is signed).
A successful login mints a new nonce, so a token seen before the login is void after.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import logging
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from itsdangerous import BadData
from werkzeug.exceptions import Forbidden, HTTPException, MethodNotAllowed, Unauthorized
from werkzeug.http import dump_cookie
from werkzeug.wrappers import Request as BaseRequest

from framework.app import App

from .cookies import samesite_option, secret_keys, timed_serializer
from .credentials import Credentials
from .toolkit import PathScope, error_app, is_preflight, rewrite_start_response, wants_json

if TYPE_CHECKING:
    import jinja2
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["FormLogin", "safe_next"]

logger = logging.getLogger("middleware.auth")

_HeaderList = list[tuple[str, str]]
_State = tuple[str, str | None, str]  # from a valid cookie: (nonce, user or None, CSRF token)
_MAX_NEXT = 2048
_MAX_FORM = 64 * 1024  # a login form is a few hundred bytes
_PRINTABLE = re.compile(r"[!-~]+\Z")  # printable ASCII, no space
_UNSAFE_DECODED = re.compile(r"[\x00-\x1f\x7f\\]")
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")  # an RFC 6265 token
_URL_SAFE = "/:@!$&'()*+,;=~"


def safe_next(value: object) -> str | None:
    r"""*value* when it is a path on this site, safe to redirect to after a login; else ``None``.

    ::

        safe_next("/admin?tab=users")    # "/admin?tab=users"
        safe_next("//evil.com")          # None: a browser reads it as https://evil.com
        safe_next("/%5Cevil.com")        # None: "/\evil.com" once decoded, "//evil.com" to a browser

    Only a path is accepted, never a URL with a scheme or host (not even this
    site's). It must be printable ASCII (no spaces, controls, tabs: browsers drop
    tabs and newlines inside URLs), contain no backslash (browsers read it as ``/``),
    and its path part must start with one ``/`` and hold no ``//`` and no ``.`` or
    ``..`` segment (which a browser or a later redirect could fold into ``//``); the
    path part must pass the same checks after each round of percent-decoding, so
    ``/%2F/evil.com`` and ``/%5Cevil.com`` are refused too.
    """
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_NEXT:
        return None
    if not _PRINTABLE.match(value) or "\\" in value:
        return None
    path = value.split("?", 1)[0].split("#", 1)[0]
    for _ in range(4):
        if not path.startswith("/") or "//" in path or _UNSAFE_DECODED.search(path):
            return None
        if any(segment in (".", "..") for segment in path.split("/")):
            return None
        decoded = unquote(path)
        if decoded == path:
            return value
        path = decoded
    return None  # percent-encoded four times over: no honest link is


def _token(key: bytes, nonce: str) -> str:
    """The CSRF token for *nonce*: an HMAC under *key*, URL-safe base64."""
    digest = hmac.new(key, nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _check_cookie(cookie_name: Any, max_age: Any, secure: bool, samesite: Any) -> str:
    """Check the cookie options; return *samesite* spelled as browsers expect."""
    if not isinstance(cookie_name, str) or not _COOKIE_NAME.match(cookie_name):
        raise ValueError(f"FormLogin's cookie_name must be a cookie name such as 'login', "
                         f"not {cookie_name!r}.")
    if cookie_name.startswith(("__Host-", "__Secure-")) and not secure:
        raise ValueError(f"A cookie named {cookie_name!r} needs secure=True (browsers refuse it "
                         "otherwise).")
    if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age <= 0:
        raise ValueError(f"FormLogin's max_age must be a number of seconds above 0, not {max_age!r}.")
    return samesite_option(samesite, secure, "FormLogin")


def _wsgi_quote(text: str, safe: str = _URL_SAFE) -> str:
    """A PEP 3333 (latin-1) string percent-encoded as a URL path or query."""
    return quote(text.encode("latin-1", "replace"), safe=safe)


class FormLogin:
    """Log users in with a form and a signed cookie; redirect anonymous browsers to the form.

    ::

        application = FormLogin(app, users={"alice": alice_hash}, secret_key=keys,
                                protect=["/admin", "/account"], exempt=["/admin/help"])

    ``GET login_path`` shows the login page (the wrapped ``App``'s own ``login.html``
    if it has one, else the built-in page). A good ``POST`` sets the cookie and
    redirects (303) to ``next`` when :func:`safe_next` accepts it, else to the root;
    later requests get ``REMOTE_USER`` and ``AUTH_TYPE = "Form"``. A protected path
    without a login sends a browser to ``login_path?next=<path>`` and answers a JSON
    client 401 (``WWW-Authenticate: Form``).
    A wrong password shows the form again (status 200, as Django's ``LoginView``
    and the usual Flask-Login view do) with an error message, and logs a WARNING on
    the logger ``middleware.auth`` with the user name and ``REMOTE_ADDR`` (never the
    password). ``GET`` on the logout path is 405: logging out changes state, so it
    is a CSRF-checked ``POST``.

    :param app: The WSGI application to wrap.
    :param users: User name -> Werkzeug password hash (``generate_password_hash``).
    :param verify: ``verify(name, password) -> bool``, instead of *users*.
    :param secret_key: The key that signs the cookie, or a list of keys: the first
        signs, all verify (rotate by putting a new key first).
    :param login_path: Where the login page is (``GET``) and the form posts to.
    :param logout_path: Where the logout form posts to.
    :param protect: Path prefixes that need a login (``None``: every path but the
        login and logout paths).
    :param exempt: Path prefixes inside *protect* that do not.
    :param cookie_name: The cookie's name; ``__Host-login`` with ``secure=True``
        keeps sibling subdomains from setting it.
    :param max_age: Seconds a login lasts; enforced by the signature's timestamp as
        well as the cookie's ``Max-Age``, so a replayed old cookie is refused.
    :param secure: Send the cookie over HTTPS only.
    :param samesite: ``"Lax"``, ``"Strict"`` or ``"None"`` (the last needs *secure*).
    :param template: The login page's template name.
    :param templates: A template folder to look in first (else the wrapped
        ``App``'s folder, else only the built-in templates).
    """

    def __init__(self, app: WSGIApplication, *, users: Mapping[str, str] | None = None,
                 verify: Callable[[str, str], bool] | None = None, secret_key: Any,
                 login_path: str = "/login", logout_path: str = "/logout",
                 protect: Iterable[str] | None = None, exempt: Iterable[str] = (),
                 cookie_name: str = "login", max_age: int = 14 * 24 * 3600, secure: bool = False,
                 samesite: str = "Lax", template: str = "login.html", templates: str | None = None) -> None:
        self.app = app
        self._credentials = Credentials(users=users, verify=verify, owner="FormLogin")
        keys = secret_keys(secret_key, "FormLogin")
        self._serializer = timed_serializer(keys, "middleware.login")
        self._csrf_keys = [hashlib.sha256(b"middleware.login csrf\0" + key).digest() for key in keys]
        for name, path in (("login_path", login_path), ("logout_path", logout_path)):
            if not isinstance(path, str) or not path.startswith("/"):
                raise ValueError(f"FormLogin's {name} must be a path starting with '/', not {path!r}.")
        if login_path == logout_path:
            raise ValueError("FormLogin's login_path and logout_path must differ.")
        self.login_path, self.logout_path = login_path, logout_path
        self.scope = PathScope(protect=protect, exempt=exempt)
        self.samesite = _check_cookie(cookie_name, max_age, secure, samesite)
        self.cookie_name, self.max_age, self.secure = cookie_name, max_age, bool(secure)
        if not isinstance(template, str) or not template:
            raise TypeError(f"FormLogin's template must be a template name, not {template!r}.")
        if templates is not None and not os.path.isdir(templates):
            raise ValueError(f"FormLogin's templates folder {templates!r} does not exist.")
        self.template, self.templates = template, templates
        # The App whose templates (and template context) render the page, found now:
        # framework.testing.validated later puts validators, which have no .app, in between.
        self._app = None if templates is not None else _find_app(app)
        self._template: jinja2.Template | None = None
        #: Cookie values already verified -> (their state, expiry as a time.time()).
        self._seen: dict[str, tuple[_State, float]] = {}
        self._find_cookie = re.compile(r'(?:^|;)\s*' + re.escape(cookie_name) + r'="?([^";]*)').search
        self._unauthorized = _FormChallenge("Log in to see this page.")
        self._forbidden = Forbidden("The form's CSRF token is missing or wrong; "
                                    "reload the page and try again.")

    def describe(self) -> str:
        """One line for ``python -m framework stack``, without the users nor the keys."""
        count = len(self._credentials.users)
        source = f"{count} user{'' if count == 1 else 's'}"
        if self._credentials.verify is not None:
            source = "verify"
        return (f"FormLogin({source}, login_path={self.login_path!r}, logout_path={self.logout_path!r}, "
                f"protect={None if self.scope.protect is None else list(self.scope.protect)!r}, "
                f"exempt={list(self.scope.exempt)!r}, cookie_name={self.cookie_name!r}, "
                f"max_age={self.max_age}, secure={self.secure}, samesite={self.samesite!r})")

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Read the login cookie, answer the login and logout paths, guard the protected ones."""
        state = self._read(environ)
        if state is None:
            nonce = secrets.token_urlsafe(32)
            environ["framework.csrf_token"] = _token(self._csrf_keys[0], nonce)
        else:
            nonce, environ["framework.csrf_token"] = state[0], state[2]
        if state is not None and state[1] is not None and not environ.get("REMOTE_USER"):
            environ["REMOTE_USER"], environ["AUTH_TYPE"] = state[1], "Form"
        path = environ.get("PATH_INFO") or "/"
        if path == self.login_path:
            return self._login(environ, start_response, state, nonce)
        if path == self.logout_path:
            return self._logout(environ, start_response, state)
        if not environ.get("REMOTE_USER") and self.scope.covers(path) and not is_preflight(environ):
            return self._challenge(environ, start_response)
        if state is not None:
            return self.app(environ, start_response)
        return self.app(environ, rewrite_start_response(start_response, partial(self._offer, nonce)))

    # -- the cookie ---------------------------------------------------------------------------

    def _read(self, environ: WSGIEnvironment) -> _State | None:
        """``(nonce, user or None, token)`` from a valid, unexpired cookie; ``None`` for anything else."""
        header = environ.get("HTTP_COOKIE")
        if not header or self.cookie_name not in header:
            return None
        # The first cookie of that name (as werkzeug's parse_cookie, at a tenth of the cost).
        found = self._find_cookie(header)
        value = found.group(1) if found else None
        if not value or len(value) > 4096:
            return None
        seen = self._seen.get(value)  # verified before (itsdangerous costs tens of µs a check)
        if seen is not None and seen[1] > time.time():
            return seen[0]
        try:
            data, signed = self._serializer.loads(value, max_age=self.max_age, return_timestamp=True)
        except BadData:  # tampered, expired, signed with a key we no longer have, garbage
            return None
        nonce, user = (data.get("n"), data.get("u")) if isinstance(data, dict) else (None, None)
        if not isinstance(nonce, str) or not nonce or not (user is None or (isinstance(user, str) and user)):
            return None
        state = (nonce, user, _token(self._csrf_keys[0], nonce))
        if len(self._seen) >= 10_000:  # bounded; only cookies we signed get in
            self._seen.clear()
        self._seen[value] = (state, signed.timestamp() + self.max_age)
        return state

    def _offer(self, nonce: str, status: str, headers: _HeaderList) -> tuple[str, _HeaderList]:
        """Give a new nonce's cookie to a browser that gets an HTML page (the one kind with forms)."""
        for name, value in headers:
            if name.lower() == "content-type":
                if value.lower().startswith("text/html"):
                    return status, [*headers, ("Set-Cookie", self._cookie({"n": nonce}))]
                break
        return status, headers

    def _cookie(self, data: dict[str, str]) -> str:
        """A ``Set-Cookie`` value carrying *data*, signed now."""
        return dump_cookie(self.cookie_name, self._serializer.dumps(data), max_age=self.max_age, path="/",
                           secure=self.secure, httponly=True, samesite=self.samesite)

    def _posted_form(self, environ: WSGIEnvironment,
                     state: _State | None) -> Mapping[str, str] | HTTPException:
        """The posted form if its ``csrf_token`` is the token of the cookie's nonce, else the 4xx."""
        form = _read_form(environ)
        if isinstance(form, HTTPException):
            return form
        sent = form.get("csrf_token", "")
        ok = False
        if state is not None and sent:
            for key in self._csrf_keys:  # every key, so the time does not say which one matched
                ok |= hmac.compare_digest(_token(key, state[0]).encode(), sent.encode("utf-8", "replace"))
        return form if ok else self._forbidden

    # -- the login and logout paths -----------------------------------------------------------

    def _login(self, environ: WSGIEnvironment, start_response: StartResponse,
               state: _State | None, nonce: str) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if method in ("GET", "HEAD"):
            wanted = _query_next(environ.get("QUERY_STRING", ""))
            return self._page(environ, start_response, nonce, state is None, next=wanted)
        if method != "POST":
            return error_app(MethodNotAllowed(["GET", "HEAD", "POST"]))(environ, start_response)
        form = self._posted_form(environ, state)
        if isinstance(form, HTTPException):
            return error_app(form)(environ, start_response)
        username, password = form.get("username", ""), form.get("password", "")
        wanted = form.get("next", "")
        remote = environ.get("REMOTE_ADDR", "-")
        if self._credentials.check(username, password) and username:
            logger.info("Login: %r from %s", username, remote)
            cookie = self._cookie({"n": secrets.token_urlsafe(32), "u": username})  # a new nonce
            return _redirect(environ, start_response, self._target(environ, wanted), cookie)
        logger.warning("Failed login for %r from %s", username[:100], remote)
        return self._page(environ, start_response, nonce, state is None, next=wanted,
                          username=username[:200], error="Wrong user name or password.")

    def _logout(self, environ: WSGIEnvironment, start_response: StartResponse,
                state: _State | None) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return error_app(MethodNotAllowed(["POST"]))(environ, start_response)
        form = self._posted_form(environ, state)
        if isinstance(form, HTTPException):
            return error_app(form)(environ, start_response)
        if state is not None and state[1] is not None:
            logger.info("Logout: %r from %s", state[1], environ.get("REMOTE_ADDR", "-"))
        cookie = dump_cookie(self.cookie_name, "", max_age=0, expires=0, path="/",
                             secure=self.secure, httponly=True, samesite=self.samesite)
        return _redirect(environ, start_response, self._target(environ, form.get("next", "")), cookie)

    def _target(self, environ: WSGIEnvironment, wanted: str) -> str:
        """Where to go after logging in or out: *wanted* if safe, else the site's root."""
        return safe_next(wanted) or _wsgi_quote(environ.get("SCRIPT_NAME", "")) + "/"

    def _challenge(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """401 for a JSON client; for a browser, a redirect to the login page with ``next``."""
        if wants_json(environ.get("HTTP_ACCEPT")):
            return error_app(self._unauthorized)(environ, start_response)
        script_name = environ.get("SCRIPT_NAME", "")
        here = _wsgi_quote(script_name + (environ.get("PATH_INFO") or "/"))
        query = environ.get("QUERY_STRING")
        if query:
            here += "?" + _wsgi_quote(query, safe=_URL_SAFE + "%?")
        location = _wsgi_quote(script_name + self.login_path) + "?" + urlencode({"next": here})
        return _redirect(environ, start_response, location, vary="Accept")

    # -- the page -----------------------------------------------------------------------------

    def _page(self, environ: WSGIEnvironment, start_response: StartResponse, nonce: str, new: bool, *,
              next: str, username: str = "", error: str | None = None) -> Iterable[bytes]:
        token = environ["framework.csrf_token"]
        context = {"csrf_token": lambda: token, "next": safe_next(next) or "", "username": username,
                   "error": error, "action": _wsgi_quote(environ.get("SCRIPT_NAME", "") + self.login_path)}
        body = self._render(environ, context).encode()
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
                   ("Cache-Control", "no-store"), ("X-Frame-Options", "DENY")]
        if new:
            headers.append(("Set-Cookie", self._cookie({"n": nonce})))
        start_response("200 OK", headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

    def _render(self, environ: WSGIEnvironment, context: dict[str, Any]) -> str:
        """The login page: through the wrapped ``App`` (its folder first), else our own environment."""
        if self._app is not None:
            request = self._app.request_class(environ)
            request.app = self._app
            response = self._app.render(self.template, **context)
            response.render(request)
            return response.get_data(as_text=True)
        if self._template is None:  # compiled once; a race compiles it twice, harmlessly
            from framework.templating import create_environment

            self._template = create_environment(self.templates).get_template(self.template)
        return self._template.render({"request": None, **context})


def _find_app(app: Any) -> App | None:
    """The first ``framework.App`` down the onion's ``.app`` chain, if any."""
    seen = set()
    while app is not None and id(app) not in seen:
        if isinstance(app, App):
            return app
        seen.add(id(app))
        app = getattr(app, "app", None)
    return None


class _FormChallenge(Unauthorized):
    """A 401 with ``WWW-Authenticate: Form``: a 401 must carry a challenge (RFC 9110 15.5.2)."""

    def get_headers(self, environ: WSGIEnvironment | None = None, scope: dict[str, Any] | None = None,
                    ) -> list[tuple[str, str]]:
        """The headers of a 401, with the ``Form`` challenge."""
        return [*super().get_headers(environ, scope), ("WWW-Authenticate", "Form")]


def _query_next(query: str) -> str:
    """The query's ``next``; the stdlib parser, as Werkzeug's fails on bytes that are not UTF-8."""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=50)
    except ValueError:
        return ""
    return next((value for key, value in pairs if key == "next"), "")


def _read_form(environ: WSGIEnvironment) -> Mapping[str, str] | HTTPException:
    """The posted form (at most 64 KB), or the 4xx to answer; a body that is not UTF-8 is an empty form."""
    request = BaseRequest(environ)
    request.max_content_length = request.max_form_memory_size = _MAX_FORM
    request.max_form_parts = 20
    try:
        return request.form
    except HTTPException as error:
        return error


def _redirect(environ: WSGIEnvironment, start_response: StartResponse, location: str,
              cookie: str | None = None, vary: str | None = None) -> Iterable[bytes]:
    """A 303 to *location* (a path: ``safe_next`` or built here), optionally setting *cookie*."""
    body = f'<p>Go to <a href="{html.escape(location)}">{html.escape(location)}</a>.</p>\n'.encode()
    headers = [("Location", location), ("Content-Type", "text/html; charset=utf-8"),
               ("Content-Length", str(len(body))), ("Cache-Control", "no-store")]
    if cookie is not None:
        headers.append(("Set-Cookie", cookie))
    if vary is not None:
        headers.append(("Vary", vary))
    start_response("303 See Other", headers)
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]
