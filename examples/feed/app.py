"""An app that answers XML, and the ``XSLT`` layer that turns it into HTML for browsers.

Run it from the repository root::

    python -m framework run examples.feed.app:application

The app (``app``, a :class:`framework.App`) knows nothing of HTML::

    GET /feed.xml                  an RSS 2.0 feed of 50 items (application/rss+xml)
    GET /catalogue.xml[?category=] a product catalogue (application/xml)

``application`` wraps it in :class:`~middleware.xslt.XSLT` with ``when="not-accepted"``:
a browser (``Accept: text/html,...``) gets an HTML page made by ``xsl/feed.xsl`` or
``xsl/catalogue.xsl`` (both import ``xsl/layout.xsl``, the shared page), a feed
reader or API client (``Accept: application/xml``, ``*/*``) gets the XML as it is.
The stylesheets get two parameters: ``site`` (the site's name) and ``category``
(from the query string; the catalogue shows only that category), passed as plain
strings, exactly as ``xsltproc --stringparam site "Onion News" ...`` would.

In a test, with the framework's own client::

    from framework.testing import TestClient
    from examples.feed.app import application

    client = TestClient(application)
    assert client.get("/feed.xml", headers={"Accept": "text/html"}).mimetype == "text/html"
    assert client.get("/feed.xml", headers={"Accept": "application/xml"}).mimetype == "application/rss+xml"
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

from framework import App, Response
from middleware.xslt import XSLT

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
XSL = HERE / "xsl"
SITE = "Onion News"


def create_app() -> App:
    """The XML app: each document read from ``data/`` and served with its XML media type."""
    app = App(__name__)

    @app.get("/feed.xml")
    def feed(request):
        return Response((DATA / "feed.xml").read_bytes(), mimetype="application/rss+xml")

    @app.get("/catalogue.xml")
    def catalogue(request):
        return Response((DATA / "catalogue.xml").read_bytes(), mimetype="application/xml")

    return app


def stylesheet_params(environ) -> dict[str, str]:
    """The stylesheets' parameters for one request: the site's name and the asked category."""
    category = parse_qs(environ.get("QUERY_STRING", "")).get("category", [""])[0]
    return {"site": SITE, "category": category}


def create_application(app=None):
    """``app`` (default: :func:`create_app`) behind ``XSLT``: HTML for browsers, XML for the rest."""
    return XSLT(app or create_app(),
                rules={"/feed.xml": XSL / "feed.xsl", "/catalogue.xml": XSL / "catalogue.xsl"},
                params=stylesheet_params, stylesheet_root=XSL, when="not-accepted")


app = create_app()
application = create_application(app)
