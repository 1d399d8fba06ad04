"""examples/showcase: the README's first command, every flow through WebTest and the validator.

The whole site is wrapped in ``framework.testing.validated`` (``wsgiref.validate``), and
each test drives it the way a browser, a feed reader or a script would.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from webtest import TestApp
from werkzeug.test import Client, TestResponse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `examples` is a namespace package at the repository root
    sys.path.insert(0, str(ROOT))

from examples.showcase import app as showcase  # noqa: E402
from framework.testing import validated  # noqa: E402

JSON = {"Accept": "application/json"}
TOKEN = {"Authorization": f"Bearer {showcase.DEMO_TOKEN}", "Accept": "application/json"}
LIMIT = 3


def new_client(limit: int = LIMIT) -> TestApp:
    """A browser-like client of a fresh site (its own rate-limit counters, its own cookies)."""
    return TestApp(validated(showcase.create_app(limit=f"{limit}/minute", storage="memory://")))


def log_in(client: TestApp, user: str, password: str | None = None, next: str = ""):
    """Fill in and post the login form as a browser would; returns the answer to the post."""
    page = client.get("/login", {"next": next} if next else {})
    form = page.forms[0]
    form["username"] = user
    form["password"] = showcase.DEMO_PASSWORDS[user] if password is None else password
    return form.submit()


@pytest.fixture
def client() -> TestApp:
    return new_client()


def raw_get(client: TestApp, path: str, headers: dict[str, str]) -> TestResponse:
    """GET with Werkzeug's test client on the same validated site, the body read and closed.

    Unlike WebTest, which decodes gzip, it leaves an encoded body encoded; no cookies.
    """
    return Client(client.app, use_cookies=False).get(path, headers=headers, buffered=True)


# -- form login, flash messages, the admin area ----------------------------------------------


def test_the_login_page_shows_the_demo_users_and_its_own_look(client):
    page = client.get("/login")
    assert page.status_int == 200
    assert "<title>Log in · onion-wsgi showcase</title>" in page.text
    demo = page.html.find(id="demo-users").get_text(" ")
    for user, password in showcase.DEMO_PASSWORDS.items():
        assert user in demo and password in demo
    assert page.forms[0]["csrf_token"].value
    # The passwords are hashed at import: the layer holds only Werkzeug hashes.
    assert all(value.startswith(("scrypt:", "pbkdf2:")) for value in showcase.USERS.values())


def test_log_in_through_the_form_flashes_a_welcome_once(client):
    # The admin area sends a browser to the form, which remembers where it was going.
    sent = client.get("/admin", status=303)
    assert sent.headers["Location"].endswith("/login?next=%2Fadmin")
    answer = log_in(client, "admin", next="/admin")
    assert answer.status_int == 303 and answer.headers["Location"].endswith("/admin")
    page = answer.follow()
    assert page.html.select_one(".flash li.success").get_text() == "Welcome, admin! You are logged in."
    assert page.html.find(id="user").get_text() == "admin"
    assert page.html.select_one(".flash") is not None
    assert client.get("/").html.select_one(".flash") is None  # shown once


def test_a_wrong_password_shows_the_form_again(client):
    page = log_in(client, "admin", "not-the-password")
    assert page.status_int == 200
    assert page.html.find(id="login-error").get_text() == "Wrong user name or password."
    client.get("/admin", status=303)


def test_log_out_with_the_pages_own_form_flashes_and_forgets_the_user(client):
    home = log_in(client, "demo").follow()
    form = next(f for f in home.forms.values() if f.action.endswith("/logout"))
    page = form.submit().maybe_follow()
    assert page.request.path == "/"
    assert page.html.select_one(".flash li.info").get_text() == "You are logged out."
    assert page.html.find(id="login") is not None
    client.get("/admin", status=303)


@pytest.mark.parametrize(
    ("user", "headers", "status"),
    [
        pytest.param(None, JSON, 401, id="nobody-json-401"),
        pytest.param(None, {}, 303, id="nobody-browser-to-the-form"),
        pytest.param("demo", {}, 403, id="demo-403"),
        pytest.param("admin", {}, 200, id="admin-200"),
    ],
)
def test_the_admin_area_is_for_admin_only(client, user, headers, status):
    if user is not None:
        log_in(client, user)
    page = client.get("/admin", headers=headers, status=status)
    if status == 200:
        assert page.html.find(id="admin-title").get_text() == "Admin"
        onion = [li.get_text() for li in page.html.select("#onion li")]
        assert onion == showcase.application.describe()
    else:
        assert "admin-title" not in page.text


# -- the JSON API: tokens and rate limits ------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(JSON, id="no-token"),
        pytest.param({**JSON, "Authorization": "Bearer not-the-demo-token"}, id="wrong-token"),
    ],
)
def test_the_api_without_a_valid_token_is_401_and_not_counted(client, headers):
    for _ in range(LIMIT + 2):
        refused = client.get("/api/whoami", headers=headers, status=401)
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert refused.json["error"]["status"] == 401
    assert client.get("/api/whoami", headers=TOKEN).json == {"user": "robot", "auth": "Bearer"}


def test_the_api_answers_the_token_then_429_over_the_limit(client):
    for remaining in range(LIMIT - 1, -1, -1):
        answer = client.get("/api/articles", headers=TOKEN)
        assert len(answer.json["articles"]) == len(showcase.load_articles())
        assert answer.headers["RateLimit-Policy"] == f'"/api";q={LIMIT};w=60'
        assert re.fullmatch(rf'"/api";r={remaining};t=\d+', answer.headers["RateLimit"])
    refused = client.get("/api/articles", headers=TOKEN, status=429)
    assert int(refused.headers["Retry-After"]) >= 1
    assert re.fullmatch(r'"/api";r=0;t=\d+', refused.headers["RateLimit"])
    assert refused.json["error"]["status"] == 429


def test_a_logged_in_browser_uses_the_api_under_its_own_limit(client):
    log_in(client, "demo")
    assert client.get("/api/whoami", headers=JSON).json == {"user": "demo", "auth": "Form"}
    for _ in range(LIMIT - 1):
        client.get("/api/whoami", headers=JSON)
    client.get("/api/whoami", headers=JSON, status=429)
    client.reset()  # the same site, without the login cookie: the token's user is counted apart
    assert client.get("/api/whoami", headers=TOKEN).json["user"] == "robot"


def test_the_pages_are_not_rate_limited(client):
    for _ in range(LIMIT + 2):
        page = client.get("/")
        assert "RateLimit" not in page.headers


def test_one_article_and_a_missing_one(client):
    assert client.get("/api/articles/1", headers=TOKEN).json["layer"] == "FormLogin"
    missing = client.get("/api/articles/99", headers=TOKEN, status=404)
    assert missing.json == {"error": {"status": 404, "message": "There is no article 99."}}


# -- configuration from the environment ---------------------------------------------------------


def test_the_rate_limit_storage_comes_from_the_environment():
    """``SHOWCASE_RATELIMIT_STORAGE`` (memory:// when unset) names the module-level app's storage."""
    import os

    code = "import examples.showcase.app as a; print(a.RATELIMIT_STORAGE); print(a.application.describe())"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWCASE_")}
    unset = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=60)
    assert unset.returncode == 0, unset.stderr
    assert unset.stdout.splitlines()[0] == "memory://"
    named = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                           env=env | {"SHOWCASE_RATELIMIT_STORAGE": "redis://127.0.0.1:1/0",
                                      "SHOWCASE_API_LIMIT": "7/second"},
                           capture_output=True, text=True, timeout=60)
    assert named.returncode == 0, named.stderr
    assert named.stdout.splitlines()[0] == "redis://127.0.0.1:1/0"
    assert "storage='redis://127.0.0.1:1/0'" in named.stdout


