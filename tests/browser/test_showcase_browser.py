"""A real browser (Debian's headless Chromium) visits the showcase, served by the README's command.

It logs in through the form (the demo users are on the page), sees the welcome
flashed, calls the rate-limited API from the home page's button, enters ``/admin``,
and reads the feed, which ``XSLT`` turns into a page for it. ``ONION_SCREENSHOTS=1``
also saves ``docs/images/showcase-*.png`` (for the README), so a plain run never
rewrites tracked files.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from support import ROOT, Process, free_port

IMAGES = ROOT / "docs" / "images"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def site():
    """``python -m framework run examples.showcase.app:application`` on a free port."""
    port = free_port()
    server = Process([sys.executable, "-m", "framework", "run", "examples.showcase.app:application",
                      "--port", str(port)], cwd=ROOT, wait_for=("127.0.0.1", port), timeout=30)
    yield f"http://127.0.0.1:{port}"
    server.stop()


def screenshot(browser, name: str, tmp_path: Path) -> None:
    """A PNG of the whole page (up to 1,400 pixels high), from the top.

    Into docs/images with ONION_SCREENSHOTS=1, else a temporary file. The window grows
    to fit the page for the picture, then gets its size back.
    """
    folder = IMAGES if os.environ.get("ONION_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    before = browser.get_window_size()
    frame = before["height"] - browser.execute_script("return window.innerHeight")
    page = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(before["width"], min(page, 1400) + frame)
    browser.execute_script("window.scrollTo(0, 0)")
    try:
        assert browser.save_screenshot(str(folder / name))
    finally:
        browser.set_window_size(before["width"], before["height"])
    assert (folder / name).read_bytes().startswith(PNG)


def path_of(browser) -> str:
    """The current URL's path and query."""
    from urllib.parse import urlsplit

    url = urlsplit(browser.current_url)
    return url.path + (f"?{url.query}" if url.query else "")


def wait_until(browser, condition, message: str) -> None:
    """Wait (at most 10 s) until ``condition(browser)`` is true."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 10).until(condition, message=message)


def wait_until_at(browser, path: str) -> None:
    """Wait until the browser shows *path*."""
    wait_until(browser, lambda b: path_of(b) == path,
               f"the browser stayed at {path_of(browser)}, not {path}")


def styled(browser) -> bool:
    """Whether the fingerprinted stylesheet applied (the page's background is the CSS's)."""
    colour = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
    return colour == "rgb(246, 247, 249)"


def test_log_in_call_the_api_enter_admin_and_read_the_feed(browser, site, tmp_path):
    from selenium.webdriver.common.by import By

    # The admin area sends the browser to the form, which shows the demo users.
    browser.get(site + "/admin")
    wait_until_at(browser, "/login?next=%2Fadmin")
    assert browser.title == "Log in · onion-wsgi showcase"
    assert "admin-pass" in browser.find_element(By.ID, "demo-users").text
    assert styled(browser)
    screenshot(browser, "showcase-login.png", tmp_path)

    # Log in as the demo user: back at /admin, refused there (403), welcome flashed on the home page.
    browser.find_element(By.ID, "username").send_keys("demo")
    browser.find_element(By.ID, "password").send_keys("demo-pass")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_until_at(browser, "/admin")
    assert "Forbidden" in browser.title + browser.page_source
    browser.get(site + "/")
    assert browser.find_element(By.CSS_SELECTOR, ".flash li").text == "Welcome, demo! You are logged in."
    assert browser.find_element(By.ID, "user").text == "demo"

    # The home page's button calls the API (site.js) with the login cookie, and shows the
    # RateLimit fields.
    browser.find_element(By.ID, "call-api").click()
    wait_until(browser, lambda b: "HTTP 200" in b.find_element(By.ID, "api-result").text,
               "the API call did not answer 200")
    result = browser.find_element(By.ID, "api-result").text
    assert 'RateLimit: "/api";r=9;' in result and '"user": "demo"' in result
    screenshot(browser, "showcase-home.png", tmp_path)

    # Log out with the page's own form, then in as admin: the admin page lists the onion.
    browser.find_element(By.ID, "logout").click()
    wait_until_at(browser, "/")
    assert browser.find_element(By.CSS_SELECTOR, ".flash li").text == "You are logged out."
    browser.get(site + "/login?next=/admin")
    browser.find_element(By.ID, "username").send_keys("admin")
    browser.find_element(By.ID, "password").send_keys("admin-pass")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_until_at(browser, "/admin")
    assert browser.find_element(By.ID, "admin-title").text == "Admin"
    assert browser.find_element(By.CSS_SELECTOR, ".flash li").text == "Welcome, admin! You are logged in."
    layers = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#onion li")]
    assert layers[0].startswith("CORS") and layers[-1].startswith("<App")
    screenshot(browser, "showcase-admin.png", tmp_path)

    # The feed: the browser prefers HTML, so XSLT made a page of the RSS, with the site's CSS.
    browser.get(site + "/feed.xml")
    assert browser.find_element(By.ID, "feed-title").text == "The onion, layer by layer"
    assert len(browser.find_elements(By.CSS_SELECTOR, "main.feed article")) == 6
    assert styled(browser)
    screenshot(browser, "showcase-feed.png", tmp_path)
