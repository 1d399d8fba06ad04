"""XSLT under a real gunicorn: a browser gets HTML, an API client the XML, from one URL.

The example app (``examples/feed``) behind ``XSLT(..., when="not-accepted")``.
"""

from __future__ import annotations

import http.client

import pytest
from servers import Server, require

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


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
