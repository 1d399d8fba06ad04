"""References between static files, rewritten to fingerprinted names.

::

    rewrite_references("css/site.css", "body { background: url(../img/bg.png) }",
                       {"img/bg.png": "img/bg.3f2a9c1b.png"}.get)
    # 'body { background: url(../img/bg.3f2a9c1b.png) }'

What Django's ``ManifestStaticFilesStorage`` rewrites, for the fingerprinted copies
``python -m framework assets`` writes (:mod:`framework.assets`): in CSS, ``url(...)``
and ``@import "..."``; in CSS and JavaScript, the ``sourceMappingURL`` comment. Only
relative references to files of the same folder tree are rewritten; absolute paths,
URLs with a scheme or host, ``data:`` URIs and fragments (``#id``) are left alone, and
so is a reference to a file the manifest does not name. A query or fragment after the
path (``font.woff2?v=2#iefix``) is kept.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

__all__ = ["REWRITABLE", "rewrite_references"]

#: The suffixes whose fingerprinted copies get their references rewritten.
REWRITABLE = frozenset({".css", ".js", ".mjs"})

_CSS = (
    re.compile(r"""url\(\s*(?P<quote>['"]?)(?P<url>[^'"()\s]+)(?P=quote)\s*\)""", re.IGNORECASE),
    re.compile(r"""@import\s+(?P<quote>['"])(?P<url>[^'"]+)(?P=quote)""", re.IGNORECASE),
    re.compile(r"(?m)^/\*#[ \t]*sourceMappingURL=(?P<url>[^\s*]+)"),
)
_JS = (re.compile(r"(?m)^//#[ \t]*sourceMappingURL=(?P<url>\S+)"),)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _target(name: str, url: str, lookup: Callable[[str], str | None]) -> str | None:
    """The reference ``url`` in file ``name`` with its file's fingerprinted name, or None."""
    if url.startswith(("/", "#", "\\")) or _SCHEME.match(url):
        return None
    cut = min((index for index in (url.find("?"), url.find("#")) if index >= 0), default=len(url))
    path, rest = url[:cut], url[cut:]
    if not path or path.endswith("/"):
        return None
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), path))
    if resolved == ".." or resolved.startswith("../"):
        return None
    hashed = lookup(resolved)
    if hashed is None:
        return None
    folder, slash, _ = path.rpartition("/")
    return f"{folder}{slash}{posixpath.basename(hashed)}{rest}"


def rewrite_references(name: str, text: str, lookup: Callable[[str], str | None]) -> str:
    """Point the references in ``text``, the content of file ``name``, at fingerprinted names.

    :param name: The file's path relative to the static folder (forward slashes);
        references are resolved from its folder.
    :param text: The file's content.
    :param lookup: Maps a path relative to the folder to its fingerprinted path, or
        None to leave the reference as it is.
    :returns: The new content (``text`` itself when nothing changed).
    """
    suffix = posixpath.splitext(name)[1].lower()
    patterns = _CSS if suffix == ".css" else _JS if suffix in REWRITABLE else ()

    def replace(match: re.Match[str]) -> str:
        target = _target(name, match.group("url"), lookup)
        if target is None:
            return match.group(0)
        start, end = match.span("url")
        whole = match.group(0)
        return whole[:start - match.start()] + target + whole[end - match.start():]

    for pattern in patterns:
        text = pattern.sub(replace, text)
    return text
