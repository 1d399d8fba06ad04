"""XSLT: which responses are transformed, with which stylesheet, and what the headers become."""

from __future__ import annotations

import logging
import os
import textwrap
import threading

import pytest
from webtest import TestApp

from framework.testing import TestClient, validated
from middleware.xslt import XSLT, prefers_html, xml_media_type

XSL_HEAD = '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
HTML_XSL = XSL_HEAD + """
<xsl:output method="html" encoding="UTF-8"/>
<xsl:param name="who" select="'nobody'"/>
<xsl:template match="/"><html><body><h1><xsl:value-of select="/doc/title"/></h1>
<p><xsl:value-of select="$who"/></p></body></html></xsl:template>
</xsl:stylesheet>"""
DOC = b'<?xml version="1.0"?><doc><title>Hello</title></doc>'
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def write(directory, name, text):
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text) if not text.startswith("<") else text)
    return path


@pytest.fixture
def html_xsl(tmp_path):
    return write(tmp_path, "page.xsl", HTML_XSL)


def xml_app(body=DOC, content_type="application/xml", status="200 OK", headers=(), closed=None):
    """A WSGI app answering *body*; appends to *closed* when its iterable is closed."""

    class Body:
        def __init__(self, chunks):
            self.chunks = chunks

        def __iter__(self):
            return iter(self.chunks)

        def close(self):
            if closed is not None:
                closed.append(True)

    seen = []

    def app(environ, start_response):
        seen.append(dict(environ))
        start_response(status, [("Content-Type", content_type), *headers])
        return Body([body[:10], body[10:]])

    app.seen = seen
    return app


def client(app, **options):
    return TestClient(validated(XSLT(app, **options)))


# -- pure helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        pytest.param("application/xml", "application/xml", id="application-xml"),
        pytest.param("text/xml; charset=utf-8", "text/xml", id="text-xml-charset"),
        pytest.param("application/rss+xml", "application/rss+xml", id="rss"),
        pytest.param("Application/Atom+XML", "application/atom+xml", id="atom-case"),
        pytest.param("text/html", None, id="html"),
        pytest.param("application/json", None, id="json"),
        pytest.param("text/plain+xml", None, id="text-plus-xml-is-not"),
        pytest.param("application/xml-dtd", None, id="dtd"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="none"),
    ],
)
def test_xml_media_type(content_type, expected):
    assert xml_media_type(content_type) == expected


@pytest.mark.parametrize(
    ("accept", "media", "expected"),
    [
        pytest.param(BROWSER, "application/rss+xml", True, id="browser-rss"),
        pytest.param(BROWSER, "application/xml", True, id="browser-xml"),
        pytest.param("application/xml", "application/xml", False, id="api"),
        pytest.param("application/*", "application/atom+xml", False, id="type-wildcard"),
        pytest.param("*/*", "application/xml", False, id="tie"),
        pytest.param(None, "application/xml", False, id="no-header"),
        pytest.param("text/html;q=0, */*", "application/xml", False, id="html-refused"),
        pytest.param("text/html;q=0.5, application/xml;q=0.4", "application/xml", True, id="q-values"),
        pytest.param("text/html", None, True, id="html-acceptable"),
        pytest.param("application/xml", None, False, id="html-not-acceptable"),
        pytest.param("text/*", None, True, id="text-wildcard"),
    ],
)
def test_prefers_html(accept, media, expected):
    assert prefers_html(accept, media) is expected


# -- what is transformed -----------------------------------------------------------------


def test_xml_is_transformed_with_a_new_length_and_type(html_xsl):
    closed = []
    response = client(xml_app(closed=closed), stylesheet=html_xsl).get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert "<h1>Hello</h1>" in response.text
    assert response.headers["Content-Length"] == str(len(response.data))
    assert closed == [True]


