"""The stylesheets of :class:`~middleware.xslt.XSLT`: compiled once per thread and file version, confined.

::

    from middleware.xslt_stylesheets import Stylesheets, import_lxml

    stylesheets = Stylesheets(import_lxml(), "/srv/xsl")
    xslt, output = stylesheets.get("/srv/xsl/feed.xsl")   # compiled now, kept until the file changes
    headers["Content-Type"] = output.content_type(xslt(document).getroot())

A stylesheet is parsed without entities, DTD or network, may read files (``xsl:import``,
``document()``) only inside its root directory (:class:`Refused` otherwise), and never
write files, create directories or touch the network. Its ``xsl:output``, followed
through its imports, gives the transformed response's ``Content-Type`` (:class:`Output`).
Compiles are logged at DEBUG on ``middleware.xslt``, the layer's logger.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import urllib.parse
import urllib.request
from typing import Any, NamedTuple

__all__ = ["SAFE", "Output", "Refused", "Stylesheets", "import_lxml"]

logger = logging.getLogger("middleware.xslt")  # the layer's logger: one place to listen

_XSL = "{http://www.w3.org/1999/XSL/Transform}"
_MEDIA_TYPES = {"html": "text/html", "xml": "application/xml", "text": "text/plain"}
#: The options of every parser (``etree.XMLParser(**SAFE)``), the app's XML's and the
#: stylesheets': no entity expansion, no DTD, no network, libxml2's size limits kept.
SAFE: dict[str, Any] = {"resolve_entities": False, "no_network": True, "huge_tree": False,
                        "load_dtd": False, "dtd_validation": False}


def import_lxml() -> Any:
    """``lxml.etree``, or a ``RuntimeError`` that says how to install it."""
    try:
        return importlib.import_module("lxml.etree")
    except ImportError as error:
        raise RuntimeError('XSLT needs lxml: pip install "onion-wsgi[xslt]"') from error


class Output(NamedTuple):
    """What a stylesheet's ``xsl:output`` declares (``None``: not declared)."""

    method: str | None
    media_type: str | None
    encoding: str | None

    def content_type(self, result_root: Any) -> str:
        """The ``Content-Type`` of a result, the default method chosen as XSLT 1.0 16 says."""
        method = self.method
        if method is None:  # html when the result's root is an <html> without a namespace
            tag = getattr(result_root, "tag", None)
            method = "html" if isinstance(tag, str) and tag.lower() == "html" else "xml"
        media = self.media_type or _MEDIA_TYPES.get(method, "application/xml")
        return f"{media}; charset={self.encoding or 'UTF-8'}"


class Refused(Exception):
    """A stylesheet tried to read a file outside the directory it may read."""


def _confined_resolver(etree: Any, root: str) -> Any:
    """An lxml resolver refusing every URL that is not a file inside *root* (a real path)."""

    class Confined(etree.Resolver):  # type: ignore[misc,name-defined]
        def resolve(self, url: str, public_id: str | None, context: Any) -> Any:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme == "file":
                path = urllib.request.url2pathname(parts.path)
            elif parts.scheme and len(parts.scheme) > 1:  # http:, ftp:, ...; C: is a drive
                raise Refused(f"{url} is not a local file")
            else:
                path = url
            real = os.path.realpath(path)
            if os.path.commonpath([real, root]) != root:
                raise Refused(f"{url} is outside {root}")
            return None  # inside: lxml loads it as usual

    return Confined()


class _Compiled(NamedTuple):
    """One stylesheet as compiled from the file at one modification time."""

    stamp: tuple[int, int]
    xslt: Any
    output: Output


class Stylesheets:
    """Compiled stylesheets by path, recompiled when a file changes; safe across threads.

    Each thread compiles and keeps its own ``XSLT`` object: lxml lets one be used
    from any thread, but it keeps the last call's error log on the object and runs
    faster in the thread that made it (lxml FAQ, "threading"), and a copy
    (``copy.copy``) loses the whitespace inside ``xsl:text``. A compile (once per
    thread and file version) holds a lock, so libxslt never compiles two at once.

    :param etree: The ``lxml.etree`` module.
    :param root: The directory stylesheets may read (imports, ``document()``);
        ``None``: each stylesheet's own directory.
    """

    def __init__(self, etree: Any, root: str | None) -> None:
        self.etree = etree
        self.root = root
        self._lock = threading.Lock()
        self._local = threading.local()
        self._access = etree.XSLTAccessControl(read_file=True, write_file=False, create_dir=False,
                                               read_network=False, write_network=False)

    def parser(self, root: str) -> Any:
        """A parser for stylesheets: no entities, DTD or network, files read inside *root* only."""
        parser = self.etree.XMLParser(**SAFE)
        parser.resolvers.add(_confined_resolver(self.etree, root))
        return parser

    def get(self, path: str) -> tuple[Any, Output]:
        """The compiled stylesheet at *path* for this thread, and its output; compiled if new or changed.

        Raises ``OSError`` (no such file), lxml's ``XMLSyntaxError`` or
        ``XSLTParseError``, or ``Refused``.
        """
        stat = os.stat(path)
        stamp = (stat.st_mtime_ns, stat.st_size)
        mine: dict[str, _Compiled] = self._local.__dict__.setdefault("compiled", {})
        found = mine.get(path)
        if found is None or found.stamp != stamp:
            with self._lock:
                found = mine[path] = self._compile(path, stamp)
        return found.xslt, found.output

    def _compile(self, path: str, stamp: tuple[int, int]) -> _Compiled:
        root = self.root or os.path.dirname(path)
        parser = self.parser(root)
        document = self.etree.parse(path, parser)
        xslt = self.etree.XSLT(document, access_control=self._access)
        output = self._output(document, parser, {path})
        logger.debug("XSLT: compiled %s in thread %s", path, threading.current_thread().name)
        return _Compiled(stamp, xslt, output)

    def _output(self, document: Any, parser: Any, seen: set[str]) -> Output:
        """The ``xsl:output`` in force: the importing stylesheet's attributes win (XSLT 1.0 16)."""
        found: dict[str, str] = {}
        base = document.docinfo.URL or ""
        for element in document.getroot().iterchildren(_XSL + "import", _XSL + "include", _XSL + "output"):
            if element.tag == _XSL + "output":
                found.update((key, value) for key, value in element.attrib.items()
                             if key in ("method", "media-type", "encoding"))
                continue
            href = urllib.parse.urljoin(base, element.get("href", ""))
            if href in seen:
                continue
            seen.add(href)
            imported = self._output(self.etree.parse(href, parser), parser, seen)
            names = ("method", "media-type", "encoding")
            found.update((name, value) for name, value in zip(names, imported, strict=True) if value)
        return Output(found.get("method"), found.get("media-type"), found.get("encoding"))

