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

import json

__all__ = ["MANIFEST_NAME", "MANIFEST_VERSION", "read_manifest"]

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
