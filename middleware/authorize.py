"""Authorization by path: which logged-in users may enter which area.

::

    from middleware.authorize import Authorize

    application = Authorize(app, rules={
        "/admin": {"alice", "bob"},                                # these users only
        "/admin/reports": lambda user, environ: user.endswith("@example.com"),
    })

An authentication layer outside (``FormLogin``, ``BasicAuth``, ``TokenAuth``, or the
server) sets ``REMOTE_USER``; this layer only reads it. The longest rule prefix that
covers the path decides (at segment boundaries: ``/admin`` covers ``/admin/x``, never
``/administrator``); a path no rule covers passes untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import Forbidden, Unauthorized

from .toolkit import PrefixMap, error_app, is_preflight

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["Authorize"]

#: A rule: the set of user names let in, or ``f(user, environ) -> bool``.
Rule = frozenset[str] | Callable[[str, Any], bool]


class _Challenge(Unauthorized):
    """A 401 with a fixed ``WWW-Authenticate``: a 401 must carry one (RFC 9110 15.5.2)."""

    def __init__(self, description: str, challenge: str) -> None:
        super().__init__(description)
        self.challenge = challenge

    def get_headers(self, environ: WSGIEnvironment | None = None, scope: dict[str, Any] | None = None,
                    ) -> list[tuple[str, str]]:
        """The headers of a 401, with the challenge."""
        return [*super().get_headers(environ, scope), ("WWW-Authenticate", self.challenge)]


def _rule(prefix: str, rule: Any) -> Rule:
    """*rule* checked: a collection of user names (as a frozenset) or a callable."""
    if isinstance(rule, (str, bytes)):
        raise TypeError(f"Authorize's rule for {prefix!r} is the string {rule!r}; give a set of user "
                        f"names, {{{rule!r}}}, or a function f(user, environ) -> bool.")
    if callable(rule):
        return rule  # type: ignore[no-any-return]
    if isinstance(rule, Iterable) and not isinstance(rule, Mapping):
        names = frozenset(rule)
        if all(isinstance(name, str) and name for name in names):
            return names
    raise TypeError(f"Authorize's rule for {prefix!r} must be a set of user names such as "
                    f"{{'alice', 'bob'}} or a function f(user, environ) -> bool, not {rule!r}.")


class Authorize:
    """Let a path's area only to the users its rule accepts.

    ::

        application = Authorize(app, rules={"/admin": {"alice"}, "/billing": is_accountant})

    No ``REMOTE_USER`` on a covered path -> 401 (with ``WWW-Authenticate:
    <challenge>``, as RFC 9110 requires of every 401); a user the rule refuses -> 403;
    both in JSON or HTML by ``Accept``, as the framework answers errors. A CORS
    preflight (``OPTIONS`` with ``Access-Control-Request-Method``) passes: it never
    carries credentials. A callable rule is called on every covered request; what it
    raises is a bug of the app's and is not caught.

    :param app: The WSGI application to wrap.
    :param rules: Path prefix -> a set of user names, or ``f(user, environ) -> bool``.
        A lone string is a ``TypeError`` (``"alice"`` is not ``{"alice"}``).
    :param challenge: The ``WWW-Authenticate`` value of the 401: ``"Form"`` (for
        ``FormLogin``), or e.g. ``'Basic realm="Restricted", charset="UTF-8"'`` behind
        a ``BasicAuth`` that does not protect these paths itself.
    """

    def __init__(self, app: WSGIApplication, *, rules: Mapping[str, Any],
                 challenge: str = "Form") -> None:
        if not isinstance(rules, Mapping) or not rules:
            raise TypeError("Authorize needs rules={path_prefix: {user, ...} or f(user, environ) -> bool}, "
                            "e.g. rules={'/admin': {'alice'}}.")
        if not isinstance(challenge, str) or not challenge.strip() or any(c in challenge for c in "\r\n"):
            raise ValueError(f"Authorize's challenge must be a WWW-Authenticate value such as 'Form', "
                             f"not {challenge!r}.")
        self.app = app
        self.rules: PrefixMap[Rule] = PrefixMap({prefix: _rule(prefix, rule)
                                                 for prefix, rule in rules.items()})
        self.challenge = challenge
        self._unauthorized = error_app(_Challenge("Log in to see this page.", challenge))
        self._forbidden = error_app(Forbidden("You are not allowed to see this page."))

    def describe(self) -> str:
        """One line for ``python -m framework stack``: each prefix and its kind of rule."""
        shown = []
        for prefix, rule in self.rules.items.items():
            what = (f"{len(rule)} user{'' if len(rule) == 1 else 's'}" if isinstance(rule, frozenset)
                    else getattr(rule, "__name__", type(rule).__name__))
            shown.append(f"{prefix or '/'}: {what}")
        return f"Authorize({', '.join(shown)})"

    def allows(self, path: str, user: str | None, environ: WSGIEnvironment) -> bool | None:
        """``True``/``False`` by the rule covering *path*; ``None`` when no user and a rule applies.

        A path that no rule covers is allowed for anyone, with or without a user.
        """
        found = self.rules.find(path)
        if found is None:
            return True
        if not user:
            return None
        rule = found[1]
        return user in rule if isinstance(rule, frozenset) else bool(rule(user, environ))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Pass the request in, or answer 401/403."""
        if is_preflight(environ):
            return self.app(environ, start_response)
        allowed = self.allows(environ.get("PATH_INFO") or "/", environ.get("REMOTE_USER"), environ)
        if allowed:
            return self.app(environ, start_response)
        return (self._forbidden if allowed is False else self._unauthorized)(environ, start_response)
