"""Run every ```python block of the docs and the README, so the documentation is proven.

Each block is its own test case (id ``file:line``). It runs like a small module of
its own: a fresh namespace, a real module object named after the block (so
``App(__name__)`` finds ``templates/`` next to it), and the current directory set to
an empty temporary directory. Shell commands and output belong in ``text`` or
``console`` blocks, which are not run.
"""

from __future__ import annotations

import gc
import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```[ \t]*(\S*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def python_blocks(path: Path) -> list[tuple[int, str]]:
    """The ``python`` blocks of a Markdown file, each with the line its code starts on."""
    text = path.read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(text):
        if match.group(1).lower() in ("python", "py"):
            line = text.count("\n", 0, match.start(2)) + 1
            blocks.append((line, match.group(2)))
    return blocks


CASES = [
    pytest.param(path, line, code, id=f"{path.relative_to(ROOT).as_posix()}:{line}")
    for path in DOCUMENTS
    for line, code in python_blocks(path)
]


def test_there_are_snippets_to_run():
    documents = {case.values[0].name for case in CASES}
    expected = {
        "README.md",
        "quickstart.md",
        "routing.md",
        "requests-responses.md",
        "errors.md",
        "templates.md",
        "cli.md",
        "middleware.md",
    }
    assert expected <= documents


@pytest.mark.parametrize(("path", "line", "code"), CASES)
def test_snippet(path, line, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(ROOT))
    # Blank lines keep the traceback's line numbers equal to the Markdown file's.
    source = "\n" * (line - 1) + code
    filename = tmp_path / path.name.replace(".md", ".py").replace("-", "_")
    name = f"docs_snippet_{path.stem.replace('-', '_')}_{line}"
    spec = importlib.util.spec_from_file_location(name, filename)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    try:
        exec(compile(source, str(path), "exec"), module.__dict__)
    finally:
        # Collect now, so a resource left open is reported against this snippet.
        module.__dict__.clear()
        gc.collect()
