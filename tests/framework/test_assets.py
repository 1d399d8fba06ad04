"""framework.assets: reading the manifest, building fingerprinted copies and siblings."""

from __future__ import annotations

import json

import pytest

from framework.assets import MANIFEST_NAME, read_manifest


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- read_manifest -----------------------------------------------------------------------


def test_read_manifest_returns_the_paths(tmp_path):
    manifest = write(tmp_path / MANIFEST_NAME, json.dumps(
        {"version": 1, "paths": {"app.js": "app.3f2a9c1b.js", "css/site.css": "css/site.0a1b2c3d.css"}}
    ))
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
