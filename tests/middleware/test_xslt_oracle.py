"""XSLT's oracle: the example's pages are what Debian's ``xsltproc`` writes.

The example app (``examples/feed``) serves an RSS feed and a catalogue; its
``application`` is the ``XSLT`` layer with ``when="not-accepted"``.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.parse

import pytest
from support import ROOT, require_program

if str(ROOT) not in sys.path:  # `examples` is a namespace package at the repository root
    sys.path.insert(0, str(ROOT))

from examples.feed.app import application, create_app, create_application  # noqa: E402
from framework.testing import TestClient, validated  # noqa: E402

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
