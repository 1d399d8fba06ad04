"""XSLT: attacks (entities, file writes, network, reads outside), errors, honor_pi, options."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import time

import pytest
from support import ROOT

from framework.testing import TestClient, validated
from middleware.xslt import XSLT

XSL_HEAD = ('<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" '
            'xmlns:exsl="http://exslt.org/common" extension-element-prefixes="exsl">')
DOC = b"<doc><title>Hello</title></doc>"
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<doc><title>&lol9;</title></doc>"""


def stylesheet(directory, body, name="page.xsl", output="text"):
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'{XSL_HEAD}<xsl:output method="{output}"/>'
                    f'<xsl:template match="/">{body}</xsl:template></xsl:stylesheet>')
    return path


def xml_app(body=DOC, closed=None, content_type="application/xml"):
    class Body(list):
        def close(self):
            if closed is not None:
                closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", content_type)])
        return Body([body])

    return app


def client(app, **options):
    return TestClient(validated(XSLT(app, **options)))


@pytest.fixture
def title_xsl(tmp_path):
    return stylesheet(tmp_path / "xsl", '<xsl:value-of select="/doc/title"/>')


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("<secret>TOP-SECRET-42</secret>")  # XML: a document() call could read it
    return path


# -- the app's XML: entities -----------------------------------------------------------------


