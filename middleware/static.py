"""``StaticFiles``: serve directories of files with HTTP caching, ranges and pre-compression.

::

    from middleware.static import StaticFiles

    application = StaticFiles(app, mounts={"/static": "public"})

The directories are indexed once, at start-up (:mod:`middleware.static_index`):
a hit is a dict lookup and a copy of a ready header list, a miss a dict lookup that
falls through to ``app``. The HTTP decisions (conditional requests, ranges, content
codings, refused paths) are pure functions in :mod:`middleware.static_http`.

Only ``GET`` and ``HEAD`` are answered; any other method goes to ``app``. A path
below a mount that tries to leave it (``..``, encoded dots or slashes, backslashes,
NUL, a drive letter, a dotfile) gets a 404 and a WARNING on the logger
``middleware.static``, without a look at the disk. Requests that go on to ``app``
carry ``environ["framework.static_url"]``: ``static_url("app.js")`` is the file's URL
under the mount and ``SCRIPT_NAME``, fingerprinted through the mount's
``manifest.json`` when there is one (``framework.assets``).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, TYPE_CHECKING
from urllib.parse import quote

from werkzeug.exceptions import NotFound, PreconditionFailed, RequestedRangeNotSatisfiable

from framework.assets import MANIFEST_NAME
from framework.mounting import normalize_prefix

from .static_http import (
    UNSATISFIABLE,
    byte_range,
    etag_matches,
    if_range_holds,
    modified_since,
    preferred_encodings,
    refused_path,
    strong_etag_matches,
    unmodified_since,
)
from .static_index import FileIndex, Options, Redirect, StaticFile
from .static_urls import PATH_SAFE, ManifestOption, Mount, StaticURL, manifest_files, quoted_path
from .toolkit import error_app

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["StaticFiles", "StaticURL"]

logger = logging.getLogger("middleware.static")

#: Where a request that goes on to the app finds ``static_url``.
STATIC_URL_KEY = "framework.static_url"
#: Bytes read at a time from a file (and the block size offered to ``wsgi.file_wrapper``).
BLOCK_SIZE = 65536
_DEFAULT_IMMUTABLE = r"\.[0-9a-f]{8,}\."
# What a Location's query keeps unescaped (it arrives encoded, as the client sent it).
_QUERY_SAFE = PATH_SAFE + "?%"
_CACHE_LIMIT = 256  # parsed Accept-Encoding values and static_url callables kept per layer
_NOT_FOUND = error_app(NotFound("There is no such file."))
_PRECONDITION_FAILED = error_app(PreconditionFailed())


class _FileBody:
    """At most *length* bytes of an open file, read *block* at a time; ``close()`` closes it."""

    __slots__ = ("file", "block", "remaining")

    def __init__(self, file: IO[bytes], block: int, length: int) -> None:
        self.file = file
        self.block = block
        self.remaining = length

    def __iter__(self) -> _FileBody:
        return self

    def __next__(self) -> bytes:
        if self.remaining <= 0:
            raise StopIteration
        data = self.file.read(min(self.block, self.remaining))
        if not data:  # the file shrank since it was indexed
            raise StopIteration
        self.remaining -= len(data)
        return data

    def close(self) -> None:
        """Close the file (the server calls this, also when the client went away)."""
        self.file.close()


_Found = StaticFile | Redirect | None


class StaticFiles:
    """Serve files from directories, with HTTP caching, ranges and pre-compressed variants.

    ::

        application = StaticFiles(app, mounts={"/static": "public"}, max_age=3600)

    A file is served with a strong ``ETag`` and ``Last-Modified``; ``If-None-Match``
    and ``If-Modified-Since`` get a 304 (``If-Match`` and ``If-Unmodified-Since`` a
    412); one ``Range`` gets a 206, one that does not overlap the file a 416. A
    ``.br`` or ``.gz`` sibling (``app.js.br``) is sent instead, with
    ``Content-Encoding``, when ``Accept-Encoding`` allows it; the siblings are not
    served under their own names. Names the *immutable* pattern matches get
    ``Cache-Control: public, max-age=31536000, immutable``. A directory with an
    *index* file answers at ``dir/``, and ``dir`` redirects there (301). Everything
    else goes to *app* untouched.

    :param app: The WSGI application to wrap; it answers every miss.
    :param mounts: URL prefix -> directory (``{"/static": "public"}``); the longest
        prefix wins where two cover the same URL.
    :param max_age: ``Cache-Control`` max-age (seconds) for names that are not fingerprinted.
    :param index: The file served for a directory path; ``None``: none.
    :param precompressed: Serve ``.br``/``.gz`` siblings to clients that accept them.
    :param autorefresh: Look at the disk on every request below a mount (development):
        new files are served, changed files get new validators.
    :param immutable: A regex searched in each file's name (relative to its
        directory); a match is a fingerprinted, never-changing file. ``None``: none.
    :param manifest: The ``manifest.json`` for ``static_url``: a path (one mount
        only), or a mapping of mount prefix -> path; ``None``: ``DIR/manifest.json``
        for each mount that has one.
    """

    def __init__(self, app: WSGIApplication, *, mounts: Mapping[str, str | os.PathLike[str]],
                 max_age: int = 60, index: str | None = "index.html", precompressed: bool = True,
                 autorefresh: bool = False, immutable: str | re.Pattern[str] | None = _DEFAULT_IMMUTABLE,
                 manifest: ManifestOption = None) -> None:
        if not callable(app):
            raise TypeError(f"StaticFiles' app must be a WSGI callable, not {app!r}.")
        self.app = app
        if not isinstance(mounts, Mapping) or not mounts:
            raise ValueError("StaticFiles needs at least one mount, e.g. mounts={'/static': 'public'}.")
        if isinstance(max_age, bool) or not isinstance(max_age, int):
            raise TypeError(f"StaticFiles' max_age must be a whole number of seconds, not {max_age!r}.")
        if max_age < 0:
            raise ValueError(f"StaticFiles' max_age must be 0 or more seconds, not {max_age!r}.")
        if index is not None and (not isinstance(index, str) or not index or "/" in index
                                  or index.startswith(".")):
            raise ValueError(f"StaticFiles' index must be a file name such as 'index.html', or None, "
                             f"not {index!r}.")
        self.max_age = max_age
        self.index = index
        self.precompressed = bool(precompressed)
        self.autorefresh = bool(autorefresh)
        self.immutable = _compiled(immutable)
        options = Options(max_age, self.immutable, self.precompressed, index)
        manifests = manifest_files(manifest, mounts)
        self.mounts: list[Mount] = []
        for prefix, directory in mounts.items():
            key = normalize_prefix(prefix)
            if any(mount.prefix == key for mount in self.mounts):
                raise ValueError(f"StaticFiles' mounts give the prefix {prefix!r} twice; keep one.")
            path = os.fspath(directory)
            if not os.path.isdir(path):
                raise ValueError(f"StaticFiles' directory for {prefix!r} does not exist or is not a "
                                 f"directory: {path!r}. Create it or fix the mounts option.")
            found = manifests.get(key)
            if found is None and manifest is None and os.path.isfile(os.path.join(path, MANIFEST_NAME)):
                found = os.path.join(path, MANIFEST_NAME)
            self.mounts.append(Mount(key, FileIndex(key, path, options), found))
        # Longest prefix last, so it wins where two mounts cover the same URL.
        by_length = sorted(self.mounts, key=lambda mount: len(mount.prefix))
        self.files: dict[str, StaticFile | Redirect] = {}
        for mount in by_length:
            self.files.update(mount.index.files)
        self._longest_first = by_length[::-1]
        self._starts = tuple(mount.prefix + "/" for mount in self.mounts)
        # The range of strings that start with one of _starts: "/" + 1 is "0".
        self._low, self._high = min(self._starts), max(start[:-1] + "0" for start in self._starts)
        self._index: Mapping[str, StaticFile | Redirect] = (
            _Refreshing(self) if self.autorefresh else self.files)
        self._encodings: dict[str, tuple[str, ...]] = {}
        self._urls: dict[str, StaticURL] = {}
        self._nested: dict[tuple[str, Callable[[str], str]], StaticURL] = {}

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer a GET or HEAD for a file; pass everything else to the app."""
        # Subscripts and "in", not .get(): a miss then makes no call before the app's.
        try:
            path = environ["PATH_INFO"]
        except KeyError:  # PEP 3333: may be absent when empty
            path = ""
        found = self._index[path] if path in self._index else None
        if found is None:
            # Two string comparisons (no call) say whether path may be below a mount:
            # every "/static/..." sorts between "/static/" and "/static0". Then only a
            # path holding a character refused_path's regex needs is looked at (a path
            # below a mount starts with "/", so "/." covers a leading dot).
            if (self._low <= path < self._high
                    and ("/." in path or "//" in path or "%" in path or "\\" in path or ":" in path
                         or not path.isprintable())
                    and self._refused(path, environ)):
                return _NOT_FOUND(environ, start_response)
        else:
            method = environ.get("REQUEST_METHOD")
            if method == "GET" or method == "HEAD":
                if type(found) is StaticFile:
                    body = self._serve(found, environ, start_response)
                    if body is not None:
                        return body
                else:
                    return self._redirect(found.path, environ, start_response)  # type: ignore[union-attr]
        # Every request the app answers comes here: subscripts and a literal key, no call.
        if "framework.static_url" in environ:  # an outer StaticFiles: fall back to its static_url
            environ["framework.static_url"] = self._bind(environ, environ["framework.static_url"])
        else:
            try:
                environ["framework.static_url"] = self._urls[environ["SCRIPT_NAME"]]
            except KeyError:  # a SCRIPT_NAME not seen yet, or none at all
                environ["framework.static_url"] = self._bind(environ, None)
        return self.app(environ, start_response)

    def _bind(self, environ: WSGIEnvironment, outer: Callable[[str], str] | None) -> StaticURL:
        """The ``static_url`` for this ``SCRIPT_NAME`` (and outer layer's ``static_url``), kept if cheap."""
        script = environ.get("SCRIPT_NAME", "")
        if outer is not None:  # nested layers: cached by both
            urls = self._nested.get((script, outer))
            if urls is None:
                urls = StaticURL(self.mounts, self.autorefresh, script, outer)
                if len(self._nested) < _CACHE_LIMIT:
                    self._nested[(script, outer)] = urls
            return urls
        urls = StaticURL(self.mounts, self.autorefresh, script, None)
        if len(self._urls) < _CACHE_LIMIT:
            self._urls[script] = urls
        return urls

    def _refused(self, path: str, environ: WSGIEnvironment) -> bool:
        """Whether a GET/HEAD below a mount tries to leave it (logged), see :func:`refused_path`."""
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or not path.startswith(self._starts):
            return False
        for mount in self._longest_first:
            if path.startswith(mount.prefix + "/"):
                if refused_path(path[len(mount.prefix):]):
                    logger.warning("StaticFiles: refused the path %r from %s",
                                   path[:300], environ.get("REMOTE_ADDR", "-"))
                    return True
                return False
        return False

    def _refresh(self, path: str) -> _Found:
        """``autorefresh=True``: the file (or redirect) at *path*, as the disk has it now."""
        for mount in self._longest_first:
            prefix = mount.prefix
            if path == prefix or path.startswith(prefix + "/"):
                rel = path[len(prefix):]
                return None if refused_path(rel) else mount.index.lookup(rel)
        return None

    def _serve(self, file: StaticFile, environ: WSGIEnvironment,
               start_response: StartResponse) -> Iterable[bytes] | None:
        """Answer for *file*: 200, 206, 304, 412 or 416; ``None`` if it cannot be opened."""
        variant = file.identity
        if file.encoded:
            accept = environ.get("HTTP_ACCEPT_ENCODING")
            if accept:
                codings = self._encodings.get(accept)
                if codings is None:
                    codings = preferred_encodings(accept)
                    if len(self._encodings) < _CACHE_LIMIT:
                        self._encodings[accept] = codings
                for coding in codings:
                    if coding in file.encoded:
                        variant = file.encoded[coding]
                        break
        # RFC 9110 13.2.2: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since, If-Range.
        header = environ.get("HTTP_IF_MATCH")
        if header is not None:
            if not strong_etag_matches(header, variant.etag):
                return _PRECONDITION_FAILED(environ, start_response)
        else:
            header = environ.get("HTTP_IF_UNMODIFIED_SINCE")
            if header is not None and not unmodified_since(header, file.mtime):
                return _PRECONDITION_FAILED(environ, start_response)
        header = environ.get("HTTP_IF_NONE_MATCH")
        if header is not None:
            if etag_matches(header, variant.etag):
                start_response("304 Not Modified", list(variant.not_modified))
                return []
        else:
            header = environ.get("HTTP_IF_MODIFIED_SINCE")
            if header is not None and (header == file.last_modified
                                       or not modified_since(header, file.mtime)):
                start_response("304 Not Modified", list(variant.not_modified))
                return []
        if environ.get("REQUEST_METHOD") == "HEAD":
            start_response("200 OK", list(variant.headers))
            return []
        header = environ.get("HTTP_RANGE")
        if header is not None:
            if_range = environ.get("HTTP_IF_RANGE")
            if if_range is None or if_range_holds(if_range, variant.etag, file.last_modified, file.mtime):
                found = byte_range(header, variant.size)
                if found is UNSATISFIABLE:
                    refuse = error_app(RequestedRangeNotSatisfiable(length=variant.size))
                    return refuse(environ, start_response)
                if found:
                    return self._partial(file, variant.path, found, variant.partial, environ, start_response)
        try:
            opened = open(variant.path, "rb", buffering=0)  # a bare FileIO: the reads are big anyway
        except OSError as exc:  # gone since it was indexed: a miss
            logger.warning("StaticFiles: cannot open %r: %s", variant.path, exc.strerror)
            return None
        try:
            start_response("200 OK", list(variant.headers))
            wrapper = environ.get("wsgi.file_wrapper")
            # PEP 3333 "Optional Platform-Specific File Handling": sendfile under gunicorn.
            if wrapper is not None:
                return wrapper(opened, BLOCK_SIZE)  # type: ignore[no-any-return]
            return _FileBody(opened, BLOCK_SIZE, variant.size)
        except BaseException:
            opened.close()
            raise

    def _partial(self, file: StaticFile, path: str, span: tuple[int, int], headers: list[tuple[str, str]],
                 environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes] | None:
        """A 206 of bytes ``span[0]`` to ``span[1] - 1`` (RFC 9110 14.4, 15.3.7)."""
        start, stop = span
        try:
            opened = open(path, "rb", buffering=0)
        except OSError as exc:
            logger.warning("StaticFiles: cannot open %r: %s", path, exc.strerror)
            return None
        try:
            size = os.fstat(opened.fileno()).st_size
            opened.seek(start)
            start_response("206 Partial Content", [
                *headers, ("Content-Range", f"bytes {start}-{stop - 1}/{size}"),
                ("Content-Length", str(stop - start))])
            return _FileBody(opened, BLOCK_SIZE, stop - start)
        except BaseException:
            opened.close()
            raise

    def _redirect(self, target: str, environ: WSGIEnvironment,
                  start_response: StartResponse) -> Iterable[bytes]:
        """301 to the directory's URL with its trailing slash, query string kept."""
        location = quoted_path(environ.get("SCRIPT_NAME", "") + target)
        query = environ.get("QUERY_STRING")
        if query:
            location += "?" + quote(query, safe=_QUERY_SAFE)
        start_response("301 Moved Permanently", [
            ("Location", location), ("Content-Type", "text/plain; charset=utf-8"),
            ("Cache-Control", f"public, max-age={self.max_age}"), ("Content-Length", "0")])
        return []

    def describe(self) -> str:
        """One line for ``python -m framework stack``."""
        mounts = ", ".join(f"{mount.prefix or '/'} -> {mount.index.root}" for mount in self.mounts)
        pattern = None if self.immutable is None else self.immutable.pattern
        files = len({id(file) for file in self.files.values() if type(file) is StaticFile})
        return (f"StaticFiles({mounts}; {files} files, "
                f"max_age={self.max_age}, precompressed={self.precompressed}, "
                f"autorefresh={self.autorefresh}, immutable={pattern!r})")


