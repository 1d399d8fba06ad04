"""``python -m framework assets DIR``: the summary, idempotence, and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from framework import cli
from framework.assets import fingerprint, read_manifest

REPO = Path(__file__).resolve().parents[2]
PYTHONPATH = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
SCRIPT = b"console.log('hello from the assets command');\n" * 30


@pytest.fixture
def public(tmp_path):
    root = tmp_path / "public"
    root.mkdir()
    (root / "app.js").write_bytes(SCRIPT)
    return root


def test_assets_builds_and_prints_a_summary(public, capsys):
    assert cli.main(["assets", str(public)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"1 files fingerprinted in {public}, ")
    assert "gzip: " in out and "bytes saved" in out
    assert read_manifest(str(public / "manifest.json")) == {"app.js": f"app.{fingerprint(SCRIPT)}.js"}
    assert (public / "app.js.gz").exists()
    assert (public / f"app.{fingerprint(SCRIPT)}.js.br").exists()


def test_assets_again_writes_nothing(public, capsys):
    cli.main(["assets", str(public)])
    capsys.readouterr()
    assert cli.main(["assets", str(public)]) == 0
    assert ", 0 files written, 0 stale files removed" in capsys.readouterr().out


def test_no_compress_writes_no_siblings(public, capsys):
    assert cli.main(["assets", "--no-compress", str(public)]) == 0
    assert sorted(path.name for path in public.iterdir()) == [
        f"app.{fingerprint(SCRIPT)}.js", "app.js", "manifest.json"]
    assert "saved" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "make", "says"),
    [
        pytest.param("nowhere", lambda path: None, "does not exist", id="missing"),
        pytest.param("file.txt", lambda path: path.write_bytes(b""), "is not a directory", id="a-file"),
    ],
)
def test_a_bad_directory_is_one_line_on_stderr_and_status_2(tmp_path, name, make, says):
    make(tmp_path / name)
    result = subprocess.run(
        [sys.executable, "-m", "framework", "assets", name],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": PYTHONPATH},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"error: The static directory {name!r} {says}; give the folder of the files to fingerprint, "
        f"e.g. 'python -m framework assets public'."
    ]


@pytest.mark.parametrize(
    ("flags", "rewritten"),
    [pytest.param([], True, id="rewrites"), pytest.param(["--no-rewrite"], False, id="no-rewrite")],
)
def test_stylesheet_copies_point_at_copies_unless_told_not_to(tmp_path, capsys, flags, rewritten):
    (tmp_path / "logo.png").write_bytes(b"\x89PNG not really")
    (tmp_path / "site.css").write_bytes(b"h1 { background: url(logo.png); }\n")
    assert cli.main(["assets", *flags, str(tmp_path)]) == 0
    manifest = read_manifest(str(tmp_path / "manifest.json"))
    copy = (tmp_path / manifest["site.css"]).read_bytes()
    assert (manifest["logo.png"].encode() in copy) is rewritten
