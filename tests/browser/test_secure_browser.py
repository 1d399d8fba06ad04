"""A real browser (headless Chromium from Debian) against examples/secure.py."""

from __future__ import annotations


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [b"<!doctype html><title>Hi</title><h1 id='greeting'>Hello, browser</h1>"]


def test_the_browser_loads_a_page_from_a_local_server(browser, live_server):
    """The infrastructure itself: Debian's Chromium, offline, reaches a local WSGI server."""
    from selenium.webdriver.common.by import By

    browser.get(live_server(hello) + "/")
    assert browser.title == "Hi"
    assert browser.find_element(By.ID, "greeting").text == "Hello, browser"
