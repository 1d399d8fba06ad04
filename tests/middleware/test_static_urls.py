"""middleware/static.py: ``environ["framework.static_url"]``, manifests, and ``autorefresh``.

Every request goes through ``framework.testing.validated`` (``wsgiref.validate``).
"""

from __future__ import annotations

import json
import os
from urllib.parse import unquote

import pytest

from framework.testing import TestClient, validated
from middleware.mount import Mount
from middleware.static import StaticFiles


def url_of(environ, start_response):
    """Answers ``static_url(?name)`` for the name in the query string."""
    name = unquote(environ["QUERY_STRING"].encode("latin-1").decode("utf-8"))
    body = environ["framework.static_url"](name).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def manifest(directory, paths) -> None:
    (directory / "manifest.json").write_text(json.dumps({"version": 1, "paths": paths}))


@pytest.fixture
def public(tmp_path):
    public = tmp_path / "public"
    (public / "css").mkdir(parents=True)
    (public / "app.js").write_text("app")
    (public / "app.3f2a9c1b.js").write_text("app")
    (public / "css" / "site.css").write_text("css")
    (public / "css" / "site.0a1b2c3d.css").write_text("css")
    (public / "plain.txt").write_text("plain")
    (public / "ünï.txt").write_text("u")
    manifest(public, {"app.js": "app.3f2a9c1b.js", "css/site.css": "css/site.0a1b2c3d.css"})
    return public


@pytest.fixture
def vendor(tmp_path):
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    (vendor / "lib.js").write_text("lib")
    return vendor


def ask(layer, name: str, script_name: str = "") -> str:
    client = TestClient(validated(layer))
    return client.get("/page", query_string=name, environ_overrides={"SCRIPT_NAME": script_name}).text


@pytest.mark.parametrize(
    ("name", "script_name", "url"),
    [
        pytest.param("app.js", "", "/static/app.3f2a9c1b.js", id="from-the-manifest"),
        pytest.param("/app.js", "", "/static/app.3f2a9c1b.js", id="leading-slash-ignored"),
        pytest.param("css/site.css", "", "/static/css/site.0a1b2c3d.css", id="nested"),
        pytest.param("plain.txt", "", "/static/plain.txt", id="not-in-the-manifest"),
        pytest.param("missing.txt", "", "/static/missing.txt", id="missing-still-under-the-mount"),
        pytest.param("ünï.txt", "", "/static/%C3%BCn%C3%AF.txt", id="percent-encoded"),
        pytest.param("app.js", "/shop", "/shop/static/app.3f2a9c1b.js", id="under-script-name"),
        pytest.param("a b.txt", "/my app", "/my%20app/static/a%20b.txt", id="spaces-encoded"),
    ],
)
@pytest.mark.parametrize("autorefresh", [pytest.param(False, id="indexed"),
                                         pytest.param(True, id="autorefresh")])
def test_static_url(public, name, script_name, url, autorefresh):
    layer = StaticFiles(url_of, mounts={"/static": str(public)}, autorefresh=autorefresh)
    assert ask(layer, name, script_name) == url


def test_without_a_manifest_the_name_is_kept(public):
    (public / "manifest.json").unlink()
    assert ask(StaticFiles(url_of, mounts={"/static": str(public)}), "app.js") == "/static/app.js"


