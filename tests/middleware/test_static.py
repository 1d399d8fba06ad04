"""middleware/static.py: hits, misses, methods, index files, options, and paths that try to leave.

Every request goes through ``framework.testing.validated`` (``wsgiref.validate`` around the
layer and the app). Each traversal attempt proves the secret's bytes appear nowhere in the
response: not in the status, a header or the body.
"""

from __future__ import annotations

import logging
import os
import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.testing import TestClient, validated
from middleware.static import StaticFiles

SECRET = b"TOP-SECRET-0xC0FFEE"
HTML, CSS, JS = "text/html; charset=utf-8", "text/css; charset=utf-8", "text/javascript; charset=utf-8"
APP_JS = b"console.log('hello');\n" * 40


BOTH_MODES = pytest.mark.parametrize(
    "autorefresh", [pytest.param(False, id="indexed"), pytest.param(True, id="autorefresh")])


def fallback(environ, start_response):
    """The app inside: says it was reached, and what it saw."""
    body = f"app:{environ['REQUEST_METHOD']} {environ['PATH_INFO']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def site(tmp_path):
    """``tmp_path/public`` served, with a secret next to it and dotfiles inside it."""
    public = tmp_path / "public"
    (public / "css").mkdir(parents=True)
    (public / "docs" / "guide").mkdir(parents=True)
    (public / "app.js").write_bytes(APP_JS)
    (public / "css" / "site.css").write_text("body { color: red }\n")
    (public / "docs" / "index.html").write_text("<h1>Docs</h1>\n")
    (public / "docs" / "guide" / "index.html").write_text("<h1>Guide</h1>\n")
    (public / "nodex").mkdir()
    (public / "nodex" / "a.txt").write_text("a\n")
    (public / "logo.webp").write_bytes(b"RIFF\x00\x00\x00\x00WEBP")
    (public / "data.bin").write_bytes(bytes(range(256)))
    (public / "ünïcode file.txt").write_text("unicode\n")
    (public / ".env").write_bytes(SECRET)
    (public / ".git").mkdir()
    (public / ".git" / "config").write_bytes(SECRET)
    (public / "css" / ".hidden.css").write_bytes(SECRET)
    (tmp_path / "secret.txt").write_bytes(SECRET)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    (public / "link-out.txt").symlink_to(tmp_path / "secret.txt")
    (public / "dir-out").symlink_to(outside)
    (public / "link-in.js").symlink_to(public / "app.js")
    (public / "css-link").symlink_to(public / "css")
    os.mkfifo(public / "pipe")
    return public


def client(layer) -> TestClient:
    return TestClient(validated(layer))


def serve(site, **options) -> TestClient:
    return client(StaticFiles(fallback, mounts={"/static": str(site)}, **options))


def assert_no_secret(response) -> None:
    seen = (response.status + repr(response.headers.to_wsgi_list())).encode() + response.data
    assert SECRET not in seen


# -- hits ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "media"),
    [
        pytest.param("/static/app.js", APP_JS, JS, id="js"),
        pytest.param("/static/css/site.css", b"body { color: red }\n", CSS, id="nested"),
        pytest.param("/static/logo.webp", b"RIFF\x00\x00\x00\x00WEBP", "image/webp", id="webp"),
        pytest.param("/static/data.bin", bytes(range(256)), "application/octet-stream", id="binary"),
        pytest.param("/static/docs/", b"<h1>Docs</h1>\n", HTML, id="index"),
        pytest.param("/static/docs/guide/", b"<h1>Guide</h1>\n", HTML, id="nested-index"),
        pytest.param("/static/docs/index.html", b"<h1>Docs</h1>\n", HTML, id="index-by-name"),
        pytest.param("/static/link-in.js", APP_JS, JS, id="symlink-inside"),
        pytest.param("/static/css-link/site.css", b"body { color: red }\n", CSS,
                     id="symlinked-dir-inside"),
        pytest.param("/static/%C3%BCn%C3%AFcode%20file.txt", b"unicode\n", "text/plain; charset=utf-8",
                     id="utf-8-name"),
    ],
)
@BOTH_MODES
def test_a_hit_is_served_whole(site, path, body, media, autorefresh):
    response = serve(site, autorefresh=autorefresh).get(path)
    assert response.status_code == 200
    assert response.data == body
    assert response.headers["Content-Type"] == media
    assert response.headers["Content-Length"] == str(len(body))
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.headers["ETag"].startswith('"')
    assert response.headers["Last-Modified"].endswith(" GMT")


def test_head_has_the_headers_of_get_and_no_body(site):
    static = serve(site)
    got, head = static.get("/static/app.js"), static.head("/static/app.js")
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers == got.headers


