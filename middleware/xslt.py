"""``XSLT``: XML responses turned into HTML (or any output) by lxml, safe by default.

::

    from middleware.xslt import XSLT

    application = XSLT(app, rules={"/feeds": "xsl/feed.xsl"}, params={"site": "Example"},
                       when="not-accepted")

A ``200`` response whose media type is XML (``application/xml``, ``text/xml``,
``application/*+xml``) and that is not content-encoded is transformed with the
stylesheet of the longest ``rules`` prefix covering the path, else ``stylesheet``,
else (``honor_pi=True``) the document's ``<?xml-stylesheet href="..."?>`` looked up
inside ``stylesheet_root``. Every other response streams through untouched.

Safety, whoever wrote the XML: the app's document is parsed without entity
expansion, DTD loading or network access, and a document that declares entities
(external entities, "billion laughs") is refused with a 502. Stylesheets may read
files only inside ``stylesheet_root`` (or, without one, their own directory), and
never write files, create directories or touch the network. A stylesheet's errors
go to the log (``middleware.xslt``), never to the client unless ``debug=True``.
Stylesheets are compiled, cached and confined in :mod:`middleware.xslt_stylesheets`.
"""

from __future__ import annotations

import logging
import os
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import BadGateway, HTTPException, InternalServerError
from werkzeug.http import parse_accept_header, parse_options_header

from framework.compat import headers_list
from framework.errors import drop_body

from .toolkit import (
    ETagPolicy,
    PrefixMap,
    ResponseRewriter,
    Rewrite,
    add_vary,
    error_app,
    rewrite_start_response,
)
from .xslt_stylesheets import SAFE, Refused, Stylesheets, import_lxml

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from werkzeug.datastructures import Headers

__all__ = ["XSLT"]

logger = logging.getLogger("middleware.xslt")

_BUFFER = Rewrite.BUFFER
_WHEN = ("always", "not-accepted")
# Request headers that would make the app answer something we cannot transform: an
# encoded body, a part of one (RFC 9110 14.2), or a 304 for the XML's validators,
# which say nothing of the transformed body (RFC 9110 13.1).
_ENCODING_AND_RANGE = ("HTTP_ACCEPT_ENCODING", "HTTP_RANGE", "HTTP_IF_RANGE")
_CONDITIONAL = ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE",
                "HTTP_IF_UNMODIFIED_SINCE")
_PI_TYPES = frozenset(("text/xsl", "application/xslt+xml", "text/xml", "application/xml"))


def xml_media_type(content_type: str | None) -> str | None:
    """The lower-cased media type of *content_type* if it is XML (RFC 7303), else ``None``.

    ``application/xml``, ``text/xml`` and any ``application/*+xml`` (RSS, Atom, ...).
    """
    if not content_type:
        return None
    media = content_type.partition(";")[0].strip().lower()
    if media in ("application/xml", "text/xml"):
        return media
    if media.startswith("application/") and media.endswith("+xml"):
        return media
    return None


