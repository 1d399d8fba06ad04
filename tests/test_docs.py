"""Run every ```python block of the docs and the README, so the documentation is proven.

Each block is its own test case (id ``file:line``). It runs like a small module of
its own: a fresh namespace, a real module object named after the block (so
``App(__name__)`` finds ``templates/`` next to it), and the current directory set to
an empty temporary directory. Shell commands and output belong in ``text`` or
``console`` blocks, which are not run.
"""

from __future__ import annotations

import ast
import gc
import importlib.metadata
import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from packaging.requirements import Requirement

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
        "testing.md",
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


# -- what a new user can run right after `pip install .` ---------------------------------


def canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them (``Jinja2`` -> ``jinja2``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def install_requires() -> list[str]:
    """The ``install_requires`` list of setup.py, read without running it."""
    for node in ast.walk(ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))):
        if isinstance(node, ast.keyword) and node.arg == "install_requires":
            return list(ast.literal_eval(node.value))
    raise AssertionError("setup.py has no install_requires")


def installed_modules() -> set[str]:
    """Top-level modules of ``install_requires`` and what they require in turn (no extras)."""
    wanted = [canonical(Requirement(spec).name) for spec in install_requires()]
    seen: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in seen:
            continue
        seen.add(name)
        for spec in importlib.metadata.distribution(name).requires or []:
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                wanted.append(canonical(requirement.name))
    return {
        module
        for module, distributions in importlib.metadata.packages_distributions().items()
        if any(canonical(d) in seen for d in distributions)
    }


# Runs a snippet with every import outside the standard library, our own packages and
# the modules of install_requires refused, as if only `pip install .` had been run.
ONLY_INSTALLED = textwrap.dedent(
    """
    import json, sys

    allowed = set(json.loads(sys.argv[1])) | {"framework", "middleware"}

    class OnlyInstalled:
        def find_spec(self, name, path=None, target=None):
            top = name.partition(".")[0]
            if top in allowed or top in sys.stdlib_module_names:
                return None
            raise ModuleNotFoundError(f"{top!r} is not installed by `pip install .`", name=top)

    sys.meta_path.insert(0, OnlyInstalled())
    exec(compile(sys.argv[2], sys.argv[3], "exec"), {"__name__": "__main__"})
    """
)


def run_with_only_installed(code: str, filename: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run *code* in a fresh interpreter in *cwd*, with this checkout's packages importable."""
    allowed = json.dumps(sorted(installed_modules()))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", ONLY_INSTALLED, allowed, code, filename],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
    )


FIRST_STEPS = [
    pytest.param(code, f"{path.name}:{line}", id=f"{path.name}:{line}")
    for path, blocks in [
        (ROOT / "README.md", python_blocks(ROOT / "README.md")[:1]),
        (ROOT / "docs" / "quickstart.md", python_blocks(ROOT / "docs" / "quickstart.md")),
    ]
    for line, code in blocks
]


def test_install_requires_are_the_framework_dependencies():
    assert {"werkzeug", "jinja2", "itsdangerous", "markupsafe"} <= installed_modules()
    assert "webtest" not in installed_modules()


@pytest.mark.parametrize(("code", "filename"), FIRST_STEPS)
def test_first_steps_need_only_pip_install_dot(code, filename, tmp_path):
    """README's first example and the quickstart run right after `pip install .` (no webtest)."""
    result = run_with_only_installed(code, filename, tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("code", "refused"),
    [
        pytest.param("import webtest", "webtest", id="webtest"),
        pytest.param("from webtest import TestApp", "webtest", id="from-webtest"),
        pytest.param("from flask import Flask", "flask", id="flask"),
        pytest.param("import framework, middleware, werkzeug.test, jinja2, markupsafe, itsdangerous, json",
                     None, id="allowed"),
    ],
)
def test_the_install_check_refuses_what_pip_install_dot_does_not_install(code, refused, tmp_path):
    result = run_with_only_installed(code, "check.py", tmp_path)
    if refused is None:
        assert result.returncode == 0, result.stderr
    else:
        assert f"'{refused}' is not installed by `pip install .`" in result.stderr
        assert result.returncode != 0