class _Refreshing(Mapping[str, StaticFile | Redirect]):
    """``autorefresh=True``: the index as a mapping that asks the disk on each lookup."""

    def __init__(self, layer: StaticFiles) -> None:
        self._layer = layer
        self._last: tuple[str, StaticFile | Redirect | None] = ("", None)

    def __contains__(self, path: object) -> bool:
        found = self._layer._refresh(path) if isinstance(path, str) else None
        self._last = (path, found)  # type: ignore[assignment]
        return found is not None

    def __getitem__(self, path: str) -> StaticFile | Redirect:
        last_path, found = self._last
        if last_path != path or found is None:
            found = self._layer._refresh(path)
        if found is None:
            raise KeyError(path)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._layer.files)

    def __len__(self) -> int:
        return len(self._layer.files)


def _compiled(immutable: str | re.Pattern[str] | None) -> re.Pattern[str] | None:
    if immutable is None or isinstance(immutable, re.Pattern):
        return immutable
    if not isinstance(immutable, str):
        raise TypeError(f"StaticFiles' immutable must be a regex string, a compiled pattern or None, "
                        f"not {immutable!r}.")
    try:
        return re.compile(immutable)
    except re.error as exc:
        raise ValueError(f"StaticFiles' immutable pattern {immutable!r} is not a valid regex: "
                         f"{exc}.") from None