# -- fingerprinted assets -------------------------------------------------------------------------


def asset_urls(page) -> dict[str, str]:
    """The page's stylesheet and script URLs, as ``static_url()`` wrote them."""
    return {"css": page.html.select_one("link[rel=stylesheet]")["href"],
            "js": page.html.select_one("script[src]")["src"]}


def test_pages_link_the_fingerprinted_assets_served_immutable(client):
    manifest = json.loads((showcase.PUBLIC / "manifest.json").read_text(encoding="utf-8"))["paths"]
    urls = asset_urls(client.get("/"))
    assert urls == {"css": f"/static/{manifest['site.css']}", "js": f"/static/{manifest['site.js']}"}
    assert re.fullmatch(r"/static/site\.[0-9a-f]{8}\.css", urls["css"])
    for name, url in urls.items():
        asset = client.get(url)
        assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert asset.headers["ETag"]
        assert asset.body == (showcase.PUBLIC / f"site.{name}").read_bytes()
        client.get(url, headers={"If-None-Match": asset.headers["ETag"]}, status=304)
    # The unfingerprinted name is served too, but cached briefly: it changes in place.
    assert "immutable" not in client.get("/static/site.css").headers["Cache-Control"]


@pytest.mark.parametrize(
    ("accept_encoding", "encoding"),
    [
        pytest.param("gzip", "gzip", id="gzip"),
        pytest.param("br, gzip", "br", id="brotli"),
        pytest.param("", None, id="identity"),
    ],
)
def test_assets_are_served_precompressed_when_accepted(client, accept_encoding, encoding):
    url = asset_urls(client.get("/"))["css"]
    asset = raw_get(client, url, {"Accept-Encoding": accept_encoding})
    assert asset.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in asset.headers["Vary"]
    suffix = {"gzip": ".gz", "br": ".br", None: ""}[encoding]
    assert asset.data == (showcase.PUBLIC / (url.rsplit("/", 1)[1] + suffix)).read_bytes()


