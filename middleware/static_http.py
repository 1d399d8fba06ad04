"""The HTTP decisions of :class:`~middleware.static.StaticFiles`, as pure functions.

Each takes header values (strings, as the client sent them) and facts about a file,
and returns a decision; none touches ``environ``, the disk or a socket, so each is
tested on its own::

    refused_path("/../secret")                        # True
    preferred_encodings("gzip;q=0.5, br")             # ('br', 'gzip')
    etag_matches('W/"5f-1a", "x"', '"5f-1a"')         # True (weak comparison)
    byte_range("bytes=-1", 10)                        # (9, 10)
    byte_range("bytes=20-", 10)                       # UNSATISFIABLE

The rules are RFC 9110's: conditional requests (13), ranges (14), content
codings (12.5.3).
"""

from __future__ import annotations

import re
from typing import Final, Literal

from werkzeug.http import parse_date, parse_etags, parse_range_header

from .toolkit import accepted_codings

__all__ = [
    "UNSATISFIABLE", "byte_range", "etag_matches", "if_range_holds", "modified_since",
    "preferred_encodings", "refused_path", "strong_etag_matches", "unmodified_since",
]

#: :func:`byte_range` for a range that does not overlap the file: answer 416.
UNSATISFIABLE: Final = False

# What a request path (PEP 3333 PATH_INFO, already percent-decoded by the server) may
# not hold, below a mount: backslashes (a separator on Windows), NUL and other control
# characters, an empty segment ("//etc/passwd" is an absolute path once joined), a
# segment that starts with a dot (".", "..", ".env", ".git/"), an encoded dot, slash,
# backslash, NUL or percent left over from double encoding ("%2e%2e", "%2f", "%5c"),
# and a Windows drive letter ("C:").
_REFUSED = re.compile(r"[\\\x00-\x1f\x7f]|//|(?:^|/)\.|%(?:2e|2f|5c|00|25)|(?:^|/)[a-z]:",
                      re.IGNORECASE)
# werkzeug reads "bytes=-0" as "bytes=0-"; RFC 9110 14.1.3 says a suffix of 0 cannot be satisfied.
_ZERO_SUFFIX = re.compile(r"\s*bytes\s*=\s*-\s*0+\s*", re.IGNORECASE)
# The codings a file can have a pre-compressed sibling for, best first (brotli is smaller).
_CODINGS = ("br", "gzip")


def refused_path(rel: str) -> bool:
    """Whether a path below a mount (``PATH_INFO`` minus the prefix) is refused outright.

    ::

        refused_path("/css/site.css")     # False
        refused_path("/../etc/passwd")    # True
        refused_path("/.env")             # True: no dotfiles
        refused_path("/%2e%2e/secret")    # True: double-encoded dots

    A refused path gets a 404 whether or not such a file exists; it never reaches
    the disk.
    """
    # Every alternative of _REFUSED needs one of these; most paths hold none (no regex run).
    if ("/." in rel or "//" in rel or "%" in rel or "\\" in rel or ":" in rel
            or rel[:1] == "." or not rel.isprintable()):
        return _REFUSED.search(rel) is not None
    return False


def preferred_encodings(header: str) -> tuple[str, ...]:
    """The content codings of ours the client accepts, best first (RFC 9110 12.5.3).

    ::

        preferred_encodings("gzip, deflate, br")        # ('br', 'gzip')
        preferred_encodings("gzip;q=1, br;q=0.5")       # ('gzip', 'br')
        preferred_encodings("br;q=0, *")                # ('gzip',)
        preferred_encodings("identity")                 # ()

    :func:`middleware.toolkit.accepted_codings` for the codings a file can have a
    sibling for: at equal weights brotli comes before gzip.

    :param header: The ``Accept-Encoding`` value.
    """
    return accepted_codings(header, _CODINGS)


def etag_matches(header: str, etag: str) -> bool:
    """Whether ``If-None-Match`` matches *etag* by weak comparison (RFC 9110 13.1.2).

    ``*`` matches any existing file; ``W/"x"`` matches ``"x"``. *etag* is quoted.
    """
    if header == etag:
        return True
    return parse_etags(header).contains_weak(etag[1:-1])


def strong_etag_matches(header: str, etag: str) -> bool:
    """Whether ``If-Match`` matches *etag* by strong comparison (RFC 9110 13.1.1).

    ``*`` matches any existing file; a weak tag never matches.
    """
    if header == etag:
        return True
    tags = parse_etags(header)
    return tags.star_tag or tags.is_strong(etag[1:-1])


def modified_since(header: str, mtime: int) -> bool:
    """``If-Modified-Since``: whether a file last modified at *mtime* (seconds) is newer.

    An invalid date is ignored (RFC 9110 13.1.3): the file counts as modified.
    """
    date = parse_date(header)
    return date is None or mtime > date.timestamp()


def unmodified_since(header: str, mtime: int) -> bool:
    """``If-Unmodified-Since``: whether the precondition holds (an invalid date is ignored)."""
    date = parse_date(header)
    return date is None or mtime <= date.timestamp()


def if_range_holds(header: str, etag: str, last_modified: str, mtime: int) -> bool:
    """Whether ``If-Range`` lets the ``Range`` apply (RFC 9110 13.1.5).

    An entity tag must match *etag* by strong comparison (a weak tag never does); a
    date must equal the file's ``Last-Modified`` exactly. Werkzeug's
    ``parse_if_range_header`` drops the ``W/`` of a weak tag, so the tag is read here.
    """
    value = header.strip()
    if value.startswith('"'):
        return value == etag
    if value.startswith("W/"):
        return False
    if value == last_modified:
        return True
    date = parse_date(value)
    return date is not None and int(date.timestamp()) == mtime


def byte_range(header: str, size: int) -> tuple[int, int] | Literal[False] | None:
    """The one byte range a ``Range`` header asks of a file of *size* bytes.

    ::

        byte_range("bytes=0-0", 10)       # (0, 1): the first byte
        byte_range("bytes=-1", 10)        # (9, 10): the last byte
        byte_range("bytes=-50", 10)       # (0, 10): a suffix longer than the file
        byte_range("bytes=4-", 10)        # (4, 10)
        byte_range("bytes=10-", 10)       # UNSATISFIABLE (416)
        byte_range("bytes=5-3", 10)       # None: malformed, ignored (RFC 9110 14.2)
        byte_range("bytes=0-1,5-6", 10)   # None: several ranges get the whole file

    :returns: ``(start, stop)`` with *stop* exclusive; :data:`UNSATISFIABLE`; or
        ``None``: ignore the header and send the whole file (malformed, another unit,
        several ranges, or a suffix range of an empty file).
    """
    parsed = parse_range_header(header)
    if parsed is None or parsed.units != "bytes" or len(parsed.ranges) != 1:
        return None
    start, stop = parsed.ranges[0]
    if start < 0:  # a suffix range: the last -start bytes
        return (max(size + start, 0), size) if size else None
    if stop is None and start == 0 and _ZERO_SUFFIX.fullmatch(header):
        return UNSATISFIABLE
    if start >= size:  # RFC 9110 14.1.1: the first byte must exist
        return UNSATISFIABLE
    return start, size if stop is None else min(stop, size)