class XSLT(ResponseRewriter):
    """Transform XML responses with XSLT stylesheets (lxml), safe by default.

    ::

        application = XSLT(app, rules={"/feeds": "xsl/feed.xsl", "/": "xsl/page.xsl"},
                           params=lambda environ: {"path": environ["PATH_INFO"]})

    The transformed response has the media type and charset of the stylesheet's
    ``xsl:output`` (``method="html"``: ``text/html``, ``"xml"``: ``application/xml``,
    ``"text"``: ``text/plain``, or its ``media-type``), a new ``Content-Length``, and
    no ``ETag``, ``Content-MD5``, ``Content-Range`` or ``Accept-Ranges``. So that the app
    answers a whole, unencoded body, the request reaches it without ``Accept-Encoding``,
    ``Range``, ``If-Range``, and, for ``GET``/``HEAD``, the conditional headers
    (``If-None-Match``, ...); a ``HEAD`` reaches it as a ``GET`` and gets the
    transformed response's headers.

    Malformed XML from the app, or XML declaring entities, gets a 502 (the app is at
    fault); a stylesheet that cannot be read, compiled or run gets a 500. Both are
    logged on ``middleware.xslt``; the body says more only with ``debug=True``.

    :param app: The WSGI application to wrap.
    :param stylesheet: The stylesheet for XML responses no rule covers; a path.
    :param rules: Path prefix -> stylesheet path; the longest prefix (at a segment
        boundary) wins over ``stylesheet``.
    :param params: Stylesheet parameters: a dict of strings, or ``f(environ) -> dict``;
        each value is passed as a plain string (``XSLT.strparam``, as ``xsltproc
        --stringparam``), never evaluated as XPath.
    :param honor_pi: Use the document's ``<?xml-stylesheet type="text/xsl" href="..."?>``
        when neither a rule nor ``stylesheet`` applies; the href is looked up inside
        ``stylesheet_root`` only.
    :param stylesheet_root: The directory stylesheets come from with ``honor_pi``
        (required then), and the only one any stylesheet may read files from
        (``xsl:import``, ``document()``); ``None``: each stylesheet's own directory.
    :param when: ``"always"``, or ``"not-accepted"``: only when the client's ``Accept``
        prefers ``text/html`` to the response's XML type (a browser), with
        ``Vary: Accept``; a tie or an XML preference gets the XML untouched.
    :param debug: Put the XSLT error log in the body of a 500 (never in production).
    """

    def __init__(self, app: WSGIApplication, *, stylesheet: str | os.PathLike[str] | None = None,
                 rules: Mapping[str, str | os.PathLike[str]] | None = None,
                 params: Mapping[str, str] | Callable[[WSGIEnvironment], Mapping[str, str]] | None = None,
                 honor_pi: bool = False, stylesheet_root: str | os.PathLike[str] | None = None,
                 when: str = "always", debug: bool = False) -> None:
        if not callable(app):
            raise TypeError(f"XSLT's app must be a WSGI callable, not {app!r}.")
        super().__init__(app, etag=ETagPolicy.DROP)
        self._etree = import_lxml()
        if when not in _WHEN:
            raise ValueError(f"XSLT's when must be 'always' or 'not-accepted', not {when!r}.")
        if honor_pi and stylesheet_root is None:
            raise ValueError("XSLT's honor_pi=True needs stylesheet_root, the directory the documents' "
                             "<?xml-stylesheet?> hrefs are looked up in.")
        if params is not None and not callable(params) and not isinstance(params, Mapping):
            raise TypeError("XSLT's params must be a dict of strings or a function f(environ) -> dict.")
        if isinstance(params, Mapping):
            _check_params(params)
        if stylesheet is None and not rules and not honor_pi:
            raise ValueError("XSLT needs a stylesheet, rules={prefix: stylesheet} or honor_pi=True "
                             "with a stylesheet_root.")
        self.root = None if stylesheet_root is None else os.path.realpath(stylesheet_root)
        if self.root is not None and not os.path.isdir(self.root):
            raise ValueError(f"XSLT's stylesheet_root {os.fspath(stylesheet_root or '')!r} "
                             "is not a directory.")
        self.stylesheets = Stylesheets(self._etree, self.root)
        self.stylesheet = None if stylesheet is None else self._checked(stylesheet)
        self.rules: PrefixMap[str] = PrefixMap()
        if rules is not None and not isinstance(rules, Mapping):
            raise TypeError("XSLT's rules must map path prefixes to stylesheets, "
                            "e.g. {'/feeds': 'feed.xsl'}.")
        for prefix, path in (rules or {}).items():
            self.rules[prefix] = self._checked(path)
        self.params, self.honor_pi, self.when, self.debug = params, honor_pi, when, debug
        self._negotiate = when == "not-accepted"
        # Only the rules decide whether a path may be transformed (no catch-all).
        self._by_path = not honor_pi and self.stylesheet is None
        self._xml_parser = threading.local()

    def _checked(self, path: str | os.PathLike[str]) -> str:
        """*path* made absolute and compiled once now, so a broken stylesheet fails at start-up."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"An XSLT stylesheet must be a file path, not {path!r}.")
        real = os.path.realpath(path)
        if self.root is not None and os.path.commonpath([real, self.root]) != self.root:
            raise ValueError(f"The stylesheet {os.fspath(path)!r} is outside stylesheet_root {self.root!r}.")
        try:
            self.stylesheets.get(real)
        except OSError as error:
            raise ValueError(f"The XSLT stylesheet {os.fspath(path)!r} cannot be read: {error}.") from None
        except (self._etree.Error, Refused) as error:
            raise ValueError(f"The XSLT stylesheet {os.fspath(path)!r} does not compile: {error}.") from None
        return real

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Call the app; transform its response if it is XML and a stylesheet applies."""
        if self._by_path and self.rules.find(environ.get("PATH_INFO", "")) is None:
            return self.app(environ, start_response)  # no stylesheet for this path
        if self._negotiate:
            start_response = rewrite_start_response(start_response, _vary_accept)
            if not prefers_html(environ.get("HTTP_ACCEPT"), None):  # left alone whatever the type
                return self.app(environ, start_response)
        result = super().__call__(_whole_body_request(environ), start_response)
        return drop_body(result) if environ.get("REQUEST_METHOD") == "HEAD" else result

    def wants(self, environ: WSGIEnvironment, status: str, headers: Headers) -> Rewrite | None:
        """``Rewrite.BUFFER`` for a 200 XML response, not encoded, that the client should get transformed."""
        if not status.startswith("200"):
            return None
        media = xml_media_type(headers.get("Content-Type"))
        if media is None:
            return None
        # getlist: Werkzeug's get() raises (and catches) a KeyError for a missing header
        if any(coding.strip().lower() != "identity" for coding in headers.getlist("Content-Encoding")):
            return None
        if self._negotiate:  # an XML response left alone gets Vary on the way out (_vary_accept)
            if not prefers_html(environ.get("HTTP_ACCEPT"), media):
                return None
            pairs = headers_list(headers)
            pairs[:] = add_vary(pairs, "Accept")
        return _BUFFER

    def rewrite(self, environ: WSGIEnvironment, status: str, headers: Headers,
                body: bytes) -> tuple[str, bytes]:
        """The transformed body (``headers`` set to its type), or a 500/502 answer."""
        etree = self._etree
        path = environ.get("PATH_INFO", "")
        try:
            parser = self._parser(headers.get("Content-Type", ""))
            document = etree.fromstring(body, parser).getroottree()
        except (etree.XMLSyntaxError, LookupError) as error:  # LookupError: an unknown charset
            logger.error("XSLT: the application's XML for %s is malformed, answering 502: %s", path, error)
            return self._error(environ, headers, BadGateway("The application answered malformed XML."))
        dtd = document.docinfo.internalDTD
        if dtd is not None and any(True for _ in dtd.iterentities()):
            logger.error("XSLT: the application's XML for %s declares entities (refused: external "
                         "entities, entity expansion), answering 502", path)
            return self._error(environ, headers,
                               BadGateway("The application answered XML that declares entities."))
        found = self.rules.find(path)
        source = found[1] if found is not None else self.stylesheet
        if source is None:
            chosen = self._from_pi(document, path)
            if chosen is None:  # no stylesheet asked for: the XML as it came
                return status, body
            if isinstance(chosen, HTTPException):
                return self._error(environ, headers, chosen)
            source = chosen
        try:
            xslt, output = self.stylesheets.get(source)
            params = self._params(environ)
            result = xslt(document, **params)
            data = bytes(result)
        except (OSError, etree.Error, Refused) as error:
            log = "".join(f"\n  {entry}" for entry in getattr(error, "error_log", ()) or ())
            logger.error("XSLT: the stylesheet %s failed for %s, answering 500: %s: %s%s", source, path,
                         type(error).__name__, error, log)
            detail = f" {type(error).__name__}: {error}{log}" if self.debug else ""
            return self._error(environ, headers,
                               InternalServerError(f"The page's stylesheet failed.{detail}"))
        headers["Content-Type"] = output.content_type(result.getroot())
        return status, data

    def _parser(self, content_type: str) -> Any:
        """The parser for the app's XML, in this thread (lxml parsers are best not shared).

        A ``charset`` in the ``Content-Type`` wins over the XML declaration (RFC 7303 3.2).
        """
        charset = parse_options_header(content_type)[1].get("charset") if ";" in content_type else None
        if charset is not None and charset.lower() not in ("utf-8", "utf8"):
            return self._etree.XMLParser(**SAFE, encoding=charset)
        parser = getattr(self._xml_parser, "parser", None)
        if parser is None:
            parser = self._xml_parser.parser = self._etree.XMLParser(**SAFE)
        return parser

    def _params(self, environ: WSGIEnvironment) -> dict[str, Any]:
        """The stylesheet parameters for this request, each quoted as a string."""
        params = self.params
        if params is None:
            return {}
        values = params(environ) if callable(params) else params
        _check_params(values)
        strparam = self._etree.XSLT.strparam
        return {name: strparam(value) for name, value in values.items()}

    def _from_pi(self, document: Any, path: str) -> str | HTTPException | None:
        """The stylesheet the document's ``<?xml-stylesheet?>`` names, inside ``stylesheet_root``."""
        if not self.honor_pi or self.root is None:
            return None
        node = document.getroot().getprevious()
        while node is not None:
            if node.tag is self._etree.ProcessingInstruction and node.target == "xml-stylesheet":
                kind = (node.get("type") or "").strip().lower()
                href = node.get("href") or ""
                if kind in _PI_TYPES and href:
                    return self._pi_path(self.root, href, path)
            node = node.getprevious()
        return None

    def _pi_path(self, root: str, href: str, path: str) -> str | HTTPException:
        """*href* as a file inside *root* (a leading ``/`` is that root), or a 502."""
        parts = urllib.parse.urlsplit(href)
        relative = urllib.parse.unquote(parts.path).lstrip("/")
        real = os.path.realpath(os.path.join(root, relative))
        if parts.scheme or parts.netloc or not relative or os.path.commonpath([real, root]) != root:
            logger.error("XSLT: the application's XML for %s asks for the stylesheet %r, outside "
                         "stylesheet_root %s; answering 502", path, href, root)
            return BadGateway("The document asks for a stylesheet that is not allowed.")
        return real

    def _error(self, environ: WSGIEnvironment, headers: Headers, error: HTTPException) -> tuple[str, bytes]:
        """Answer *error* as the framework does: set *headers*, return the status and body."""
        answer: dict[str, Any] = {}

        def start(status: str, error_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer.update(status=status, headers=error_headers)

        body = b"".join(error_app(error)(environ, start))
        headers.clear()
        headers.extend(answer["headers"])
        return answer["status"], body

    def describe(self) -> str:
        """One line for ``python -m framework stack``."""
        parts = []
        if self.stylesheet is not None:
            parts.append(f"stylesheet={self.stylesheet!r}")
        if self.rules:
            parts.append(f"rules={ {prefix or '/': path for prefix, path in self.rules.items.items()}!r}")
        if self.honor_pi:
            parts.append("honor_pi=True")
        if self.root is not None:
            parts.append(f"stylesheet_root={self.root!r}")
        if self.params is not None:
            parts.append("params=" + ("f(environ)" if callable(self.params) else repr(sorted(self.params))))
        parts.append(f"when={self.when!r}" + (", debug=True" if self.debug else ""))
        return f"XSLT({', '.join(parts)})"


def _check_params(params: Any) -> None:
    """Refuse parameters that are not a mapping of names to strings (full sentences)."""
    if not isinstance(params, Mapping):
        raise TypeError(f"XSLT params must be a dict of strings, not {params!r}.")
    for name, value in params.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"XSLT params map names to strings; {name!r}: {value!r} "
                            "is not a pair of strings.")


