"""The files :class:`~middleware.static.StaticFiles` serves, looked at once, with ready headers.

::

    index = FileIndex("/static", "public", options)
    index.files["/static/app.js"]     # a StaticFile: variants, validators, header lists

Everything a response needs that does not depend on the request (``Content-Type``,
``Content-Length``, ``ETag``, ``Last-Modified``, ``Cache-Control``, ``Vary``) is
computed here, so that serving a file is a dict lookup and a copy of a header list.
Only regular files inside the directory are indexed: dotfiles and dot-directories
are skipped, and a symlink counts only if its target (resolved) is inside the
directory too.
"""

from __future__ import annotations

import mimetypes
import os
import re
import stat
from collections.abc import Iterator
from typing import NamedTuple

from werkzeug.http import http_date
from werkzeug.security import safe_join

__all__ = ["FileIndex", "Options", "Redirect", "StaticFile", "Variant", "content_type", "inside"]

_HeaderList = list[tuple[str, str]]
_Siblings = dict[str, tuple[str, os.stat_result]]  # coding -> (path, stat) of a pre-compressed sibling

# Types mimetypes gets wrong, or does not know, on some systems (it reads /etc/mime.types).
MEDIA_TYPES = {
    ".js": "text/javascript", ".mjs": "text/javascript", ".cjs": "text/javascript",  # RFC 9239
    ".css": "text/css", ".html": "text/html", ".htm": "text/html", ".txt": "text/plain",
    ".csv": "text/csv", ".md": "text/markdown", ".xml": "application/xml",
    ".json": "application/json", ".map": "application/json", ".jsonld": "application/ld+json",
    ".webmanifest": "application/manifest+json", ".wasm": "application/wasm",
    ".svg": "image/svg+xml", ".webp": "image/webp", ".avif": "image/avif", ".jxl": "image/jxl",
    ".apng": "image/apng", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".gif": "image/gif", ".ico": "image/vnd.microsoft.icon", ".woff": "font/woff",
    ".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf", ".mp4": "video/mp4",
    ".webm": "video/webm", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".opus": "audio/ogg",
    ".pdf": "application/pdf", ".zip": "application/zip", ".gz": "application/gzip",
    ".br": "application/x-brotli", ".zst": "application/zstd",
}
# mimetypes reports "data.tar.gz" as ("application/x-tar", "gzip"); the bytes sent are the gzip file.
_ARCHIVES = {"gzip": "application/gzip", "bzip2": "application/x-bzip2", "xz": "application/x-xz",
             "br": "application/x-brotli", "compress": "application/x-compress"}
# Pre-compressed siblings: suffix -> Content-Encoding.
ENCODED_SUFFIXES = {"br": ".br", "gzip": ".gz"}


def content_type(name: str) -> str:
    """The ``Content-Type`` of a file called *name*, with ``charset=utf-8`` for text.

    ::

        content_type("app.js")        # 'text/javascript; charset=utf-8'
        content_type("logo.webp")     # 'image/webp'
        content_type("notes")         # 'application/octet-stream'
    """
    suffix = os.path.splitext(name)[1].lower()
    media = MEDIA_TYPES.get(suffix)
    if media is None:
        guessed, encoding = mimetypes.guess_type(name, strict=False)
        media = _ARCHIVES.get(encoding or "", "application/octet-stream") if encoding else guessed
    media = media or "application/octet-stream"
    if media.startswith("text/") or media.endswith("xml"):  # RFC 6657 4, RFC 7303 9
        return media + "; charset=utf-8"
    return media


def inside(root: str, path: str) -> bool:
    """Whether *path*, with every symlink resolved, is *root* or below it (*root* is resolved)."""
    real = os.path.realpath(path)
    return real == root or real.startswith(root if root.endswith(os.sep) else root + os.sep)


class Options(NamedTuple):
    """What every file of a layer shares: the options that shape its headers."""

    max_age: int
    immutable: re.Pattern[str] | None
    precompressed: bool
    index_name: str | None


