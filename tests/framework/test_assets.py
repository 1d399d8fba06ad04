"""framework.assets: reading the manifest, building fingerprinted copies and siblings."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import sys

import brotli
import pytest

from framework import assets
from framework.assets import (
    MANIFEST_NAME,
    build_assets,
    fingerprint,
    fingerprinted_name,
    is_compressible,
    read_manifest,
)
from framework.assets_refs import rewrite_references


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- read_manifest -----------------------------------------------------------------------


def test_read_manifest_returns_the_paths(tmp_path):
    manifest = write(
        tmp_path / MANIFEST_NAME,
        json.dumps(
            {"version": 1, "paths": {"app.js": "app.3f2a9c1b.js", "css/site.css": "css/site.0a1b2c3d.css"}}
        ),
    )
    assert read_manifest(manifest) == {"app.js": "app.3f2a9c1b.js", "css/site.css": "css/site.0a1b2c3d.css"}


def test_read_manifest_accepts_an_empty_paths_object(tmp_path):
    assert read_manifest(write(tmp_path / MANIFEST_NAME, '{"version": 1, "paths": {}}')) == {}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        pytest.param("{not json", "not valid UTF-8 JSON", id="not-json"),
        pytest.param("", "not valid UTF-8 JSON", id="empty-file"),
        pytest.param("[1, 2]", "'paths' object", id="a-list"),
        pytest.param('{"version": 1}', "'paths' object", id="no-paths"),
        pytest.param('{"version": 1, "paths": ["app.js"]}', "'paths' object", id="paths-a-list"),
        pytest.param('{"paths": {}}', "version None", id="no-version"),
        pytest.param('{"version": 2, "paths": {}}', "version 2", id="version-2"),
        pytest.param('{"version": true, "paths": {}}', "version True", id="version-true"),
        pytest.param('{"version": 1, "paths": {"app.js": 3}}', "not a string", id="int-value"),
        pytest.param('{"version": 1, "paths": {"app.js": null}}', "not a string", id="null-value"),
        pytest.param('{"version": 1, "paths": {"app.js": "/etc/passwd"}}', "'/etc/passwd'", id="absolute"),
        pytest.param('{"version": 1, "paths": {"/app.js": "app.1.js"}}', "key '/app.js'", id="absolute-key"),
        pytest.param('{"version": 1, "paths": {"app.js": "../secret"}}', "'../secret'", id="dotdot"),
        pytest.param('{"version": 1, "paths": {"app.js": "a/../../b"}}', "'a/../../b'", id="inner-dotdot"),
        pytest.param('{"version": 1, "paths": {"app.js": "a\\\\b.js"}}', "forward slashes", id="backslash"),
        pytest.param('{"version": 1, "paths": {"app.js": "C:/x.js"}}', "'C:/x.js'", id="drive"),
        pytest.param('{"version": 1, "paths": {"app.js": "a//b.js"}}', "empty segments", id="empty-segment"),
        pytest.param('{"version": 1, "paths": {"app.js": ""}}', "value ''", id="empty-value"),
        pytest.param('{"version": 1, "paths": {"app.js": "a\\u0000.js"}}', "not a relative", id="nul"),
    ],
)
def test_a_malformed_manifest_is_a_full_sentence_naming_the_file(tmp_path, text, says):
    manifest = write(tmp_path / MANIFEST_NAME, text)
    with pytest.raises(ValueError, match="manifest") as caught:
        read_manifest(manifest)
    message = str(caught.value)
    assert manifest in message
    assert says in message
    assert message.endswith(".")


def test_a_manifest_that_is_not_utf8_is_a_value_error(tmp_path):
    manifest = tmp_path / MANIFEST_NAME
    manifest.write_bytes(b'{"version": 1, "paths": {"\xff": "x"}}')
    with pytest.raises(ValueError, match="not valid UTF-8 JSON"):
        read_manifest(str(manifest))


def test_a_missing_manifest_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_manifest(str(tmp_path / MANIFEST_NAME))


# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("app.js", "app.3f2a9c1b.js", id="simple"),
        pytest.param("app.min.js", "app.min.3f2a9c1b.js", id="before-the-last-suffix"),
        pytest.param("css/site.css", "css/site.3f2a9c1b.css", id="in-a-folder"),
        pytest.param("LICENSE", "LICENSE.3f2a9c1b", id="no-suffix"),
        pytest.param("a.b/LICENSE", "a.b/LICENSE.3f2a9c1b", id="dotted-folder-no-suffix"),
    ],
)
def test_fingerprinted_name(path, expected):
    assert fingerprinted_name(path, "3f2a9c1b") == expected


def test_the_fingerprint_is_the_first_8_hex_of_sha256():
    assert fingerprint(b"hello") == hashlib.sha256(b"hello").hexdigest()[:8] == "2cf24dba"


@pytest.mark.parametrize(
    ("path", "compressible"),
    [
        pytest.param("app.js", True, id="js"),
        pytest.param("app.mjs", True, id="mjs"),
        pytest.param("site.css", True, id="css"),
        pytest.param("index.html", True, id="html"),
        pytest.param("data.json", True, id="json"),
        pytest.param("app.js.map", True, id="map"),
        pytest.param("logo.svg", True, id="svg"),
        pytest.param("feed.xml", True, id="xml"),
        pytest.param("lib.wasm", True, id="wasm"),
        pytest.param("README", False, id="unknown"),
        pytest.param("notes.TXT", True, id="upper-case"),
        pytest.param("photo.jpg", False, id="jpeg"),
        pytest.param("logo.png", False, id="png"),
        pytest.param("font.woff2", False, id="woff2"),
        pytest.param("archive.zip", False, id="zip"),
    ],
)
def test_is_compressible(path, compressible):
    assert is_compressible(path) is compressible


# --- build_assets --------------------------------------------------------------------------

SCRIPT = b"function hello() { return 'hello, world'; }\n" * 40
STYLE = b"body { color: #333; margin: 0 auto; }\n" * 40
IMAGE = bytes(range(256)) * 2


@pytest.fixture
def public(tmp_path):
    root = tmp_path / "public"
    (root / "css").mkdir(parents=True)
    (root / "app.js").write_bytes(SCRIPT)
    (root / "app.min.js").write_bytes(SCRIPT + b"//min\n")
    (root / "css" / "site.css").write_bytes(STYLE)
    (root / "logo.png").write_bytes(IMAGE)
    (root / "tiny.txt").write_bytes(b"x")
    (root / "LICENSE").write_bytes(b"MIT\n")
    (root / ".env").write_bytes(b"SECRET=1\n")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_bytes(b"[core]\n")
    return root


def listing(root):
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def stats(root):
    return {name: (root / name).stat().st_mtime_ns for name in listing(root)}


def test_build_writes_copies_siblings_and_the_manifest(public):
    report = build_assets(str(public))
    digest = fingerprint(SCRIPT)
    expected = {
        "app.js": f"app.{digest}.js",
        "app.min.js": f"app.min.{fingerprint(SCRIPT + b'//min' + bytes([10]))}.js",
        "css/site.css": f"css/site.{fingerprint(STYLE)}.css",
        "logo.png": f"logo.{fingerprint(IMAGE)}.png",
        "tiny.txt": f"tiny.{fingerprint(b'x')}.txt",
        "LICENSE": f"LICENSE.{fingerprint(b'MIT' + bytes([10]))}",
    }
    assert report.manifest == expected
    assert read_manifest(str(public / MANIFEST_NAME)) == expected
    for name, target in expected.items():
        assert (public / target).read_bytes() == (public / name).read_bytes()
    for name in ("app.js", f"app.{digest}.js", "css/site.css", expected["css/site.css"]):
        assert gzip.decompress((public / f"{name}.gz").read_bytes()) == (public / name).read_bytes()
        assert brotli.decompress((public / f"{name}.br").read_bytes()) == (public / name).read_bytes()
    # Not compressible (an image), or no smaller compressed (one byte): no siblings.
    for name in ("logo.png", expected["logo.png"], "tiny.txt", expected["tiny.txt"]):
        assert not (public / f"{name}.gz").exists()
        assert not (public / f"{name}.br").exists()
    # Dotfiles are neither copied nor named.
    assert [name for name in listing(public) if ".env" in name or ".git" in name] == [".env", ".git/config"]
    assert report.saved["gzip"] > 0
    assert report.saved["br"] > 0
    assert report.original_bytes == len(SCRIPT) * 2 + len(b"//min\n") + len(STYLE) + 1
    assert "6 files fingerprinted" in report.summary()
    assert not [name for name in listing(public) if name.endswith(".tmp")]


def test_the_manifest_is_sorted_json_and_gzip_is_reproducible(public, tmp_path):
    build_assets(str(public))
    text = (public / MANIFEST_NAME).read_text(encoding="utf-8")
    data = json.loads(text)
    assert data["version"] == 1
    assert list(data["paths"]) == sorted(data["paths"])
    assert text.endswith("\n")
    gz = (public / "app.js.gz").read_bytes()
    assert gz[4:8] == bytes(4)  # the gzip header's mtime is 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "app.js").write_bytes(SCRIPT)
    build_assets(str(other))
    assert (other / "app.js.gz").read_bytes() == gz


def test_running_again_changes_nothing(public):
    build_assets(str(public))
    before, mtimes = listing(public), stats(public)
    again = build_assets(str(public))
    assert again.written == []
    assert again.removed == []
    assert listing(public) == before
    assert stats(public) == mtimes
    assert len(again.manifest) == 6


def test_without_the_manifest_copies_are_not_fingerprinted_again(public):
    build_assets(str(public))
    before = listing(public)
    (public / MANIFEST_NAME).unlink()
    report = build_assets(str(public))
    assert listing(public) == before
    assert len(report.manifest) == 6


def test_a_changed_file_replaces_its_stale_copy_and_siblings(public):
    old = build_assets(str(public)).manifest["app.js"]
    (public / "app.js").write_bytes(SCRIPT + b"// changed\n")
    report = build_assets(str(public))
    new = report.manifest["app.js"]
    assert new != old
    assert (public / new).read_bytes() == SCRIPT + b"// changed\n"
    for name in (old, f"{old}.gz", f"{old}.br"):
        assert not (public / name).exists()
        assert str(public / name) in report.removed
    assert gzip.decompress((public / "app.js.gz").read_bytes()) == SCRIPT + b"// changed\n"
    assert gzip.decompress((public / f"{new}.gz").read_bytes()) == SCRIPT + b"// changed\n"


def test_a_removed_file_loses_its_copy_and_manifest_entry(public):
    old = build_assets(str(public)).manifest["css/site.css"]
    (public / "css" / "site.css").unlink()
    for suffix in (".gz", ".br"):
        (public / "css" / f"site.css{suffix}").unlink()
    report = build_assets(str(public))
    assert "css/site.css" not in report.manifest
    assert not (public / old).exists()
    assert not (public / f"{old}.gz").exists()


def test_a_file_that_stops_shrinking_loses_its_stale_sibling(public):
    build_assets(str(public))
    (public / "app.js").write_bytes(b"x")
    build_assets(str(public))
    assert not (public / "app.js.gz").exists()
    assert not (public / "app.js.br").exists()


def test_existing_siblings_are_not_fingerprinted(public):
    (public / "data.json").write_bytes(b'{"a": 1}')
    # mtime=0: gzip.compress stamps the time, and the fingerprint below compresses again
    (public / "data.json.gz").write_bytes(gzip.compress(b'{"a": 1}', mtime=0))
    (public / "archive.tar.gz").write_bytes(gzip.compress(b"tar", mtime=0))
    manifest = build_assets(str(public)).manifest
    assert "data.json.gz" not in manifest
    assert "data.json" in manifest
    # A .gz file with no file beside it is a file of its own.
    assert manifest["archive.tar.gz"] == f"archive.tar.{fingerprint(gzip.compress(b'tar', mtime=0))}.gz"


def test_no_compress_writes_no_siblings_and_removes_old_ones(public):
    build_assets(str(public))
    build_assets(str(public), compress=False)
    assert not [name for name in listing(public) if name.endswith((".gz", ".br"))]


def test_without_brotli_only_gzip_siblings(public, monkeypatch):
    monkeypatch.setattr(assets, "_brotli", lambda: None)
    report = build_assets(str(public))
    assert (public / "app.js.gz").exists()
    assert not [name for name in listing(public) if name.endswith(".br")]
    assert set(report.saved) == {"gzip"}


def test_brotli_missing_is_detected_by_import(monkeypatch):
    monkeypatch.setitem(sys.modules, "brotli", None)
    assert assets._brotli() is None


def test_a_malformed_previous_manifest_is_rebuilt(public):
    (public / MANIFEST_NAME).write_text("{oops", encoding="utf-8")
    report = build_assets(str(public))
    assert read_manifest(str(public / MANIFEST_NAME)) == report.manifest


def test_a_symlink_out_of_the_directory_is_not_copied(public, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"the secret")
    (public / "link.txt").symlink_to(secret)
    (public / "inside.txt").symlink_to(public / "app.js")
    manifest = build_assets(str(public)).manifest
    assert "link.txt" not in manifest
    assert "inside.txt" in manifest
    assert not any(b"the secret" in (public / name).read_bytes() for name in manifest.values())


@pytest.mark.parametrize(
    ("make", "says"),
    [
        pytest.param(lambda root: None, "does not exist", id="missing"),
        pytest.param(lambda root: root.write_bytes(b""), "is not a directory", id="a-file"),
    ],
)
def test_a_directory_that_is_not_there_is_a_value_error(tmp_path, make, says):
    root = tmp_path / "public"
    make(root)
    with pytest.raises(ValueError, match=says):
        build_assets(str(root))


# --- references in stylesheets and scripts ------------------------------------------------

NAMES = {
    "img/bg.png": "img/bg.11111111.png",
    "css/base.css": "css/base.22222222.css",
    "font/a b.woff2": "font/a b.33333333.woff2",
    "app.js.map": "app.js.44444444.map",
    "css/site.css.map": "css/site.css.55555555.map",
}


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        pytest.param(
            "css/site.css",
            "a{background:url(../img/bg.png)}",
            "a{background:url(../img/bg.11111111.png)}",
            id="url-relative",
        ),
        pytest.param(
            "css/site.css",
            "a{b:url('../img/bg.png')}",
            "a{b:url('../img/bg.11111111.png')}",
            id="url-single-quotes",
        ),
        pytest.param(
            "css/site.css",
            'a{b:url( "../img/bg.png" )}',
            'a{b:url( "../img/bg.11111111.png" )}',
            id="url-double-quotes-spaces",
        ),
        pytest.param(
            "css/site.css", "a{b:URL(../img/bg.png)}", "a{b:URL(../img/bg.11111111.png)}", id="url-upper-case"
        ),
        pytest.param(
            "css/site.css",
            "a{b:url(../img/bg.png?v=2#x)}",
            "a{b:url(../img/bg.11111111.png?v=2#x)}",
            id="query-and-fragment-kept",
        ),
        pytest.param(
            "css/site.css",
            "a{b:url(./../img/./bg.png)}",
            "a{b:url(./../img/./bg.11111111.png)}",
            id="dot-segments",
        ),
        pytest.param(
            "site.css", "a{b:url(img/bg.png)}", "a{b:url(img/bg.11111111.png)}", id="top-level-file"
        ),
        pytest.param(
            "css/site.css", '@import "base.css";', '@import "base.22222222.css";', id="import-string"
        ),
        pytest.param(
            "css/site.css", "@import url(base.css);", "@import url(base.22222222.css);", id="import-url"
        ),
        pytest.param(
            "css/site.css",
            "a{}\n/*# sourceMappingURL=site.css.map */",
            "a{}\n/*# sourceMappingURL=site.css.55555555.map */",
            id="css-source-map",
        ),
        pytest.param(
            "app.js",
            "f();\n//# sourceMappingURL=app.js.map",
            "f();\n//# sourceMappingURL=app.js.44444444.map",
            id="js-source-map",
        ),
        pytest.param("app.js", "x = 'url(img/bg.png)';", "x = 'url(img/bg.png)';", id="js-url-untouched"),
        pytest.param(
            "css/site.css", "a{b:url(/img/bg.png)}", "a{b:url(/img/bg.png)}", id="absolute-untouched"
        ),
        pytest.param(
            "css/site.css",
            "a{b:url(https://cdn.example/img/bg.png)}",
            "a{b:url(https://cdn.example/img/bg.png)}",
            id="scheme-untouched",
        ),
        pytest.param(
            "css/site.css",
            "a{b:url(//cdn.example/img/bg.png)}",
            "a{b:url(//cdn.example/img/bg.png)}",
            id="host-untouched",
        ),
        pytest.param(
            "css/site.css",
            "a{b:url(data:image/png;base64,AAAA)}",
            "a{b:url(data:image/png;base64,AAAA)}",
            id="data-uri-untouched",
        ),
        pytest.param("css/site.css", "a{b:url(#clip)}", "a{b:url(#clip)}", id="fragment-untouched"),
        pytest.param(
            "css/site.css",
            "a{b:url(../../img/bg.png)}",
            "a{b:url(../../img/bg.png)}",
            id="outside-the-folder-untouched",
        ),
        pytest.param(
            "css/site.css", "a{b:url(missing.png)}", "a{b:url(missing.png)}", id="unknown-untouched"
        ),
        pytest.param("css/site.css", "a{b:url(../img/)}", "a{b:url(../img/)}", id="folder-untouched"),
        pytest.param(
            "css/site.css",
            "a{b:url('../font/a b.woff2')}",
            "a{b:url('../font/a b.woff2')}",
            id="space-in-name-untouched",
        ),
        pytest.param("page.html", '<img src="img/bg.png">', '<img src="img/bg.png">', id="html-untouched"),
    ],
)
def test_rewrite_references(name, text, expected):
    assert rewrite_references(name, text, NAMES.get) == expected


@pytest.fixture
def styled(tmp_path):
    root = tmp_path / "styled"
    for folder in ("css", "img"):
        (root / folder).mkdir(parents=True)
    (root / "img" / "bg.png").write_bytes(IMAGE)
    (root / "css" / "base.css").write_bytes(b"body { background: url('../img/bg.png'); }\n" * 10)
    (root / "css" / "site.css").write_bytes(b'@import "base.css";\nh1 { color: red; }\n' * 10)
    (root / "app.js").write_bytes(SCRIPT + b"//# sourceMappingURL=app.js.map\n")
    (root / "app.js.map").write_bytes(b'{"version": 3, "sources": []}')
    return root


def test_copies_point_at_copies_and_are_named_by_what_they_hold(styled):
    original = {name: (styled / name).read_bytes() for name in listing(styled)}
    manifest = build_assets(str(styled)).manifest
    image = manifest["img/bg.png"].rpartition("/")[2]
    base = (styled / manifest["css/base.css"]).read_bytes()
    assert base == original["css/base.css"].replace(b"bg.png", image.encode())
    site = (styled / manifest["css/site.css"]).read_bytes()
    assert site == original["css/site.css"].replace(b"base.css", manifest["css/base.css"][4:].encode())
    script = (styled / manifest["app.js"]).read_bytes()
    assert script.endswith(f"//# sourceMappingURL={manifest['app.js.map']}\n".encode())
    for name, target in manifest.items():
        assert target == fingerprinted_name(name, fingerprint((styled / target).read_bytes()))
        assert (styled / name).read_bytes() == original[name]  # the files themselves never change
    assert gzip.decompress((styled / f"{manifest['css/base.css']}.gz").read_bytes()) == base
    assert build_assets(str(styled)).written == []


def test_a_changed_image_renames_the_stylesheets_that_use_it(styled):
    before = build_assets(str(styled)).manifest
    (styled / "img" / "bg.png").write_bytes(IMAGE[::-1])
    after = build_assets(str(styled)).manifest
    assert after["img/bg.png"] != before["img/bg.png"]
    assert after["css/base.css"] != before["css/base.css"]  # it names the new image
    assert after["css/site.css"] != before["css/site.css"]  # it imports the new base.css
    assert after["app.js"] == before["app.js"]
    assert not (styled / before["css/site.css"]).exists()


def test_a_circle_of_imports_is_left_plain(styled):
    (styled / "css" / "base.css").write_bytes(
        b'@import "site.css";\nbody { background: url(../img/bg.png); }\n'
    )
    manifest = build_assets(str(styled)).manifest
    base = (styled / manifest["css/base.css"]).read_bytes()
    assert base.startswith(b'@import "site.css";')
    assert manifest["img/bg.png"].rpartition("/")[2].encode() in base
    assert (styled / manifest["css/site.css"]).read_bytes().startswith(b'@import "base.css";')


def test_no_rewrite_copies_the_bytes(styled):
    manifest = build_assets(str(styled), rewrite=False).manifest
    for name, target in manifest.items():
        assert (styled / target).read_bytes() == (styled / name).read_bytes()


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(b"back\\slash.js", id="backslash"),
        pytest.param(b"latin1-\xe9.js", id="not-utf8"),
        pytest.param(b"c:drive.js", id="drive-like"),
    ],
)
def test_names_the_manifest_cannot_hold_are_skipped(tmp_path, name):
    (tmp_path / "app.js").write_bytes(SCRIPT)
    with open(os.path.join(os.fsencode(tmp_path), name), "wb") as file:
        file.write(SCRIPT + b"//other\n")
    report = build_assets(str(tmp_path))
    assert list(report.manifest) == ["app.js"]
    assert read_manifest(str(tmp_path / MANIFEST_NAME)) == report.manifest