# -- layers that do not exist yet are described as coming ---------------------------------

# A planned name -> the middleware layer it comes with (the name is available once that
# layer is exported by `middleware`).
PLANNED = {
    **{name: name for name in (
        "Sessions", "StaticFiles", "RateLimit", "Compress", "CORS", "BasicAuth", "TokenAuth",
        "FormLogin", "Authorize", "XSLT", "Proxy",
    )},
    "request.session": "Sessions",
    "flash": "Sessions",
    "get_flashed_messages": "Sessions",
    "csrf_token": "FormLogin",
    "static_url": "StaticFiles",
}
PLANNED_SPAN = re.compile(
    r"`(?:middleware\.|framework\.)?(" + "|".join(re.escape(n) for n in PLANNED) + r")\b[^`]*`"
)
SAYS_FUTURE = re.compile(r"roadmap\.md|\bcoming\b|\bwill\b|\bnot\b[^.]*\byet\b|\bplanned\b", re.IGNORECASE)
ITEM_START = re.compile(r"^(?:\||[-*] |\d+\. |#)")
# docs/middleware.md is being reworded under issue 7 (5.6) by its owner; add it once done.
NOT_YET_CHECKED = {"roadmap.md"}


def prose_items(text: str) -> list[tuple[int, str]]:
    """Paragraphs, list items and table rows outside code fences, with their first line."""
    items: list[tuple[int, list[str]]] = []
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
            items.append((number, []))
            continue
        if fenced or not line.strip():
            items.append((number, []))
        elif ITEM_START.match(line) or not items or not items[-1][1]:
            items.append((number, [line]))
        else:
            items[-1][1].append(line)
    return [(number, " ".join(lines)) for number, lines in items if lines]


def future_claims(text: str, missing: set[str] | None = None) -> list[str]:
    """``line: name`` for every mention of a layer that does not exist yet, not said to be coming.

    *missing* is the set of planned names that do not exist (default: those whose layer
    ``middleware`` does not export).
    """
    if missing is None:
        import middleware

        missing = {name for name, layer in PLANNED.items() if not hasattr(middleware, layer)}
    return [
        f"{number}: {match.group(1)}"
        for number, item in prose_items(text)
        for match in PLANNED_SPAN.finditer(item)
        if match.group(1) in missing and not SAYS_FUTURE.search(item)
    ]


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=p.name) for p in DOCUMENTS if p.name not in NOT_YET_CHECKED],
)
def test_layers_that_do_not_exist_are_said_to_be_coming(path):
    assert future_claims(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Wrap it in `StaticFiles(app)` first.", ["1: StaticFiles"], id="claim"),
        pytest.param("1. `CORS` early\n2. `Compress` last", ["1: CORS", "2: Compress"], id="list-items"),
        pytest.param("| `StaticFiles` | files |", ["1: StaticFiles"], id="table-row"),
        pytest.param("Templates get `static_url(path)`\nand `Compress(app)`.",
                     ["1: static_url", "1: Compress"], id="continued-paragraph"),
        pytest.param("`Sessions` (see the [roadmap](roadmap.md))", [], id="roadmap-link"),
        pytest.param("`CORS` will come as a layer.", [], id="will"),
        pytest.param("`XSLT` does not exist yet.", [], id="not-yet"),
        pytest.param("```python\nStaticFiles(app)\n```", [], id="code-is-not-prose"),
        pytest.param("Werkzeug's `ProxyFix`, and `Stack`.", [], id="existing-layers"),
    ],
)
def test_future_claims(text, expected):
    # The checker itself, with every planned name taken as missing (they all land in time).
    missing = set(PLANNED)
    assert future_claims(text, missing) == expected