# -- misses and other methods -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", "/", id="root"),
        pytest.param("GET", "/api/users", id="outside-the-mount"),
        pytest.param("GET", "/staticfiles/app.js", id="prefix-not-at-a-segment-boundary"),
        pytest.param("GET", "/static/missing.js", id="missing-file"),
        pytest.param("GET", "/static/app.js/", id="file-with-a-slash"),
        pytest.param("GET", "/static/nodex/", id="dir-without-index"),
        pytest.param("GET", "/static/nodex", id="dir-without-index-no-slash"),
        pytest.param("GET", "/static/pipe", id="fifo"),
        pytest.param("GET", "/static", id="mount-without-index"),
        pytest.param("POST", "/static/app.js", id="post"),
        pytest.param("PUT", "/static/app.js", id="put"),
        pytest.param("DELETE", "/static/app.js", id="delete"),
        pytest.param("OPTIONS", "/static/app.js", id="options"),
        pytest.param("POST", "/static/docs", id="post-to-a-dir"),
        pytest.param("POST", "/static/../secret.txt", id="post-traversal-is-the-apps"),
    ],
)
@BOTH_MODES
def test_a_miss_falls_through_to_the_app_untouched(site, method, path, autorefresh):
    response = serve(site, autorefresh=autorefresh).open(path, method=method)
    assert response.status_code == 200
    assert response.data == f"app:{method} {path}".encode()
    assert_no_secret(response)


def test_the_apps_body_is_returned_as_is(site):
    closed = []

    class Body:
        def __iter__(self):
            yield b"streamed"

        def close(self):
            closed.append(True)

    body = Body()

    def app(environ, start_response):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return body

    layer = StaticFiles(app, mounts={"/static": str(site)})
    assert layer({"PATH_INFO": "/nope", "REQUEST_METHOD": "GET"}, lambda s, h, e=None: None) is body
    assert client(StaticFiles(app, mounts={"/static": str(site)})).get("/nope").data == b"streamed"
    assert closed == [True]


# -- directories -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query", "script_name", "location"),
    [
        pytest.param("/static/docs", "", "", "/static/docs/", id="dir"),
        pytest.param("/static/docs/guide", "", "", "/static/docs/guide/", id="nested-dir"),
        pytest.param("/static/docs", "a=1&b=%20x", "", "/static/docs/?a=1&b=%20x", id="query-kept"),
        pytest.param("/static/docs", "", "/app", "/app/static/docs/", id="under-script-name"),
    ],
)
def test_a_directory_without_its_slash_redirects(site, path, query, script_name, location):
    (site / "index.html").write_text("root")
    response = serve(site).get(path, query_string=query, environ_overrides={"SCRIPT_NAME": script_name})
    assert response.status_code == 301
    assert response.headers["Location"] == location
    assert response.data == b""


def test_the_mount_itself_redirects_to_its_index(site):
    (site / "index.html").write_text("root")
    static = serve(site)
    assert static.get("/static").headers["Location"] == "/static/"
    assert static.get("/static/").data == b"root"


def test_index_none_serves_no_directory(site):
    static = serve(site, index=None)
    assert static.get("/static/docs/").data == b"app:GET /static/docs/"
    assert static.get("/static/docs").data == b"app:GET /static/docs"
    assert static.get("/static/docs/index.html").data == b"<h1>Docs</h1>\n"


# -- paths that try to leave -----------------------------------------------------------------

TRAVERSALS = [
    pytest.param("/static/../secret.txt", id="dot-dot"),
    pytest.param("/static/css/../../secret.txt", id="dot-dot-deeper"),
    pytest.param("/static/./app.js", id="dot-segment"),
    pytest.param("/static/%2e%2e/secret.txt", id="encoded-dots"),
    pytest.param("/static/%2E%2E/secret.txt", id="encoded-dots-upper"),
    pytest.param("/static/..%2fsecret.txt", id="encoded-slash"),
    pytest.param("/static/%2e%2e%2fsecret.txt", id="encoded-dots-and-slash"),
    pytest.param("/static/..%5csecret.txt", id="encoded-backslash"),
    pytest.param("/static/..\\secret.txt", id="backslash"),
    pytest.param("/static/app.js\x00.png", id="nul"),
    pytest.param("/static/%00", id="encoded-nul"),
    pytest.param("/static//etc/passwd", id="absolute"),
    pytest.param("/static/" + "/" * 3 + "secret.txt", id="many-slashes"),
    pytest.param("/static/C:/Windows/win.ini", id="drive-letter"),
    pytest.param("/static/c:secret.txt", id="drive-relative"),
    pytest.param("/static/.env", id="dotfile"),
    pytest.param("/static/.git/config", id="dot-dir"),
    pytest.param("/static/css/.hidden.css", id="nested-dotfile"),
    pytest.param("/static/%252e%252e/secret.txt", id="double-encoded"),
    pytest.param("/static/css\n/site.css", id="newline"),
    pytest.param("/static/css/%2e%2e/%2e%2e/secret.txt", id="encoded-dots-deeper"),
]


