"""What :class:`~middleware.static.StaticFiles` gives the app inside: ``static_url``.

::

    static_url = environ["framework.static_url"]
    static_url("app.js")     # '/static/app.3f2a9c1b.js' with a manifest, else '/static/app.js'

A :class:`Mount` is one URL prefix -> directory of the layer: its
:class:`~middleware.static_index.FileIndex` and the names its ``manifest.json``
(``framework.assets``) maps to fingerprinted names. A :class:`StaticURL` is bound
to the mounts, the ``SCRIPT_NAME`` the layer saw and, with nested layers, the outer
layer's ``static_url`` to fall back to.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Union
from urllib.parse import quote

from framework.assets import read_manifest
from framework.mounting import normalize_prefix

from .static_http import refused_path
from .static_index import FileIndex, StaticFile

__all__ = ["ManifestOption", "Mount", "StaticURL", "manifest_files", "quoted_path"]

#: What StaticFiles' ``manifest`` option takes: a file, prefix -> file, or None.
ManifestOption = Union[str, "os.PathLike[str]", Mapping[str, Union[str, "os.PathLike[str]"]], None]  # noqa: UP007
# RFC 3986 pchar plus "/": what a URL path keeps unescaped.
PATH_SAFE = "/!$&'()*+,;=:@-._~"


class Mount:
    """One URL prefix -> directory: its file index and its manifest."""

    __slots__ = ("prefix", "index", "manifest_path", "manifest", "manifest_stamp")

    def __init__(self, prefix: str, index: FileIndex, manifest_path: str | None) -> None:
        self.prefix = prefix
        self.index = index
        self.manifest_path = manifest_path
        self.manifest: dict[str, str] = read_manifest(manifest_path) if manifest_path else {}
        self.manifest_stamp = _stamp(manifest_path)

    def reread_manifest(self) -> None:
        """Read the manifest again if it changed on disk (``autorefresh=True``)."""
        stamp = _stamp(self.manifest_path)
        if stamp != self.manifest_stamp:
            path = self.manifest_path
            self.manifest = read_manifest(path) if stamp is not None and path else {}
            self.manifest_stamp = stamp

    def has(self, name: str, autorefresh: bool) -> bool:
        """Whether the directory has a file called *name* (forward slashes)."""
        rel = "/" + name.encode("utf-8", "surrogateescape").decode("latin-1")
        if autorefresh:
            return not refused_path(rel) and isinstance(self.index.lookup(rel), StaticFile)
        return isinstance(self.index.files.get(self.prefix + rel), StaticFile)


def _stamp(path: str | None) -> int | None:
    try:
        return os.stat(path).st_mtime_ns if path else None
    except OSError:
        return None


class StaticURL:
    """``environ["framework.static_url"]``: a file's URL, under the mounts and ``SCRIPT_NAME``.

    ::

        static_url = environ["framework.static_url"]
        static_url("app.js")          # '/static/app.3f2a9c1b.js' with a manifest, else '/static/app.js'

    The first mount whose manifest or directory has the file gives the URL; failing
    that, an outer ``StaticFiles`` layer's ``static_url`` (*outer*) if there is one,
    else the first mount. A leading ``/`` is ignored; the URL is percent-encoded.
    """

    __slots__ = ("_mounts", "_autorefresh", "_bases", "_outer")

    def __init__(self, mounts: list[Mount], autorefresh: bool, script_name: str,
                 outer: Callable[[str], str] | None) -> None:
        self._mounts = mounts
        self._autorefresh = autorefresh
        self._bases = [quoted_path(script_name + mount.prefix) + "/" for mount in mounts]
        self._outer = outer

    def __call__(self, path: str) -> str:
        """The URL of the file *path* (relative to a mounted directory)."""
        name = path.lstrip("/")
        autorefresh = self._autorefresh
        for mount, base in zip(self._mounts, self._bases, strict=True):
            if autorefresh:
                mount.reread_manifest()
            hashed = mount.manifest.get(name)
            if hashed is not None:
                return base + quote(hashed)
            if mount.has(name, autorefresh):
                return base + quote(name)
        if self._outer is not None:
            return self._outer(path)
        return self._bases[0] + quote(name)


def quoted_path(path: str) -> str:
    """A PEP 3333 path (UTF-8 bytes as latin-1) percent-encoded for a URL."""
    try:
        raw = path.encode("latin-1")
    except UnicodeEncodeError:  # a server that put real text in SCRIPT_NAME
        raw = path.encode("utf-8")
    return quote(raw, safe=PATH_SAFE)


def manifest_files(manifest: ManifestOption, mounts: Mapping[str, object]) -> dict[str, str]:
    """The manifest option as normalized prefix -> file (each checked to exist)."""
    if manifest is None:
        return {}
    if isinstance(manifest, Mapping):
        given = {normalize_prefix(prefix): os.fspath(path) for prefix, path in manifest.items()}
        known = {normalize_prefix(prefix) for prefix in mounts}
        for prefix in given:
            if prefix not in known:
                raise ValueError(f"StaticFiles' manifest names the prefix {prefix or '/'!r}, which is not "
                                 f"one of the mounts.")
    else:
        if len(mounts) != 1:
            raise ValueError("StaticFiles has several mounts: give manifest as a mapping of mount "
                             "prefix -> manifest file, e.g. {'/static': 'public/manifest.json'}.")
        given = {normalize_prefix(next(iter(mounts))): os.fspath(manifest)}
    for path in given.values():
        if not os.path.isfile(path):
            raise ValueError(f"StaticFiles' manifest file {path!r} does not exist; build it with "
                             f"'python -m framework assets DIR' or leave manifest=None.")
    return given