@pytest.mark.parametrize(
    ("status", "content_type", "extra"),
    [
        pytest.param("200 OK", "text/html", [], id="html"),
        pytest.param("200 OK", "application/json", [], id="json"),
        pytest.param("404 Not Found", "application/xml", [], id="404"),
        pytest.param("201 Created", "application/xml", [], id="201"),
        pytest.param("302 Found", "application/xml", [("Location", "/x")], id="302"),
        pytest.param("206 Partial Content", "application/xml", [("Content-Range", "bytes 0-9/50")], id="206"),
        pytest.param("200 OK", "application/xml", [("Content-Encoding", "gzip")], id="gzip-encoded"),
    ],
)
def test_other_responses_pass_through_untouched(html_xsl, status, content_type, extra):
    closed = []
    app = xml_app(content_type=content_type, status=status, headers=extra, closed=closed)
    response = client(app, stylesheet=html_xsl).get("/")
    assert response.status == status
    assert response.data == DOC
    assert response.headers["Content-Type"] == content_type
    assert closed == [True]


def test_identity_encoding_is_transformed(html_xsl):
    response = client(xml_app(headers=[("Content-Encoding", "identity")]), stylesheet=html_xsl).get("/")
    assert "<h1>Hello</h1>" in response.text


@pytest.mark.parametrize("status", ["204 No Content", "304 Not Modified"])
def test_bodyless_responses_pass_through(html_xsl, status):
    def app(environ, start_response):
        start_response(status, [("ETag", '"x"')] if status.startswith("304") else [])
        return []

    response = client(app, stylesheet=html_xsl).get("/")
    assert response.status == status and response.data == b""


def test_a_streamed_non_xml_body_is_not_buffered(html_xsl):
    """The layer returns the inner iterable itself: the first chunk is out before the second is made."""
    made = []

    def chunks():
        made.append(1)
        yield b"one"
        made.append(2)
        yield b"two"

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return chunks()

    body = XSLT(app, stylesheet=html_xsl)({"REQUEST_METHOD": "GET", "PATH_INFO": "/"},
                                          lambda status, headers, exc_info=None: None)
    iterator = iter(body)
    assert next(iterator) == b"one" and made == [1]


# -- stylesheet choice ---------------------------------------------------------------------


def titled(tmp_path, name, text):
    return write(tmp_path, name, XSL_HEAD + f'<xsl:output method="text"/><xsl:template match="/">{text}'
                 "</xsl:template></xsl:stylesheet>")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("/feeds", "feeds", id="prefix-itself"),
        pytest.param("/feeds/a.xml", "feeds", id="under-prefix"),
        pytest.param("/feeds/special/x", "special", id="longest-prefix"),
        pytest.param("/feedsx", "default", id="segment-boundary"),
        pytest.param("/other", "default", id="stylesheet-elsewhere"),
    ],
)
def test_longest_rule_then_stylesheet(tmp_path, path, expected):
    options = {"stylesheet": titled(tmp_path, "d.xsl", "default"),
               "rules": {"/feeds": titled(tmp_path, "f.xsl", "feeds"),
                         "/feeds/special": titled(tmp_path, "s.xsl", "special")}}
    response = client(xml_app(), **options).get(path)
    assert response.text == expected
    assert response.headers["Content-Type"] == "text/plain; charset=UTF-8"


def test_rules_only_leave_other_paths_alone(tmp_path):
    app = xml_app()
    response = client(app, rules={"/feeds": titled(tmp_path, "f.xsl", "feeds")}).get(
        "/news", headers={"Accept-Encoding": "gzip", "Range": "bytes=0-1"})
    assert response.data == DOC
    assert app.seen[-1]["HTTP_ACCEPT_ENCODING"] == "gzip"  # nothing to transform: nothing dropped


# -- headers -------------------------------------------------------------------------------