class Variant:
    """One representation of a file: itself, or its ``.br`` or ``.gz`` sibling.

    :ivar headers: The whole 200 response's headers (copy before sending).
    :ivar partial: The same without ``Content-Length``, for a 206.
    :ivar not_modified: A 304's headers: the validators and caching headers of the 200.
    :ivar etag: A strong, quoted ``ETag`` of its own: size and nanosecond mtime, and the coding.
    """

    __slots__ = ("path", "encoding", "size", "etag", "headers", "partial", "not_modified")

    def __init__(self, path: str, encoding: str | None, st: os.stat_result, common: _HeaderList,
                 validators: _HeaderList) -> None:
        self.path = path
        self.encoding = encoding
        self.size = st.st_size
        tag = f"{st.st_mtime_ns:x}-{st.st_size:x}" + (f"-{encoding}" if encoding else "")
        self.etag = f'"{tag}"'
        self.partial: _HeaderList = [*common, ("ETag", self.etag)]
        if encoding:
            self.partial.append(("Content-Encoding", encoding))
        self.headers: _HeaderList = [*self.partial, ("Content-Length", str(self.size))]
        # RFC 9110 15.4.5: a 304 carries the ETag, Cache-Control and Vary a 200 would.
        self.not_modified: _HeaderList = [*validators, ("ETag", self.etag)]


class StaticFile:
    """A file ready to serve: its variants and the headers of each answer.

    :ivar identity: The file itself.
    :ivar encoded: ``{coding: Variant}`` of its pre-compressed siblings (may be empty).
    :ivar validators: The caching headers a 304 repeats (without the ``ETag``).
    :ivar stamp: What :meth:`FileIndex.refresh` compares to see a change.
    """

    __slots__ = ("name", "identity", "encoded", "mtime", "last_modified", "validators", "stamp")

    def __init__(self, name: str, path: str, st: os.stat_result, siblings: _Siblings,
                 options: Options) -> None:
        self.name = name
        self.mtime = int(st.st_mtime)
        self.last_modified = http_date(self.mtime)
        immutable = options.immutable is not None and options.immutable.search(name) is not None
        cache = "public, max-age=31536000, immutable" if immutable else f"public, max-age={options.max_age}"
        self.validators: _HeaderList = [("Last-Modified", self.last_modified), ("Cache-Control", cache)]
        if siblings:  # RFC 9110 12.5.5: the answer depends on Accept-Encoding, for every variant
            self.validators.append(("Vary", "Accept-Encoding"))
        common = [("Content-Type", content_type(name)), *self.validators, ("Accept-Ranges", "bytes")]
        self.identity = Variant(path, None, st, common, self.validators)
        self.encoded = {coding: Variant(sibling, coding, sibling_st, common, self.validators)
                        for coding, (sibling, sibling_st) in siblings.items()}
        self.stamp = _stamp(st, siblings)


def _stamp(st: os.stat_result, siblings: _Siblings) -> tuple[object, ...]:
    return (st.st_ino, st.st_size, st.st_mtime_ns,
            *((coding, s.st_ino, s.st_size, s.st_mtime_ns) for coding, (_, s) in sorted(siblings.items())))


class Redirect(NamedTuple):
    """A directory asked for without its trailing slash: redirect to ``path + "/"``."""

    path: str


def _url_key(prefix: str, name: str) -> str:
    """The PATH_INFO (PEP 3333: UTF-8 bytes as latin-1) that asks for *name* under *prefix*."""
    return prefix + "/" + name.encode("utf-8", "surrogateescape").decode("latin-1")