@pytest.mark.parametrize("path", TRAVERSALS)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
@BOTH_MODES
@pytest.mark.parametrize("raw", [pytest.param(False, id="as-url"), pytest.param(True, id="as-path-info")])
def test_a_path_that_tries_to_leave_is_404_and_logged(site, path, method, autorefresh, raw, caplog):
    """As a URL (the client decodes it, as a server would) and as the raw PATH_INFO a lax server passes."""
    static = serve(site, autorefresh=autorefresh)
    with caplog.at_level(logging.WARNING, logger="middleware.static"):
        if raw:
            response = static.open("/x", method=method, environ_overrides={"PATH_INFO": path})
        else:
            response = static.open(path.replace("\n", "%0A"), method=method)
    assert response.status_code == 404
    assert_no_secret(response)
    assert "refused the path" in caplog.text
    assert SECRET.decode() not in caplog.text


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/static/link-out.txt", id="symlink-out"),
        pytest.param("/static/dir-out/secret.txt", id="symlinked-dir-out"),
        pytest.param("/static/dir-out/", id="symlinked-dir-out-index"),
    ],
)
@BOTH_MODES
def test_a_symlink_out_of_the_directory_is_never_followed(site, path, autorefresh):
    (site.parent / "outside" / "index.html").write_bytes(SECRET)
    response = serve(site, autorefresh=autorefresh).get(path)
    assert response.data == f"app:GET {path}".encode()  # not a file of ours: the app's
    assert_no_secret(response)


def test_the_directory_may_itself_be_a_symlink(site, tmp_path):
    (tmp_path / "linked").symlink_to(site)
    response = client(StaticFiles(fallback, mounts={"/s": str(tmp_path / "linked")})).get("/s/app.js")
    assert response.data == APP_JS


def test_a_file_deleted_after_start_up_falls_through(site, caplog):
    static = serve(site)
    (site / "app.js").unlink()
    with caplog.at_level(logging.WARNING, logger="middleware.static"):
        assert static.get("/static/app.js").data == b"app:GET /static/app.js"
    assert "cannot open" in caplog.text


# -- options ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        pytest.param({"mounts": {}}, ValueError, "at least one mount", id="no-mounts"),
        pytest.param({"mounts": {"/static": "MISSING"}}, ValueError, "'MISSING'", id="missing-dir"),
        pytest.param({"mounts": {"static": "."}}, ValueError, "must start with '/'",
                     id="prefix-without-slash"),
        pytest.param({"mounts": {"/s": ".", "/s/": "."}}, ValueError, "twice", id="same-prefix-twice"),
        pytest.param({"max_age": -1}, ValueError, "0 or more", id="negative-max-age"),
        pytest.param({"max_age": 1.5}, TypeError, "whole number", id="float-max-age"),
        pytest.param({"max_age": True}, TypeError, "whole number", id="bool-max-age"),
        pytest.param({"immutable": "(["}, ValueError, "not a valid regex", id="bad-regex"),
        pytest.param({"immutable": 8}, TypeError, "regex string", id="immutable-not-a-string"),
        pytest.param({"index": "a/index.html"}, ValueError, "file name", id="index-with-slash"),
        pytest.param({"index": ""}, ValueError, "file name", id="empty-index"),
        pytest.param({"manifest": "nope.json"}, ValueError, "'nope.json' does not exist",
                     id="missing-manifest"),
        pytest.param({"manifest": {"/other": "m.json"}}, ValueError, "not one of the mounts",
                     id="manifest-for-an-unknown-mount"),
        pytest.param({"mounts": {"/a": ".", "/b": "."}, "manifest": "m.json"}, ValueError, "several mounts",
                     id="one-manifest-several-mounts"),
    ],
)
def test_bad_options_are_refused_with_a_sentence(site, options, error, words):
    options = {"mounts": {"/static": str(site)}, **options}
    with pytest.raises(error, match=re.escape(words)) as raised:
        StaticFiles(fallback, **options)
    assert str(raised.value).endswith(".")


def test_app_must_be_callable(site):
    with pytest.raises(TypeError, match="WSGI callable"):
        StaticFiles(None, mounts={"/static": str(site)})


def test_describe_is_one_line(site):
    line = StaticFiles(fallback, mounts={"/static": str(site)}, max_age=300).describe()
    assert "\n" not in line
    assert line.startswith("StaticFiles(/static -> ")
    assert "max_age=300" in line
    assert "files" in line


def test_app_is_kept(site):
    assert StaticFiles(fallback, mounts={"/static": str(site)}).app is fallback