def test_request_headers_that_would_spoil_the_body_are_dropped(html_xsl):
    app = xml_app()
    asked = {"Accept-Encoding": "gzip", "Range": "bytes=0-3", "If-Range": '"a"', "If-None-Match": '"a"',
             "If-Modified-Since": "Tue, 01 Dec 2026 10:00:00 GMT", "If-Match": '"a"',
             "If-Unmodified-Since": "Tue, 01 Dec 2026 10:00:00 GMT", "X-Kept": "yes"}
    client(app, stylesheet=html_xsl).get("/", headers=asked)
    seen = app.seen[-1]
    for name in ("ACCEPT_ENCODING", "RANGE", "IF_RANGE", "IF_NONE_MATCH", "IF_MODIFIED_SINCE", "IF_MATCH",
                 "IF_UNMODIFIED_SINCE"):
        assert f"HTTP_{name}" not in seen
    assert seen["HTTP_X_KEPT"] == "yes"


def test_preconditions_of_unsafe_methods_are_kept(html_xsl):
    """If-Match on a PUT guards the resource's state (RFC 9110 13.1.1), not the XML's bytes."""
    app = xml_app()
    client(app, stylesheet=html_xsl).put("/", headers={"If-Match": '"v1"', "Accept-Encoding": "gzip"})
    assert app.seen[-1]["HTTP_IF_MATCH"] == '"v1"'
    assert "HTTP_ACCEPT_ENCODING" not in app.seen[-1]


