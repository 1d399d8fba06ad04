"""Fingerprinted static files and their manifest, for apps without a bundler.

::

    from framework.assets import read_manifest

    paths = read_manifest("public/manifest.json")
    paths["app.js"]                     # 'app.3f2a9c1b.js'

``python -m framework assets DIR`` (:func:`build_assets`) writes the manifest; the
``StaticFiles`` layer reads it with :func:`read_manifest` so that the ``static_url()``
template global gives the fingerprinted URL. The manifest is JSON::

    {"version": 1, "paths": {"app.js": "app.3f2a9c1b.js", "css/site.css": "css/site.0a1b2c3d.css"}}

Keys and values are paths relative to the directory, with forward slashes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import mimetypes
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .assets_refs import REWRITABLE, rewrite_references

__all__ = ["MANIFEST_NAME", "MANIFEST_VERSION", "AssetsReport", "build_assets", "fingerprint",
           "fingerprinted_name", "is_compressible", "read_manifest"]

#: The manifest's file name inside the static directory.
MANIFEST_NAME = "manifest.json"

#: The manifest format this module reads and writes.
MANIFEST_VERSION = 1


def _check_relative(path: object, what: str, filename: str) -> str:
    """Return ``path`` if it is a safe relative path with forward slashes.

    :param path: The value read from the manifest.
    :param what: ``"key"`` or ``"value"``, for the message.
    :param filename: The manifest's file name, for the message.
    :raises ValueError: ``path`` is not a string, is empty, absolute, uses
        backslashes or NUL, or has an empty, ``.`` or ``..`` segment.
    """
    if not isinstance(path, str):
        raise ValueError(
            f"The manifest {filename!r} has a {what} that is not a string ({path!r}); "
            f"every path in it must be a string."
        )
    segments = path.split("/")
    if (
        not path
        or "\\" in path
        or "\x00" in path
        or (len(path) > 1 and path[1] == ":")
        or any(segment in ("", ".", "..") for segment in segments)
    ):
        raise ValueError(
            f"The manifest {filename!r} has the {what} {path!r}, which is not a relative "
            f"path inside the directory; use forward slashes and no '.', '..' or empty "
            f"segments, e.g. 'css/site.css'."
        )
    return path


def read_manifest(path: str) -> dict[str, str]:
    """Read a ``manifest.json`` written by ``python -m framework assets DIR``.

    ::

        read_manifest("public/manifest.json")   # {'app.js': 'app.3f2a9c1b.js', ...}

    :param path: The manifest file.
    :returns: Each original name (relative to the directory) mapped to its
        fingerprinted name.
    :raises ValueError: The file is not UTF-8 JSON of the shape
        ``{"version": 1, "paths": {str: str}}``, or a path in it is absolute,
        uses backslashes or has a ``..`` segment; the message names the file.
    :raises OSError: The file cannot be read.
    """
    with open(path, "rb") as file:
        raw = file.read()
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(
            f"The manifest {path!r} is not valid UTF-8 JSON ({exc}); rebuild it with "
            f"'python -m framework assets DIR'."
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("paths"), dict):
        raise ValueError(
            f"The manifest {path!r} is not an object with a 'paths' object; expected "
            f'{{"version": {MANIFEST_VERSION}, "paths": {{"app.js": "app.3f2a9c1b.js"}}}}.'
        )
    version = data.get("version")
    if version != MANIFEST_VERSION or isinstance(version, bool):
        raise ValueError(
            f"The manifest {path!r} has version {version!r}; this version of the "
            f"framework reads version {MANIFEST_VERSION} only."
        )
    return {
        _check_relative(name, "key", path): _check_relative(target, "value", path)
        for name, target in data["paths"].items()
    }


# --- building ------------------------------------------------------------------------------

#: Suffixes worth compressing besides ``text/*`` (already-compressed images, fonts,
#: archives and media are left alone: compressing them again saves nothing).
COMPRESSIBLE_SUFFIXES = frozenset({
    ".js", ".mjs", ".cjs", ".json", ".map", ".svg", ".xml", ".wasm", ".css", ".html", ".htm",
    ".txt", ".csv", ".tsv", ".md", ".webmanifest", ".rss", ".atom", ".xhtml", ".xsl", ".xslt",
    ".ico", ".ttf", ".otf", ".eot", ".yaml", ".yml", ".toml", ".ts",
})

#: ``name.<8 hex>.ext`` or ``name.<8 hex>``: what :func:`fingerprinted_name` makes.
_FINGERPRINTED = re.compile(r"^.+\.([0-9a-f]{8})(\.[^.]+)?$")

_SIBLINGS = (".gz", ".br")

#: Rounds of reference rewriting before a circle of ``@import`` is given up on.
_PASSES = 5


def fingerprint(content: bytes) -> str:
    """The first 8 hex digits of the SHA-256 of ``content``."""
    return hashlib.sha256(content).hexdigest()[:8]


def fingerprinted_name(path: str, digest: str) -> str:
    """Insert ``digest`` before the last suffix of the file name in ``path``.

    ::

        fingerprinted_name("js/app.min.js", "3f2a9c1b")   # 'js/app.min.3f2a9c1b.js'
        fingerprinted_name("LICENSE", "3f2a9c1b")         # 'LICENSE.3f2a9c1b'

    :param path: A relative path with forward slashes.
    :param digest: The fingerprint, from :func:`fingerprint`.
    """
    folder, slash, name = path.rpartition("/")
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:  # no suffix, or a name like ".x" (dotfiles are never built)
        return f"{path}.{digest}"
    return f"{folder}{slash}{stem}.{digest}.{suffix}"


def is_compressible(path: str) -> bool:
    """Whether ``path`` is worth a ``.gz``/``.br`` sibling: text, scripts, data, SVG, wasm."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix in COMPRESSIBLE_SUFFIXES:
        return True
    media_type = mimetypes.guess_type(path)[0] or ""
    return media_type.startswith("text/") or media_type.endswith(("+xml", "+json"))