def test_an_external_entity_does_not_leak_a_local_file(title_xsl, secret, caplog):
    doc = (f'<?xml version="1.0"?><!DOCTYPE doc [<!ENTITY xxe SYSTEM "file://{secret}">]>'
           "<doc><title>&xxe;</title></doc>").encode()
    closed = []
    response = client(xml_app(doc, closed), stylesheet=title_xsl).get("/")
    assert response.status_code == 502
    assert b"TOP-SECRET" not in response.data
    assert closed == [True]
    assert any("declares entities" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [pytest.param("text/html", "text/html", id="html"),
     pytest.param("application/json", "application/json", id="json")],
)
def test_billion_laughs_is_refused_fast_and_cleanly(title_xsl, accept, content_type, caplog):
    started = time.monotonic()
    response = client(xml_app(LAUGHS), stylesheet=title_xsl).get("/", headers={"Accept": accept})
    assert time.monotonic() - started < 1
    assert response.status_code == 502
    assert response.mimetype == content_type
    assert b"Traceback" not in response.data and b"lol" not in response.data
    assert response.headers["Content-Length"] == str(len(response.data))
    errors = [record.name for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == ["middleware.xslt"]


def test_malformed_xml_is_a_502_with_a_log_line(title_xsl, caplog):
    closed = []
    response = client(xml_app(b"<doc><title>unclosed</doc>", closed), stylesheet=title_xsl).get(
        "/feed", headers={"Accept": "application/json"})
    assert response.status_code == 502
    assert response.json["error"]["message"] == "The application answered malformed XML."
    assert closed == [True]
    [record] = [record for record in caplog.records if record.name == "middleware.xslt"]
    assert "/feed" in record.getMessage() and "malformed" in record.getMessage()


def test_an_internal_dtd_without_entities_is_fine(title_xsl):
    doc = b'<?xml version="1.0"?><!DOCTYPE doc [<!ELEMENT doc ANY>]><doc><title>Hi</title></doc>'
    assert client(xml_app(doc), stylesheet=title_xsl).get("/").text == "Hi"


# -- stylesheets: writing, network, reading outside ------------------------------------------


@pytest.mark.parametrize(
    "writer",
    [
        pytest.param('<exsl:document href="{target}" method="text">pwned</exsl:document>',
                     id="exsl-document"),
        pytest.param('<xsl:document href="{target}" method="text">pwned</xsl:document>', id="xsl-document"),
    ],
)
def test_a_stylesheet_cannot_write_files(tmp_path, writer, caplog):
    target = tmp_path / "xsl" / "written.txt"
    xsl = stylesheet(tmp_path / "xsl", writer.format(target=target) + "done")
    response = client(xml_app(), stylesheet=xsl).get("/")
    assert not target.exists()
    assert response.status_code == 500
    assert b"written.txt" not in response.data  # the error log stays in the server's log
    assert "write rights" in caplog.text


def test_xsl_result_document_creates_no_file(tmp_path):
    """XSLT 2.0's instruction: libxslt (1.0) ignores it in forwards-compatible mode; nothing is written."""
    target = tmp_path / "xsl" / "result.txt"
    xsl = tmp_path / "xsl" / "r.xsl"
    xsl.parent.mkdir()
    xsl.write_text('<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
                   '<xsl:output method="text"/><xsl:template match="/">'
                   f'<xsl:result-document href="{target}">pwned</xsl:result-document>done'
                   "</xsl:template></xsl:stylesheet>")
    response = client(xml_app(), stylesheet=xsl).get("/")
    assert not target.exists()
    assert response.status_code in (200, 500) and b"pwned" not in response.data


@pytest.fixture
def listener():
    """A real TCP listener on a free port; yields (port, connections-so-far)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.setblocking(False)

    def connections():
        count = 0
        time.sleep(0.2)
        while True:
            try:
                connection, _ = server.accept()
            except BlockingIOError:
                return count
            connection.close()
            count += 1

    yield server.getsockname()[1], connections
    server.close()


@pytest.mark.parametrize(
    "call",
    [
        pytest.param("document('http://127.0.0.1:{port}/')", id="document-http"),
        pytest.param("document(/doc/url)", id="document-url-from-the-data"),
    ],
)
def test_document_reaches_no_network(tmp_path, listener, call, caplog):
    port, connections = listener
    xsl = stylesheet(tmp_path / "xsl", f'<xsl:value-of select="{call.format(port=port)}"/>')
    doc = f"<doc><url>http://127.0.0.1:{port}/data</url></doc>".encode()
    response = client(xml_app(doc), stylesheet=xsl).get("/")
    assert response.status_code == 500
    assert connections() == 0
    assert "127.0.0.1" in caplog.text


def test_the_listener_does_see_a_real_connection(listener):
    """The check above can fail: a connection is counted."""
    port, connections = listener
    socket.create_connection(("127.0.0.1", port)).close()
    assert connections() == 1


def test_document_reads_no_file_outside_the_stylesheet_directory(tmp_path, secret):
    xsl = stylesheet(tmp_path / "xsl", '<xsl:value-of select="document(/doc/file)"/>')
    doc = f"<doc><file>{secret}</file></doc>".encode()
    response = client(xml_app(doc), stylesheet=xsl, debug=True).get("/")
    assert response.status_code == 500
    assert b"TOP-SECRET" not in response.data


def test_document_reads_files_beside_the_stylesheet(tmp_path):
    (tmp_path / "xsl").mkdir()
    (tmp_path / "xsl" / "labels.xml").write_text("<labels><hello>Bonjour</hello></labels>")
    xsl = stylesheet(tmp_path / "xsl", "<xsl:value-of select=\"document('labels.xml')/labels/hello\"/>")
    assert client(xml_app(), stylesheet=xsl).get("/").text == "Bonjour"


def test_an_import_outside_stylesheet_root_is_refused_at_start_up(tmp_path):
    (tmp_path / "shared.xsl").write_text(XSL_HEAD + "</xsl:stylesheet>")
    xsl = tmp_path / "xsl" / "main.xsl"
    xsl.parent.mkdir()
    xsl.write_text(XSL_HEAD + '<xsl:import href="../shared.xsl"/></xsl:stylesheet>')
    with pytest.raises(ValueError, match="does not compile"):
        XSLT(xml_app(), stylesheet=xsl)
    assert XSLT(xml_app(), stylesheet=xsl, stylesheet_root=tmp_path).stylesheet == str(xsl)


def test_a_stylesheet_entity_reads_no_file(tmp_path, secret):
    xsl = tmp_path / "xsl" / "e.xsl"
    xsl.parent.mkdir()
    xsl.write_text(f'<!DOCTYPE x [<!ENTITY s SYSTEM "file://{secret}">]>'
                   + XSL_HEAD + '<xsl:output method="text"/><xsl:template match="/">[&s;]</xsl:template>'
                   "</xsl:stylesheet>")
    try:
        response = client(xml_app(), stylesheet=xsl).get("/")
    except ValueError:  # refused at start-up: as good
        return
    assert b"TOP-SECRET" not in response.data


# -- stylesheet errors ------------------------------------------------------------------------


def test_a_failing_stylesheet_is_a_500_logged_not_shown(tmp_path, caplog):
    xsl = stylesheet(tmp_path, '<xsl:message terminate="yes">secret detail</xsl:message>')
    closed = []
    response = client(xml_app(closed=closed), stylesheet=xsl).get("/", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert response.json["error"]["message"] == "The page's stylesheet failed."
    assert b"secret detail" not in response.data
    assert "secret detail" in caplog.text and str(xsl) in caplog.text
    assert closed == [True]


def test_debug_shows_the_xslt_error_log(tmp_path):
    xsl = stylesheet(tmp_path, '<xsl:message terminate="yes">secret detail</xsl:message>')
    response = client(xml_app(), stylesheet=xsl, debug=True).get("/", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert "secret detail" in response.json["error"]["message"]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda path: path.write_text("<xsl:stylesheet"), id="broken"),
        pytest.param(lambda path: path.unlink(), id="deleted"),
    ],
)
def test_a_stylesheet_broken_after_start_up_is_a_500(title_xsl, damage, caplog):
    layer = client(xml_app(), stylesheet=title_xsl)
    assert layer.get("/").text == "Hello"
    damage(title_xsl)
    response = layer.get("/")
    assert response.status_code == 500
    assert str(title_xsl) in caplog.text


def test_an_error_in_params_closes_the_inner_body(title_xsl):
    closed = []

    def params(environ):
        raise LookupError("no such user")

    with pytest.raises(LookupError):
        client(xml_app(closed=closed), stylesheet=title_xsl, params=params).get("/")
    assert closed == [True]


def test_exc_info_from_the_inner_app_is_forwarded(title_xsl):
    """An app that starts over with exc_info: its error response goes out untouched."""

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/xml")])
        try:
            raise RuntimeError("late failure")
        except RuntimeError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"failed"]

    calls = []
    body = XSLT(app, stylesheet=title_xsl)({"REQUEST_METHOD": "GET", "PATH_INFO": "/"},
                                           lambda *args: calls.append(args))
    assert b"".join(body) == b"failed"
    [(status, headers, exc_info)] = calls
    assert status.startswith("500") and exc_info[0] is RuntimeError


# -- honor_pi ---------------------------------------------------------------------------------


def pi_doc(href, kind="text/xsl"):
    return f'<?xml version="1.0"?><?xml-stylesheet type="{kind}" href="{href}"?><doc><title>Hi</title></doc>'


@pytest.mark.parametrize(
    ("href", "status", "text"),
    [
        pytest.param("page.xsl", 200, "Hi", id="relative"),
        pytest.param("/page.xsl", 200, "Hi", id="root-relative"),
        pytest.param("sub/other.xsl", 200, "other", id="subdirectory"),
        pytest.param("../secret.xsl", 502, None, id="dot-dot"),
        pytest.param("sub/../../secret.xsl", 502, None, id="dot-dot-inside"),
        pytest.param("%2e%2e/secret.xsl", 502, None, id="encoded-dots"),
        pytest.param("http://127.0.0.1:9/page.xsl", 502, None, id="http"),
        pytest.param("file:///etc/passwd", 502, None, id="file-url"),
        pytest.param("link.xsl", 502, None, id="symlink-out"),
    ],
)
def test_honor_pi_looks_only_inside_stylesheet_root(tmp_path, href, status, text):
    root = tmp_path / "xsl"
    stylesheet(root, '<xsl:value-of select="/doc/title"/>')
    stylesheet(root / "sub", "other", name="other.xsl")
    outside = stylesheet(tmp_path, "outside!", name="secret.xsl")
    (root / "link.xsl").symlink_to(outside)
    response = client(xml_app(pi_doc(href).encode()), honor_pi=True, stylesheet_root=root).get("/")
    assert response.status_code == status
    if text is not None:
        assert response.text == text
    assert b"outside!" not in response.data


def test_honor_pi_without_a_pi_or_with_a_css_one_leaves_the_xml(tmp_path):
    stylesheet(tmp_path, "transformed")
    for doc in (DOC, pi_doc("page.xsl", kind="text/css").encode()):
        response = client(xml_app(doc), honor_pi=True, stylesheet_root=tmp_path).get("/")
        assert response.data == doc


def test_rules_and_stylesheet_win_over_the_pi(tmp_path):
    stylesheet(tmp_path, "from the pi")
    ruled = stylesheet(tmp_path, "from the rule", name="rule.xsl")
    default = stylesheet(tmp_path, "from the stylesheet", name="default.xsl")
    layer = client(xml_app(pi_doc("page.xsl").encode()), honor_pi=True, stylesheet_root=tmp_path,
                   rules={"/ruled": ruled}, stylesheet=default)
    assert layer.get("/ruled/x").text == "from the rule"
    assert layer.get("/other").text == "from the stylesheet"
    assert client(xml_app(pi_doc("page.xsl").encode()), honor_pi=True,
                  stylesheet_root=tmp_path).get("/").text == "from the pi"


# -- options ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        pytest.param({}, ValueError, "needs a stylesheet", id="nothing"),
        pytest.param({"honor_pi": True}, ValueError, "needs stylesheet_root", id="pi-without-root"),
        pytest.param({"stylesheet": "{xsl}", "when": "sometimes"}, ValueError, "'not-accepted'", id="when"),
        pytest.param({"stylesheet": "{missing}"}, ValueError, "cannot be read", id="missing-file"),
        pytest.param({"stylesheet": "{broken}"}, ValueError, "does not compile", id="broken"),
        pytest.param({"stylesheet": 3}, TypeError, "file path", id="not-a-path"),
        pytest.param({"rules": ["/a"]}, TypeError, "map path prefixes", id="rules-list"),
        pytest.param({"rules": {"feeds": "{xsl}"}}, ValueError, "start with '/'", id="rule-without-slash"),
        pytest.param({"stylesheet": "{xsl}", "params": "who=me"}, TypeError, "dict of strings",
                     id="params-str"),
        pytest.param({"stylesheet": "{xsl}", "params": {"who": 1}}, TypeError, "strings", id="params-int"),
        pytest.param({"stylesheet": "{xsl}", "stylesheet_root": "{missing}"}, ValueError, "not a directory",
                     id="root-missing"),
        pytest.param({"stylesheet": "{xsl}", "stylesheet_root": "{sub}"}, ValueError,
                     "outside stylesheet_root", id="stylesheet-outside-root"),
    ],
)
def test_bad_options_are_refused_with_a_sentence(tmp_path, options, error, match):
    xsl = stylesheet(tmp_path, "x")
    (tmp_path / "broken.xsl").write_text("<xsl:stylesheet")
    (tmp_path / "sub").mkdir()
    names = {"xsl": xsl, "missing": tmp_path / "missing.xsl", "broken": tmp_path / "broken.xsl",
             "sub": tmp_path / "sub"}

    def fill(value):
        if isinstance(value, str):
            return value.format(**names)
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        return value

    with pytest.raises(error, match=match) as raised:
        XSLT(xml_app(), **{key: fill(value) for key, value in options.items()})
    assert str(raised.value).endswith(".")


def test_app_must_be_callable(tmp_path):
    with pytest.raises(TypeError, match="WSGI callable"):
        XSLT("app", stylesheet=stylesheet(tmp_path, "x"))


def test_missing_lxml_names_the_extra(tmp_path, monkeypatch):
    xsl = stylesheet(tmp_path, "x")
    monkeypatch.setitem(sys.modules, "lxml", None)
    monkeypatch.setitem(sys.modules, "lxml.etree", None)
    with pytest.raises(RuntimeError, match=r'pip install "onion-wsgi\[xslt\]"'):
        XSLT(xml_app(), stylesheet=xsl)


def test_the_module_imports_without_lxml():
    """``middleware`` exports XSLT: importing it must not need the extra."""
    code = ("import sys; sys.modules['lxml'] = None; sys.modules['lxml.etree'] = None\n"
            "import middleware.xslt as m\n"
            "try:\n    m.XSLT(lambda e, s: [], stylesheet='x.xsl')\n"
            "except RuntimeError as error:\n    print(error)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == 'XSLT needs lxml: pip install "onion-wsgi[xslt]"'


def test_the_error_body_is_the_frameworks(title_xsl):
    response = client(xml_app(b"<broken"), stylesheet=title_xsl).get(
        "/", headers={"Accept": "application/json"})
    message = "The application answered malformed XML."
    assert json.loads(response.data) == {"error": {"status": 502, "message": message}}
