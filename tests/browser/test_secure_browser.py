"""A real browser (Debian's headless Chromium) visits examples/secure.py, served by the CLI.

It logs in through the form, reaches ``/admin``, sees the welcome flashed, logs out
with the page's own logout form (its CSRF token), then logs in as ``guest`` and is
refused at ``/admin``. ``ONION_SCREENSHOTS=1`` also saves the login page and the admin
page to ``docs/images/`` (for the README), so a plain run never rewrites tracked files.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from support import ROOT, Process, free_port

IMAGES = ROOT / "docs" / "images"
PNG = b"\x89PNG\r\n\x1a\n"


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [b"<!doctype html><title>Hi</title><h1 id='greeting'>Hello, browser</h1>"]


def test_the_browser_loads_a_page_from_a_local_server(browser, live_server):
    """The infrastructure itself: Debian's Chromium, offline, reaches a local WSGI server."""
    from selenium.webdriver.common.by import By

    browser.get(live_server(hello) + "/")
    assert browser.title == "Hi"
    assert browser.find_element(By.ID, "greeting").text == "Hello, browser"


@pytest.fixture(scope="module")
def site():
    """``python -m framework run examples.secure:application`` on a free port."""
    port = free_port()
    server = Process([sys.executable, "-m", "framework", "run", "examples.secure:application",
                      "--port", str(port)], cwd=ROOT, wait_for=("127.0.0.1", port), timeout=30)
    yield f"http://127.0.0.1:{port}"
    server.stop()


def screenshot(browser, name: str, tmp_path: Path) -> None:
    """A PNG of the page: into docs/images with ONION_SCREENSHOTS=1, else a temporary file."""
    folder = IMAGES if os.environ.get("ONION_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(folder / name))
    assert (folder / name).read_bytes().startswith(PNG)


def log_in(browser, user: str, password: str) -> None:
    """Fill in the login form on the current page and submit it."""
    from selenium.webdriver.common.by import By

    browser.find_element(By.ID, "username").send_keys(user)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def path_of(browser) -> str:
    """The current URL's path and query."""
    from urllib.parse import urlsplit

    url = urlsplit(browser.current_url)
    return url.path + (f"?{url.query}" if url.query else "")


def wait_until_at(browser, path: str) -> None:
    """Wait (at most 10 s) until the browser shows *path*."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 10).until(lambda b: path_of(b) == path,
                                     message=f"the browser stayed at {path_of(browser)}, not {path}")


def test_log_in_reach_admin_log_out_and_be_refused_as_guest(browser, site, tmp_path):
    from selenium.webdriver.common.by import By

    # A protected page sends the browser to the form, which remembers where it was going.
    browser.get(site + "/admin")
    wait_until_at(browser, "/login?next=%2Fadmin")
    assert browser.title == "Log in"
    screenshot(browser, "login.png", tmp_path)

    # A wrong password: the form again, with the error.
    log_in(browser, "admin", "not-the-password")
    assert browser.find_element(By.ID, "login-error").text == "Wrong user name or password."

    # The right one: /admin, with the welcome flashed once.
    browser.find_element(By.ID, "username").clear()
    log_in(browser, "admin", "admin-pass")
    wait_until_at(browser, "/admin")
    assert browser.find_element(By.ID, "admin-title").text == "Admin"
    assert browser.find_element(By.CSS_SELECTOR, ".flash li").text == "Welcome, admin"
    assert browser.find_element(By.ID, "user").text == "admin"
    screenshot(browser, "admin.png", tmp_path)
    browser.get(site + "/flask/")
    assert "Hello from Flask, admin" in browser.page_source
    browser.get(site + "/django/")
    assert "Hello from Django, admin" in browser.page_source
    browser.get(site + "/")
    assert not browser.find_elements(By.CSS_SELECTOR, ".flash li")  # shown once only

    # The logout button posts the page's CSRF token; the next page says so.
    browser.find_element(By.ID, "logout").click()
    wait_until_at(browser, "/")
    assert browser.find_element(By.CSS_SELECTOR, ".flash li").text == "Logged out"
    assert browser.find_elements(By.ID, "login")
    browser.get(site + "/admin")
    wait_until_at(browser, "/login?next=%2Fadmin")

    # The guest may log in, but not enter /admin.
    log_in(browser, "guest", "guest-pass")
    wait_until_at(browser, "/admin")
    assert "Forbidden" in browser.title + browser.page_source
    assert not browser.find_elements(By.ID, "admin-title")
    browser.get(site + "/django/")
    assert "Hello from Django, guest" in browser.page_source