def test_the_committed_assets_are_what_python_m_framework_assets_builds(tmp_path):
    """``python -m framework assets examples/showcase/public`` would change nothing.

    Compressed siblings are compared by their content (another zlib or brotli build may
    pick other bytes for the same content); everything else byte for byte.
    """
    import gzip
    import shutil

    import brotli

    from framework.assets import build_assets

    for source in SOURCES:
        shutil.copy(showcase.PUBLIC / source, tmp_path / source)
    build_assets(str(tmp_path))
    built = sorted(p.name for p in tmp_path.iterdir())
    assert sorted(p.name for p in showcase.PUBLIC.iterdir()) == built, REBUILD
    decode = {".gz": gzip.decompress, ".br": brotli.decompress}
    for name in built:
        ours, fresh = (showcase.PUBLIC / name).read_bytes(), (tmp_path / name).read_bytes()
        plain = decode.get(Path(name).suffix, lambda data: data)
        assert plain(ours) == plain(fresh), f"{name} is stale: {REBUILD}"


#: The asset sources in examples/showcase/public (the rest is what the build makes of them).
SOURCES = ("site.css", "site.js")
REBUILD = "rebuild them: python -m framework assets examples/showcase/public"


# -- the feed: HTML for browsers, RSS for feed readers -----------------------------------------


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        pytest.param(BROWSER, True, id="browser"),
        pytest.param("text/html", True, id="text-html"),
        pytest.param("application/rss+xml, application/xml;q=0.9", False, id="feed-reader"),
        pytest.param("application/rss+xml", False, id="rss"),
        pytest.param("*/*", False, id="curl"),
    ],
)
def test_the_feed_is_a_page_for_browsers_and_rss_for_feed_readers(client, accept, html):
    import xml.etree.ElementTree as ElementTree

    feed = client.get("/feed.xml", headers={"Accept": accept})
    assert "Accept" in feed.headers["Vary"]
    articles = showcase.load_articles()
    if html:
        assert feed.content_type == "text/html"
        assert feed.html.find(id="feed-title").get_text() == "The onion, layer by layer"
        titles = [h2.get_text() for h2 in feed.html.select("article h2")]
        assert titles == [article["title"] for article in articles]
        # The stylesheet parameter is static_url("site.css"): the fingerprinted URL.
        assert feed.html.select_one("link[rel=stylesheet]")["href"] == asset_urls(client.get("/"))["css"]
    else:
        assert feed.content_type == "application/rss+xml"
        channel = ElementTree.fromstring(feed.body).find("channel")
        assert channel.findtext("title") == "The onion, layer by layer"
        items = channel.findall("item")
        assert [item.findtext("title") for item in items] == [article["title"] for article in articles]
        assert items[0].findtext("pubDate") == "Tue, 01 Dec 2026 09:00:00 +0000"


def test_article_text_is_escaped_in_the_feed_and_its_page():
    original = showcase.load_articles

    def tricky():
        return [dict(a, title="<b>&amp; bold</b>") for a in original()]

    showcase.load_articles = tricky
    try:
        site = TestApp(validated(showcase.create_app(storage="memory://")))
    finally:
        showcase.load_articles = original
    rss = site.get("/feed.xml", headers={"Accept": "application/rss+xml"})
    assert b"<title>&lt;b&gt;&amp;amp; bold&lt;/b&gt;</title>" in rss.body
    page = site.get("/feed.xml", headers={"Accept": "text/html"})
    assert page.html.select_one("article h2").get_text() == "<b>&amp; bold</b>"


