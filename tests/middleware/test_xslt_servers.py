"""XSLT against outside referees: Debian's ``xsltproc`` (the oracle) and a real gunicorn.

The example app (``examples/feed``) serves an RSS feed and a catalogue; its
``application`` is the ``XSLT`` layer with ``when="not-accepted"``.
"""

from __future__ import annotations

import http.client
import subprocess
import urllib.parse

import pytest
from servers import Server, require
from support import ROOT, require_program

from examples.feed.app import application, create_app, create_application
from framework.testing import TestClient, validated

FEED = ROOT / "examples" / "feed"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def xsltproc(stylesheet: str, document: str, **params: str) -> bytes:
    """What ``xsltproc --stringparam k v ... style.xsl doc.xml`` writes."""
    program = require_program("xsltproc", "apt-get install xsltproc")
    argv = [program]
    for name, value in params.items():
        argv += ["--stringparam", name, value]
    done = subprocess.run([*argv, str(FEED / "xsl" / stylesheet), str(FEED / "data" / document)],
                          capture_output=True, timeout=60, check=True)
    return done.stdout


@pytest.mark.parametrize(
    ("url", "stylesheet", "document", "category"),
    [
        pytest.param("/feed.xml", "feed.xsl", "feed.xml", "", id="feed"),
        pytest.param("/catalogue.xml", "catalogue.xsl", "catalogue.xml", "", id="catalogue"),
        pytest.param("/catalogue.xml?category=kitchen", "catalogue.xsl", "catalogue.xml", "kitchen",
                     id="catalogue-param"),
        # xsltproc refuses a value with both quote kinds (lxml's strparam takes it: test_xslt.py)
        pytest.param("/catalogue.xml?category=" + urllib.parse.quote("it's <odd> & co"), "catalogue.xsl",
                     "catalogue.xml", "it's <odd> & co", id="param-with-quote-and-markup"),
    ],
)
def test_the_body_is_what_xsltproc_writes(url, stylesheet, document, category):
    """Byte for byte: lxml and xsltproc both serialize with libxslt's xsltSaveResultTo (the
    doctype, the <meta> charset line and the final newline included), so no normalising."""
    expected = xsltproc(stylesheet, document, site="Onion News", category=category)
    response = TestClient(validated(application)).get(url, headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert response.data == expected


def test_api_clients_get_the_files_as_they_are():
    client = TestClient(validated(create_application(create_app())))
    for url, name, media in (("/feed.xml", "feed.xml", "application/rss+xml"),
                             ("/catalogue.xml", "catalogue.xml", "application/xml")):
        response = client.get(url, headers={"Accept": "application/xml"})
        assert response.mimetype == media
        assert response.data == (FEED / "data" / name).read_bytes()
        assert response.headers["Vary"] == "Accept"


# -- a real gunicorn ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    require("gunicorn")
    server = Server("gunicorn", "--bind", "127.0.0.1:{port}", "--workers", "2", "--threads", "2",
                    "--graceful-timeout", "5", "examples.feed.app:application")
    yield server
    server.stop()


def fetch(server, path, **headers):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("path", ["/feed.xml", "/catalogue.xml?category=garden"])
def test_gunicorn_gives_browsers_html_and_api_clients_xml(server, path):
    page, html = fetch(server, path, Accept=BROWSER, **{"Accept-Encoding": "gzip, br"})
    assert page.status == 200
    assert page.getheader("Content-Type") == "text/html; charset=UTF-8"
    assert html.startswith(b"<!DOCTYPE html>") and b"<main>" in html
    assert int(page.getheader("Content-Length")) == len(html)
    assert page.getheader("Vary") == "Accept"
    document, xml = fetch(server, path, Accept="application/xml")
    assert document.status == 200
    assert document.getheader("Content-Type").startswith(("application/rss+xml", "application/xml"))
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert document.getheader("Vary") == "Accept"


def test_gunicorn_serves_many_requests_from_threads(server):
    """Two workers of two threads: each compiles its own stylesheets; every answer is the same."""
    bodies = {fetch(server, "/feed.xml", Accept="text/html")[1] for _ in range(12)}
    assert len(bodies) == 1