@dataclass
class AssetsReport:
    """What :func:`build_assets` did.

    :param directory: The directory built.
    :param manifest: The manifest: each original name -> its fingerprinted name.
    :param written: Files written or rewritten (copies, siblings, the manifest).
    :param removed: Files removed: stale fingerprinted copies of an earlier build
        and their siblings, and siblings that no longer match their file.
    :param original_bytes: The size of the compressible originals.
    :param saved: Bytes saved per encoding (``"gzip"``, ``"br"``) over those originals.
    """

    directory: str
    manifest: dict[str, str] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    original_bytes: int = 0
    saved: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """A few lines for the command line."""
        lines = [f"{len(self.manifest)} files fingerprinted in {self.directory}, "
                 f"{len(self.written)} files written, {len(self.removed)} stale files removed"]
        for encoding, saved in sorted(self.saved.items()):
            lines.append(f"{encoding}: {saved} of {self.original_bytes} bytes saved "
                         f"({100 * saved // max(self.original_bytes, 1)}%) on compressible files")
        return "\n".join(lines)


def _brotli() -> Callable[[bytes], bytes] | None:
    """``brotli.compress`` at the best quality, or None when brotli is not installed."""
    try:
        import brotli  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        return None
    compress: Callable[..., bytes] = brotli.compress
    return lambda data: compress(data, quality=11)


def _gzip(data: bytes) -> bytes:
    # mtime=0 and no file name: the same input gives the same bytes on every run.
    return gzip.compress(data, compresslevel=9, mtime=0)


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as file:
            return file.read()
    except FileNotFoundError:
        return None


def _write(path: str, data: bytes, report: AssetsReport) -> None:
    """Write ``data`` atomically (a server may be reading), unless it is there already."""
    if _read(path) == data:  # unchanged files keep their mtime, so Last-Modified holds
        return
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "wb") as file:
        file.write(data)
    os.replace(temporary, path)
    report.written.append(path)