def test_the_outer_environ_keeps_its_headers(html_xsl):
    """An outer layer (a compressor) still sees Accept-Encoding once the response comes back."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_ACCEPT_ENCODING": "gzip"}
    body = XSLT(xml_app(), stylesheet=html_xsl)(environ, lambda status, headers, exc_info=None: None)
    b"".join(body)
    assert environ["HTTP_ACCEPT_ENCODING"] == "gzip"


def test_stale_response_headers_are_dropped(html_xsl):
    stale = [("ETag", '"abc"'), ("Content-MD5", "Q2hlY2sgSW50ZWdyaXR5IQ=="), ("Accept-Ranges", "bytes"),
             ("Content-Length", str(len(DOC))), ("Cache-Control", "max-age=60")]
    response = client(xml_app(headers=stale), stylesheet=html_xsl).get("/")
    for name in ("ETag", "Content-MD5", "Accept-Ranges", "Content-Range"):
        assert name not in response.headers
    assert response.headers["Content-Length"] == str(len(response.data))
    assert response.headers["Cache-Control"] == "max-age=60"


@pytest.mark.parametrize(
    ("output", "content_type", "body"),
    [
        pytest.param('<xsl:output method="html"/>', "text/html; charset=UTF-8", "<p>", id="html"),
        pytest.param('<xsl:output method="xml"/>', "application/xml; charset=UTF-8", "<?xml", id="xml"),
        pytest.param('<xsl:output method="text"/>', "text/plain; charset=UTF-8", "Hello", id="text"),
        pytest.param('<xsl:output method="xml" media-type="application/xhtml+xml"/>',
                     "application/xhtml+xml; charset=UTF-8", "<p>", id="media-type"),
        pytest.param('<xsl:output method="html" encoding="ISO-8859-1"/>', "text/html; charset=ISO-8859-1",
                     "<p>", id="encoding"),
        pytest.param("", "application/xml; charset=UTF-8", "<p>", id="default-xml"),
    ],
)
def test_media_type_and_charset_follow_xsl_output(tmp_path, output, content_type, body):
    xsl = write(tmp_path, "o.xsl", XSL_HEAD + output
                + '<xsl:template match="/"><p><xsl:value-of select="/doc/title"/></p></xsl:template>'
                  "</xsl:stylesheet>")
    response = client(xml_app(), stylesheet=xsl).get("/")
    assert response.headers["Content-Type"] == content_type
    assert body in response.text


def test_default_method_is_html_for_an_html_root(tmp_path):
    xsl = write(tmp_path, "o.xsl", XSL_HEAD + '<xsl:template match="/"><html><p>x</p></html></xsl:template>'
                "</xsl:stylesheet>")
    assert client(xml_app(), stylesheet=xsl).get("/").headers["Content-Type"] == "text/html; charset=UTF-8"


def test_encoding_is_applied_to_the_bytes(tmp_path):
    xsl = write(tmp_path, "o.xsl", XSL_HEAD + '<xsl:output method="text" encoding="ISO-8859-1"/>'
                '<xsl:template match="/">caf\u00e9</xsl:template></xsl:stylesheet>')
    assert client(xml_app(), stylesheet=xsl).get("/").data == "caf\u00e9".encode("latin-1")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param("<doc><title>caf\u00e9</title></doc>".encode("latin-1"), "text/xml; charset=ISO-8859-1",
                     id="charset-parameter"),
        pytest.param('<?xml version="1.0" encoding="ISO-8859-1"?><doc><title>caf\u00e9</title></doc>'.encode(
            "latin-1"), "application/xml", id="xml-declaration"),
        pytest.param("<doc><title>caf\u00e9</title></doc>".encode(), "application/xml; charset=utf-8",
                     id="utf-8"),
    ],
)
def test_the_documents_charset_is_honoured(html_xsl, body, content_type):
    response = client(xml_app(body, content_type=content_type), stylesheet=html_xsl).get("/")
    assert "<h1>caf\u00e9</h1>" in response.text


def test_an_unknown_charset_is_a_502(html_xsl):
    response = client(xml_app(content_type="application/xml; charset=klingon"), stylesheet=html_xsl).get("/")
    assert response.status_code == 502


def test_head_gets_the_headers_of_get(html_xsl):
    app = xml_app()
    layer = client(app, stylesheet=html_xsl)
    got = layer.get("/")
    head = layer.head("/")
    assert head.data == b""
    assert head.headers["Content-Type"] == got.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert head.headers["Content-Length"] == got.headers["Content-Length"]


# -- when="not-accepted" -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "transformed"),
    [
        pytest.param(BROWSER, True, id="browser"),
        pytest.param("text/html", True, id="html-only"),
        pytest.param("application/xml", False, id="api-client"),
        pytest.param("application/rss+xml, text/html;q=0.5", False, id="xml-preferred"),
        pytest.param("*/*", False, id="wildcard-tie"),
        pytest.param("text/html, application/rss+xml", False, id="explicit-tie"),
        pytest.param(None, False, id="no-accept-tie"),
        pytest.param("text/html;q=0.9, */*;q=0.1", True, id="html-over-wildcard"),
    ],
)
def test_not_accepted_transforms_for_browsers_only(html_xsl, accept, transformed):
    app = xml_app(content_type="application/rss+xml", headers=[("Vary", "Cookie")])
    headers = {} if accept is None else {"Accept": accept}
    response = client(app, stylesheet=html_xsl, when="not-accepted").get("/", headers=headers)
    assert ("<h1>Hello</h1>" in response.text) is transformed
    assert (response.data == DOC) is not transformed
    assert response.headers["Vary"] == "Cookie, Accept"


@pytest.mark.parametrize(
    ("vary", "expected"),
    [
        pytest.param([("Vary", "Cookie"), ("Vary", "Origin")], "Cookie, Origin, Accept", id="two-fields"),
        pytest.param([("Vary", "accept")], "accept", id="already-there"),
        pytest.param([("Vary", "*")], "*", id="star"),
    ],
)
@pytest.mark.parametrize("accept", [BROWSER, "application/xml", "text/html;q=0.1, application/xml"])
def test_not_accepted_vary_is_merged_once(html_xsl, vary, expected, accept):
    app = xml_app(headers=vary)
    response = client(app, stylesheet=html_xsl, when="not-accepted").get("/", headers={"Accept": accept})
    assert response.headers.getlist("Vary") == [expected]


def test_not_accepted_leaves_non_xml_without_vary(html_xsl):
    app = xml_app(content_type="text/plain")
    response = client(app, stylesheet=html_xsl, when="not-accepted").get("/", headers={"Accept": BROWSER})
    assert "Vary" not in response.headers


def test_not_accepted_api_client_keeps_its_conditional_headers(html_xsl):
    app = xml_app()
    client(app, stylesheet=html_xsl, when="not-accepted").get(
        "/", headers={"Accept": "application/xml", "If-None-Match": '"x"'})
    assert app.seen[-1]["HTTP_IF_NONE_MATCH"] == '"x"'


# -- params --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("Ada", id="plain"),
        pytest.param("it's \"quoted\"", id="both-quotes"),
        pytest.param("/doc/title", id="xpath-is-not-evaluated"),
        pytest.param("", id="empty"),
    ],
)
def test_params_are_plain_strings(html_xsl, value):
    response = client(xml_app(), stylesheet=html_xsl, params={"who": value}).get("/")
    assert f"<p>{value}</p>".replace('"', "&quot;") in response.text or f"<p>{value}</p>" in response.text


def test_params_from_a_function_of_the_environ(html_xsl):
    response = client(xml_app(), stylesheet=html_xsl,
                      params=lambda environ: {"who": environ["PATH_INFO"]}).get("/me")
    assert "<p>/me</p>" in response.text


def test_params_function_returning_non_strings_is_a_type_error(html_xsl):
    with pytest.raises(TypeError, match="strings"):
        client(xml_app(), stylesheet=html_xsl, params=lambda environ: {"who": 3}).get("/")


# -- cache ---------------------------------------------------------------------------------


def test_a_changed_stylesheet_is_recompiled(tmp_path):
    xsl = titled(tmp_path, "t.xsl", "one")
    layer = client(xml_app(), stylesheet=xsl)
    assert layer.get("/").text == "one"
    titled(tmp_path, "t.xsl", "two!")
    stat = xsl.stat()
    os.utime(xsl, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert layer.get("/").text == "two!"


def test_compiled_once_per_thread_and_the_same_everywhere(html_xsl, caplog):
    caplog.set_level(logging.DEBUG, logger="middleware.xslt")
    layer = XSLT(xml_app(), stylesheet=html_xsl, params={"who": "t"})
    app = TestApp(layer)
    first = app.get("/").body
    bodies, errors = [], []

    def work():
        try:
            for _ in range(20):
                bodies.append(app.get("/").body)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(bodies) == 80 and set(bodies) == {first}
    compiles = [record for record in caplog.records if "compiled" in record.getMessage()]
    assert len(compiles) == 5  # __init__'s thread, then one per worker thread


def test_imports_are_relative_to_the_stylesheet(tmp_path, monkeypatch):
    write(tmp_path, "lib/base.xsl", XSL_HEAD + '<xsl:output method="text"/>'
          '<xsl:template name="hi">from base</xsl:template></xsl:stylesheet>')
    main = write(tmp_path, "lib/main.xsl", XSL_HEAD + '<xsl:import href="base.xsl"/>'
                 '<xsl:template match="/"><xsl:call-template name="hi"/></xsl:template></xsl:stylesheet>')
    monkeypatch.chdir(tmp_path.parent)  # not the stylesheet's directory
    assert client(xml_app(), stylesheet=main).get("/").text == "from base"


def test_describe(html_xsl):
    layer = XSLT(xml_app(), rules={"/feeds": html_xsl}, params=lambda environ: {}, when="not-accepted")
    assert layer.describe() == (f"XSLT(rules={{'/feeds': {str(html_xsl)!r}}}, params=f(environ), "
                                "when='not-accepted')")
    root = html_xsl.parent
    layer = XSLT(xml_app(), stylesheet=html_xsl, honor_pi=True, stylesheet_root=root,
                 params={"b": "", "a": ""}, debug=True)
    assert layer.describe() == (f"XSLT(stylesheet={str(html_xsl)!r}, honor_pi=True, "
                                f"stylesheet_root={str(root)!r}, params=['a', 'b'], "
                                "when='always', debug=True)")
