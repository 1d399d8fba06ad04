"""A real browser for the tests: Debian's headless Chromium driven by Selenium.

Nothing is downloaded: the browser is ``/usr/bin/chromium`` and the driver
``/usr/bin/chromedriver`` (the Debian packages ``chromium`` and ``chromium-driver``,
which ``.ci/run`` installs), given to Selenium explicitly, so Selenium Manager is
never asked for one. A missing browser, driver or Selenium skips these tests on a
developer's machine with the reason, and fails them in CI (``support.missing``).

Fixtures:

- ``chromium``: one headless browser for the test module, with a fresh profile.
- ``browser``: that browser with its cookies cleared, for one test.
- ``live_server``: ``live_server(app)`` serves a WSGI app on a free port from a
  thread (Werkzeug's threaded server) and returns its base URL.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support import free_port, missing

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL = "apt-get install chromium chromium-driver"

#: Headless, and quiet: no sandbox (containers run as root), no GPU, no /dev/shm (small
#: in containers), no first-run page, and no traffic of the browser's own (updates,
#: sync, QUIC), so a test run reaches nothing but the local server.
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--window-size=1000,700",
)


def require_browser() -> None:
    """Skip (locally) or fail (in CI) unless Selenium, Chromium and chromedriver are there."""
    if importlib.util.find_spec("selenium") is None:
        missing("needs the Python package selenium: pip install selenium")
    for program in (CHROMIUM, CHROMEDRIVER):
        if not os.access(program, os.X_OK):
            missing(f"needs {program}: {INSTALL}")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """A headless Chromium for the whole test module, driven through Debian's chromedriver."""
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # belt and braces: never fetch a driver
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    # An explicit driver path: Selenium skips Selenium Manager (no download, no network).
    service = Service(executable_path=str(CHROMEDRIVER), log_output=os.devnull)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(chromium: Any) -> Any:
    """The module's browser with no cookies from an earlier test."""
    chromium.delete_all_cookies()
    return chromium


@pytest.fixture
def live_server() -> Iterator[Callable[[Any], str]]:
    """``live_server(app)``: serve *app* on 127.0.0.1 from a thread; returns the base URL."""
    from werkzeug.serving import make_server

    servers = []

    def serve(app: Any) -> str:
        port = free_port()
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield serve
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