def _remove(path: str, report: AssetsReport) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        return
    report.removed.append(path)


def _siblings(path: str, content: bytes, encoders: dict[str, Callable[[bytes], bytes]],
              report: AssetsReport, *, count: bool) -> None:
    """Write the ``.gz``/``.br`` siblings of ``path`` that are smaller than ``content``.

    A sibling that is not written (no gain, or brotli missing) is removed, so no
    sibling ever answers with other bytes than its file.
    """
    for suffix, encoding in ((".gz", "gzip"), (".br", "br")):
        encode = encoders.get(encoding)
        encoded = encode(content) if encode else None
        if encoded is None or len(encoded) >= len(content):
            _remove(path + suffix, report)
            continue
        _write(path + suffix, encoded, report)
        if count:
            report.saved[encoding] = report.saved.get(encoding, 0) + len(content) - len(encoded)


def _previous_manifest(path: str) -> dict[str, str]:
    """The earlier build's manifest, or nothing when there is none or it is unreadable."""
    try:
        return read_manifest(path)
    except (OSError, ValueError):
        return {}


def _walk(directory: str) -> list[str]:
    """Every file under ``directory`` (relative, forward slashes, sorted), no dotfiles."""
    found = []
    for root, folders, files in os.walk(directory):
        folders[:] = sorted(folder for folder in folders if not folder.startswith("."))
        relative = os.path.relpath(root, directory).replace(os.sep, "/")
        for name in sorted(files):
            if not name.startswith("."):
                found.append(name if relative == "." else f"{relative}/{name}")
    return found


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([os.path.realpath(path), root]) == root


def _storable(name: str) -> bool:
    """Whether ``name`` can be a manifest key that :func:`read_manifest` accepts."""
    try:
        name.encode("utf-8")
        _check_relative(name, "key", MANIFEST_NAME)
    except (UnicodeEncodeError, ValueError):
        return False
    return True


def _inputs(directory: str, root: str, made_before: set[str]) -> dict[str, bytes]:
    """The files to fingerprint (name -> content), in sorted order.

    Skipped: dotfiles, the manifest, the copies of an earlier build, ``.gz``/``.br``
    files beside their file, symlinks out of ``root``, names the manifest cannot hold
    (not UTF-8, a backslash), and any file already named by its own fingerprint (a
    copy, even when the manifest that named it is gone).
    """
    files = _walk(directory)
    present = set(files)
    inputs = {}
    for name in files:
        if (name == MANIFEST_NAME or name in made_before
                or (name.endswith(_SIBLINGS) and name[:-3] in present) or not _storable(name)):
            continue
        full = os.path.join(directory, *name.split("/"))
        if os.path.islink(full) and not _inside(full, root):
            continue  # StaticFiles refuses a symlink out of its root: so does its copy
        content = _read(full)
        if content is None:
            continue
        match = _FINGERPRINTED.match(name.rpartition("/")[2])
        if match and match.group(1) == fingerprint(content):
            continue
        inputs[name] = content
    return inputs


def _copies(inputs: dict[str, bytes], *, rewrite: bool) -> dict[str, tuple[str, bytes]]:
    """Each input's fingerprinted name and the copy's content.

    With ``rewrite``, the copies of CSS and JavaScript files point their references
    at fingerprinted names, and are named by the rewritten content (so a stylesheet
    gets a new name when an image it uses changes). A stylesheet can ``@import``
    another: the names are computed again until they settle (as Django does), and
    references that go round in a circle are left plain.
    """
    copies = {name: (fingerprinted_name(name, fingerprint(content)), content)
              for name, content in inputs.items()}
    texts = {name: content.decode("utf-8", "surrogateescape") for name, content in inputs.items()
             if rewrite and os.path.splitext(name)[1].lower() in REWRITABLE}
    if not texts:
        return copies
    settled = False
    for _ in range(_PASSES):
        before = {name: copies[name][0] for name in texts}
        _rewrite_pass(texts, copies, lambda path: copies[path][0] if path in copies else None)
        if before == {name: copies[name][0] for name in texts}:
            settled = True
            break
    if not settled:  # a circle of imports: plain names for the rewritable files
        _rewrite_pass(texts, copies,
                      lambda path: copies[path][0] if path in copies and path not in texts else None)
    return copies