def test_an_explicit_manifest(public, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    manifest(other, {"app.js": "app.ffffffff.js"})
    layer = StaticFiles(url_of, mounts={"/static": str(public)}, manifest=str(other / "manifest.json"))
    assert ask(layer, "app.js") == "/static/app.ffffffff.js"


def test_a_malformed_manifest_is_refused_at_start_up(public):
    (public / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match="manifest.json"):
        StaticFiles(url_of, mounts={"/static": str(public)})


@pytest.mark.parametrize(
    ("name", "url"),
    [
        pytest.param("app.js", "/static/app.3f2a9c1b.js", id="first-mount-manifest"),
        pytest.param("lib.js", "/vendor/lib.js", id="second-mount-has-it"),
        pytest.param("nowhere.js", "/static/nowhere.js", id="nobody-has-it-first-mount"),
    ],
)
def test_several_mounts(public, vendor, name, url):
    layer = StaticFiles(url_of, mounts={"/static": str(public), "/vendor": str(vendor)})
    assert ask(layer, name) == url


def test_manifests_per_mount(public, vendor):
    manifest(vendor, {"lib.js": "lib.12345678.js"})
    layer = StaticFiles(url_of, mounts={"/static": str(public), "/vendor": str(vendor)},
                        manifest={"/vendor": str(vendor / "manifest.json")})
    assert ask(layer, "lib.js") == "/vendor/lib.12345678.js"
    assert ask(layer, "app.js") == "/static/app.js"  # an explicit mapping: no manifest for /static


def test_nested_layers_fall_back_to_the_outer_one(public, vendor):
    inner = StaticFiles(url_of, mounts={"/vendor": str(vendor)})
    outer = StaticFiles(inner, mounts={"/static": str(public)})
    assert ask(outer, "lib.js") == "/vendor/lib.js"
    assert ask(outer, "app.js") == "/static/app.3f2a9c1b.js"
    assert ask(outer, "nowhere.js") == "/static/nowhere.js"  # the outer one's first mount


def test_under_a_mount_the_url_has_the_mounts_script_name(public):
    application = Mount(None, mounts={"/shop": StaticFiles(url_of, mounts={"/static": str(public)})})
    response = TestClient(validated(application)).get("/shop/page", query_string="app.js")
    assert response.text == "/shop/static/app.3f2a9c1b.js"


def test_requests_the_layer_answers_get_no_static_url(public):
    seen = []

    def app(environ, start_response):
        seen.append(environ.get("framework.static_url"))
        return url_of(environ, start_response)

    client = TestClient(validated(StaticFiles(app, mounts={"/static": str(public)})))
    client.get("/static/app.js")
    assert seen == []
    client.post("/static/app.js")  # not answered by the layer: the app sees static_url
    assert callable(seen[0])


# -- autorefresh ----------------------------------------------------------------------------------


def test_autorefresh_serves_a_file_added_after_start_up(public):
    refreshing = TestClient(validated(StaticFiles(url_of, mounts={"/static": str(public)}, autorefresh=True)))
    indexed = TestClient(validated(StaticFiles(url_of, mounts={"/static": str(public)})))
    (public / "new.txt").write_text("new")
    assert refreshing.get("/static/new.txt").text == "new"
    assert indexed.get("/static/new.txt").text == "/static/"  # a miss: the app's answer (the query is empty)


def test_autorefresh_gives_a_changed_file_new_validators(public):
    client = TestClient(validated(StaticFiles(url_of, mounts={"/static": str(public)}, autorefresh=True)))
    first = client.get("/static/plain.txt")
    (public / "plain.txt").write_text("changed, and longer")
    os.utime(public / "plain.txt", (2_000_000_000, 2_000_000_000))
    second = client.get("/static/plain.txt", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert second.text == "changed, and longer"
    assert second.headers["ETag"] != first.headers["ETag"]
    assert second.headers["Last-Modified"] != first.headers["Last-Modified"]


def test_autorefresh_sees_a_new_sibling_and_a_deleted_file(public):
    client = TestClient(validated(StaticFiles(url_of, mounts={"/static": str(public)}, autorefresh=True)))
    assert "Vary" not in client.get("/static/plain.txt").headers
    (public / "plain.txt.gz").write_bytes(b"\x1f\x8b pretend")
    response = client.get("/static/plain.txt", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    (public / "plain.txt").unlink()
    assert client.get("/static/plain.txt").text == "/static/"


def test_autorefresh_serves_a_new_directory_index(public):
    client = TestClient(validated(StaticFiles(url_of, mounts={"/static": str(public)}, autorefresh=True)))
    (public / "docs").mkdir()
    (public / "docs" / "index.html").write_text("docs")
    assert client.get("/static/docs").headers["Location"] == "/static/docs/"
    assert client.get("/static/docs/").text == "docs"


def test_autorefresh_rereads_the_manifest(public):
    layer = StaticFiles(url_of, mounts={"/static": str(public)}, autorefresh=True)
    assert ask(layer, "app.js") == "/static/app.3f2a9c1b.js"
    manifest(public, {"app.js": "app.aaaaaaaa.js"})
    os.utime(public / "manifest.json", (2_000_000_000, 2_000_000_000))
    assert ask(layer, "app.js") == "/static/app.aaaaaaaa.js"