class FileIndex:
    """The files of one mount (URL prefix -> directory), keyed by the PATH_INFO that asks for each.

    :param prefix: The normalized mount prefix (``""`` for ``/``).
    :param directory: The directory; resolved once, symlinks and all.
    :param options: The shared :class:`Options`.
    """

    def __init__(self, prefix: str, directory: str, options: Options) -> None:
        self.prefix = prefix
        self.root = os.path.realpath(directory)
        self.options = options
        self.files: dict[str, StaticFile | Redirect] = {}
        found = dict(self._walk())
        for name, (path, st) in found.items():
            if self._is_sibling(name, found.__contains__):
                continue
            siblings = {}
            if options.precompressed:
                for coding, suffix in ENCODED_SUFFIXES.items():
                    if name + suffix in found:
                        siblings[coding] = found[name + suffix]
            self._add(name, StaticFile(name, path, st, siblings, options))

    def _is_sibling(self, name: str, exists: object) -> bool:
        """Whether *name* is the pre-compressed sibling of a file: served as a variant only."""
        if not self.options.precompressed:
            return False
        for suffix in ENCODED_SUFFIXES.values():
            if name.endswith(suffix) and exists(name[: -len(suffix)]):  # type: ignore[operator]
                return True
        return False

    def _add(self, name: str, file: StaticFile) -> None:
        key = _url_key(self.prefix, name)
        self.files[key] = file
        index = self.options.index_name
        if index is not None and (name == index or name.endswith("/" + index)):
            directory = key[: -len(index)]
            self.files[directory] = file
            self.files[directory[:-1]] = Redirect(directory)

    def _walk(self) -> Iterator[tuple[str, tuple[str, os.stat_result]]]:
        """Every regular file below the root: ``(name with forward slashes, (path, stat))``."""
        for directory, dirs, names in os.walk(self.root, followlinks=True):
            here = os.path.realpath(directory)
            kept = []
            for sub in dirs:
                real = os.path.realpath(os.path.join(directory, sub))
                # No dot-directories; a symlinked directory only if it stays inside and is
                # not one of its own ancestors (a loop).
                if not sub.startswith(".") and inside(self.root, real) and not inside(real, here):
                    kept.append(sub)
            dirs[:] = kept
            relative = os.path.relpath(directory, self.root)
            for base in names:
                if base.startswith("."):
                    continue
                path = os.path.join(directory, base)
                try:
                    st = os.stat(path)
                except OSError:  # a dangling symlink
                    continue
                if stat.S_ISREG(st.st_mode) and inside(self.root, path):
                    name = base if relative == "." else f"{relative}/{base}".replace(os.sep, "/")
                    yield name, (path, st)

    def lookup(self, rel: str) -> StaticFile | Redirect | None:
        """Look at the disk now for *rel*, and update the index to match.

        *rel* is the PATH_INFO below the prefix, already checked by
        :func:`~middleware.static_http.refused_path`. ``autorefresh=True`` calls this
        on every request below the prefix.
        """
        name = rel[1:].encode("latin-1").decode("utf-8", "surrogateescape")
        key = self.prefix + rel
        if rel:
            found = self._look(name)
        else:  # the mount itself, "/static": its index is at "/static/"
            index = self.options.index_name
            has_index = index is not None and _regular(self.root, os.path.join(self.root, index))
            found = Redirect(self.prefix + "/") if has_index else None
        if found is None:
            self.files.pop(key, None)
            return None
        if isinstance(found, Redirect):
            self.files[key] = found
            return found
        file_name, path, st, siblings = found
        known = self.files.get(key)
        if isinstance(known, StaticFile) and known.stamp == _stamp(st, siblings) and known.name == file_name:
            return known
        file = StaticFile(file_name, path, st, siblings, self.options)
        self.files[key] = file
        return file

    def _look(self, name: str) -> Redirect | tuple[str, str, os.stat_result, _Siblings] | None:
        index = self.options.index_name
        if name == "" or name.endswith("/"):
            if index is None:
                return None
            name += index
        path = safe_join(self.root, name) if name else None
        if path is None:
            return None
        st = _regular(self.root, path)
        if st is None:
            if index is not None and _regular(self.root, os.path.join(path, index)) is not None:
                directory = os.path.isdir(path) and inside(self.root, path)
                return Redirect(_url_key(self.prefix, name) + "/") if directory else None
            return None
        if self._is_sibling(name, lambda other: _regular(self.root, os.path.join(self.root, other))):
            return None
        siblings: _Siblings = {}
        if self.options.precompressed:
            for coding, suffix in ENCODED_SUFFIXES.items():
                sibling_st = _regular(self.root, path + suffix)
                if sibling_st is not None:
                    siblings[coding] = (path + suffix, sibling_st)
        return name, path, st, siblings


def _regular(root: str, path: str) -> os.stat_result | None:
    """The stat of *path* if it is a regular file inside *root* (symlinks resolved), else None."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st if stat.S_ISREG(st.st_mode) and inside(root, path) else None