def _rewrite_pass(texts: dict[str, str], copies: dict[str, tuple[str, bytes]],
                  lookup: Callable[[str], str | None]) -> None:
    rewritten = {name: rewrite_references(name, text, lookup).encode("utf-8", "surrogateescape")
                 for name, text in texts.items()}
    for name, content in rewritten.items():
        copies[name] = (fingerprinted_name(name, fingerprint(content)), content)


def build_assets(directory: str, *, compress: bool = True, rewrite: bool = True) -> AssetsReport:
    """Fingerprint every file in ``directory`` and write ``manifest.json``.

    ::

        report = build_assets("public")
        report.manifest["app.js"]          # 'app.3f2a9c1b.js'

    For each file (recursively; dotfiles, ``.gz``/``.br`` siblings, the manifest,
    fingerprinted copies and symlinks out of the directory are skipped) it writes a
    copy named by its content, ``app.js`` -> ``app.<hash8>.js`` (in the copies of
    stylesheets and scripts, references to other files point at their copies), and
    for compressible files (text, scripts, JSON, SVG, wasm...) ``.gz`` and, when the
    ``brotli`` package is installed, ``.br`` siblings of both names when they are
    smaller than the file. Then it writes the manifest (sorted keys, atomically).
    Running it again changes nothing unless a file changed; copies of an earlier
    build that the new manifest no longer names (the file changed or went) are
    removed with their siblings.

    :param directory: The static directory.
    :param compress: Write ``.gz``/``.br`` siblings. When False, none is written
        and existing ones of compressible files are removed (they might be stale).
    :param rewrite: In the copies of CSS and JavaScript files, point ``url(...)``,
        ``@import`` and ``sourceMappingURL`` references at fingerprinted names
        (:mod:`framework.assets_refs`); the files themselves are never changed.
    :raises ValueError: ``directory`` does not exist or is not a directory.
    """
    if not os.path.isdir(directory):
        state = "is not a directory" if os.path.exists(directory) else "does not exist"
        raise ValueError(f"The static directory {directory!r} {state}; give the folder of the "
                         f"files to fingerprint, e.g. 'python -m framework assets public'.")
    report = AssetsReport(directory)
    root = os.path.realpath(directory)
    manifest_path = os.path.join(directory, MANIFEST_NAME)
    previous = _previous_manifest(manifest_path)
    made_before = set(previous.values())
    encoders: dict[str, Callable[[bytes], bytes]] = {}
    if compress:
        encoders["gzip"] = _gzip
        brotli = _brotli()
        if brotli is not None:
            encoders["br"] = brotli
    inputs = _inputs(directory, root, made_before)
    copies = _copies(inputs, rewrite=rewrite)
    for name, content in inputs.items():
        target, copy = copies[name]
        report.manifest[name] = target
        full = os.path.join(directory, *name.split("/"))
        target_full = os.path.join(directory, *target.split("/"))
        _write(target_full, copy, report)
        if is_compressible(name):
            report.original_bytes += len(content)
            _siblings(full, content, encoders, report, count=True)
            _siblings(target_full, copy, encoders, report, count=False)
    for stale in sorted(made_before - set(report.manifest.values())):
        stale_full = os.path.join(directory, *stale.split("/"))
        for path in (stale_full, *(stale_full + suffix for suffix in _SIBLINGS)):
            _remove(path, report)
    text = json.dumps({"version": MANIFEST_VERSION, "paths": report.manifest},
                      indent=2, sort_keys=True)
    _write(manifest_path, f"{text}\n".encode(), report)
    return report