# -- several mounts, and a mount at the root -------------------------------------------------------


@pytest.fixture
def two(site, tmp_path):
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    (vendor / "lib.js").write_text("lib")
    return client(StaticFiles(fallback, mounts={"/assets": str(site), "/vendor": str(vendor)}))


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        pytest.param("/assets/app.js", 200, APP_JS, id="first-mount"),
        pytest.param("/vendor/lib.js", 200, b"lib", id="second-mount"),
        pytest.param("/assets/../secret.txt", 404, None, id="traversal-in-the-first"),
        pytest.param("/vendor/.env", 404, None, id="dotfile-in-the-second"),
        pytest.param("/other/../x", 200, b"app:GET /other/../x", id="between-the-mounts-is-the-apps"),
        pytest.param("/assetsx/../x", 200, b"app:GET /assetsx/../x", id="not-at-a-segment-boundary"),
        pytest.param("/vendor/lib.js/", 200, b"app:GET /vendor/lib.js/", id="miss"),
    ],
)
def test_several_mounts(two, path, status, body):
    response = two.get("/x", environ_overrides={"PATH_INFO": path})
    assert response.status_code == status
    if body is not None:
        assert response.data == body
    assert_no_secret(response)


def test_the_longer_prefix_wins(site, tmp_path):
    inner = tmp_path / "inner"
    (inner).mkdir()
    (inner / "app.js").write_text("inner")
    (site / "sub").mkdir()
    (site / "sub" / "app.js").write_text("outer")
    static = client(StaticFiles(fallback, mounts={"/s/sub": str(inner), "/s": str(site)}))
    assert static.get("/s/sub/app.js").data == b"inner"
    assert static.get("/s/app.js").data == APP_JS


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        pytest.param("/app.js", 200, APP_JS, id="file"),
        pytest.param("/docs/", 200, b"<h1>Docs</h1>\n", id="index"),
        pytest.param("/api/users", 200, b"app:GET /api/users", id="miss"),
        pytest.param("/../secret.txt", 404, None, id="traversal"),
        pytest.param("/.env", 404, None, id="dotfile"),
    ],
)
@BOTH_MODES
def test_a_mount_at_the_root(site, path, status, body, autorefresh):
    static = client(StaticFiles(fallback, mounts={"/": str(site)}, autorefresh=autorefresh))
    response = static.get("/x", environ_overrides={"PATH_INFO": path})
    assert response.status_code == status
    if body is not None:
        assert response.data == body
    assert_no_secret(response)


def test_the_apps_start_response_is_the_servers_so_exc_info_reaches_it(site):
    seen = []

    def failing(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("boom")
        except ValueError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"error"]

    def server_start_response(status, headers, exc_info=None):
        seen.append((status, exc_info[0] if exc_info else None))

    layer = StaticFiles(failing, mounts={"/static": str(site)})
    assert layer({"REQUEST_METHOD": "GET", "PATH_INFO": "/page", "SCRIPT_NAME": ""},
                 server_start_response) == [b"error"]
    assert seen == [("200 OK", None), ("500 Internal Server Error", ValueError)]


# -- any path at all ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    public = root / "public"
    public.mkdir()
    (public / "app.js").write_bytes(APP_JS)
    (public / ".env").write_bytes(SECRET)
    (root / "secret.txt").write_bytes(SECRET)
    (public / "out.txt").symlink_to(root / "secret.txt")
    return public


SEGMENTS = st.sampled_from(["..", ".", "", "%2e%2e", "%2f", "%5c", "\\", "\x00", "C:", ".env", "secret.txt",
                            "out.txt", "app.js", "public", "%252e", "..;", "...", "%c0%ae", "\u2025", "ü"])


@given(segments=st.lists(SEGMENTS | st.text(max_size=6), max_size=6),
       method=st.sampled_from(["GET", "HEAD"]), autorefresh=st.booleans())
@settings(max_examples=300, deadline=None)
def test_no_path_reaches_the_secret_or_a_500(fuzz_site, segments, method, autorefresh):
    path = "/static/" + "/".join(segments)
    layer = StaticFiles(fallback, mounts={"/static": str(fuzz_site)}, autorefresh=autorefresh)
    environ_path = path.encode("utf-8", "surrogatepass").decode("latin-1")
    response = client(layer).open("/x", method=method, environ_overrides={"PATH_INFO": environ_path})
    assert response.status_code in (200, 301, 404)
    assert_no_secret(response)


def test_a_symlink_loop_is_not_followed(site):
    (site / "css" / "loop").symlink_to(site)
    static = serve(site)  # indexing ends
    assert static.get("/static/css/loop/app.js").data == b"app:GET /static/css/loop/app.js"
    assert static.get("/static/css/site.css").status_code == 200