@lru_cache(maxsize=256)
def prefers_html(accept: str | None, media: str | None) -> bool:
    """Whether an ``Accept`` header prefers ``text/html`` to the XML type *media*.

    A tie (``*/*``, no header: RFC 9110 12.5.1) is not a preference. With *media*
    ``None``: whether ``text/html`` is acceptable at all. Browsers send a handful of
    ``Accept`` values, and Werkzeug's parse costs tens of µs, so answers are kept.
    """
    parsed = parse_accept_header(accept, MIMEAccept)
    html = parsed.quality("text/html")
    return html > 0 if media is None else html > parsed.quality(media)


def _vary_accept(status: str, headers: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
    """``Vary: Accept`` on a response whose form depended on ``Accept`` (``when="not-accepted"``).

    A 200 in XML, left alone for this client but transformed for another, and a 304
    (which carries the ``Vary`` its 200 would, RFC 9110 15.4.5); ``wants`` marks the
    transformed ones itself.
    """
    media = next((xml_media_type(value) for name, value in headers if name.lower() == "content-type"), None)
    if not (status.startswith("304") or (status.startswith("200") and media)):
        return status, headers
    return status, add_vary(headers, "Accept")


def _whole_body_request(environ: WSGIEnvironment) -> WSGIEnvironment:
    """A copy of *environ* asking for a whole, unencoded body (see :class:`XSLT`)."""
    method = environ.get("REQUEST_METHOD")
    dropped = _ENCODING_AND_RANGE + _CONDITIONAL if method in ("GET", "HEAD") else _ENCODING_AND_RANGE
    inner = {key: value for key, value in environ.items() if key not in dropped}
    if method == "HEAD":
        inner["REQUEST_METHOD"] = "GET"
    return inner