# -- compression and CORS ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        pytest.param("/", {}, id="page"),
        pytest.param("/feed.xml", {"Accept": "text/html"}, id="feed-page"),
        pytest.param("/feed.xml", {"Accept": "application/rss+xml"}, id="feed-xml"),
        pytest.param("/api/articles", TOKEN, id="api-json"),
    ],
)
def test_bodies_are_gzipped_when_accepted(client, path, headers):
    import gzip

    plain = raw_get(client, path, headers)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    squeezed = raw_get(client, path, {**headers, "Accept-Encoding": "gzip"})
    assert squeezed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in squeezed.headers["Vary"]
    assert len(squeezed.data) < len(plain.data)
    if path != "/api/articles":  # the API's RateLimit field changes from call to call
        assert gzip.decompress(squeezed.data) == plain.data


def test_a_preflight_from_another_site_is_answered_before_any_login_or_limit(client):
    preflight = client.options("/api/articles", headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_int in (200, 204)
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "RateLimit" not in preflight.headers


def test_a_script_on_another_site_reads_the_api_and_its_limits_but_never_with_cookies(client):
    origin = {"Origin": "https://elsewhere.example"}
    answer = client.get("/api/whoami", headers={**TOKEN, **origin})
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    exposed = answer.headers["Access-Control-Expose-Headers"].lower()
    assert {"ratelimit", "ratelimit-policy", "retry-after"} <= {h.strip() for h in exposed.split(",")}
    assert "Access-Control-Allow-Credentials" not in answer.headers
    refused = client.get("/api/whoami", headers={**JSON, **origin}, status=401)
    assert refused.headers["Access-Control-Allow-Origin"] == "*"  # it can read why


def test_the_onion_is_in_the_documented_order():
    layers = [line.split("(", 1)[0] for line in showcase.application.describe()]
    assert layers == ["CORS", "Compress", "StaticFiles", "Sessions", "FormLogin", "TokenAuth",
                      "RateLimit", "Authorize", "XSLT", "<App 'examples.showcase.app': 7 routes>"]


# -- scale out: the README's gunicorn command ---------------------------------------------------


def test_the_same_app_under_gunicorn_4_workers_with_redis_limits_exactly():
    """``SHOWCASE_RATELIMIT_STORAGE=redis://... gunicorn -w 4 examples.showcase.app:application``.

    40 concurrent API calls with the demo token, spread over 4 worker processes, against
    a limit of 12: exactly 12 pass (a memory:// storage would let up to 48 through). A
    login made by one worker holds on the others (every worker shares the secret key),
    and the fingerprinted assets are served by each.
    """
    import http.cookiejar
    import urllib.error
    import urllib.parse
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    from support import Process, RedisServer, free_port

    redis = RedisServer()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        server = Process([sys.executable, "-m", "gunicorn", "-w", "4", "-b", f"127.0.0.1:{port}",
                          "examples.showcase.app:application"], cwd=ROOT,
                         env={"SHOWCASE_RATELIMIT_STORAGE": f"{redis.url}/0",
                              "SHOWCASE_API_LIMIT": "12/minute"},
                         wait_for=("127.0.0.1", port), timeout=60)
        try:
            for _ in range(4):  # the workers have started (a static file: not counted)
                with urllib.request.urlopen(base + "/static/site.css", timeout=60) as response:
                    assert response.status == 200

            def call(_: int) -> int:
                request = urllib.request.Request(base + "/api/whoami", headers=TOKEN)
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        return response.status
                except urllib.error.HTTPError as error:
                    error.close()
                    return error.code

            with ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(call, range(40)))
            assert statuses.count(200) == 12 and statuses.count(429) == 28, statuses

            cookies = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
            browser = urllib.request.build_opener(cookies)
            with browser.open(base + "/login", timeout=30) as response:
                form = response.read().decode("utf-8")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
            posted = urllib.parse.urlencode({"username": "admin", "password": "admin-pass",
                                             "csrf_token": token, "next": "/admin"}).encode()
            with browser.open(base + "/login", data=posted, timeout=30) as response:
                assert response.url == base + "/admin" and "Welcome, admin!" in response.read().decode()
            for _ in range(8):  # new connections, whichever worker takes them
                with browser.open(base + "/admin", timeout=30) as response:
                    page = response.read().decode("utf-8")
                    assert 'id="admin-title"' in page
            css = re.search(r'href="(/static/site\.[0-9a-f]{8}\.css)"', page).group(1)
            with urllib.request.urlopen(base + css, timeout=30) as response:
                assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        finally:
            log = server.stop()
        assert "Traceback" not in log, log
    finally:
        redis.stop()
