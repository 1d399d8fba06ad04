"""Lint and types are part of the test run: ruff over the tree, mypy over the packages."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def tool(name: str) -> list[str]:
    if shutil.which(name) is None and subprocess.run(
        [sys.executable, "-m", name, "--version"], capture_output=True
    ).returncode != 0:
        pytest.fail(f"{name} is not installed: pip install '.[test]'")
    return [sys.executable, "-m", name]


def test_ruff_is_clean():
    done = subprocess.run([*tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_is_clean():
    done = subprocess.run([*tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def local_imports(package: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports, anywhere in the file.

    Function-level and ``TYPE_CHECKING`` imports count too: a circle hidden in a
    function is still a circle for the reader.
    """
    import ast

    graph: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).glob("*.py")):
        name = path.stem
        graph[name] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level == 1 and node.module:
                    graph[name].add(node.module.split(".")[0])
                elif node.level == 1:
                    graph[name].update(alias.name for alias in node.names)
                elif node.module and node.module.split(".")[0] == package:
                    parts = node.module.split(".")
                    graph[name].update([parts[1]] if len(parts) > 1 else
                                       [alias.name for alias in node.names])
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    if parts[0] == package and len(parts) > 1:
                        graph[name].add(parts[1])
        graph[name] &= {p.stem for p in (ROOT / package).glob("*.py")}
        graph[name].discard(name)
    return graph


def bottom_up(graph: dict[str, set[str]]) -> list[str]:
    """A reading order in which each module imports only modules before it, or fail on a circle."""
    order: list[str] = []
    remaining = {name: set(deps) for name, deps in graph.items() if name != "__init__"}
    while remaining:
        ready = sorted(name for name, deps in remaining.items() if not deps - set(order))
        if not ready:
            pytest.fail(f"import circle among {sorted(remaining)}: " + "; ".join(
                f"{name} -> {sorted(deps - set(order))}" for name, deps in sorted(remaining.items())))
        order += ready
        for name in ready:
            del remaining[name]
    return order


@pytest.mark.parametrize("package", ["framework", "middleware"])
def test_modules_import_each_other_without_circles(package):
    order = bottom_up(local_imports(package))
    assert order, f"no modules found in {package}"


def test_framework_never_imports_middleware_nor_the_cli_from_below():
    for path in (ROOT / "framework").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import middleware" not in text and "from middleware" not in text, path
    for path in (ROOT / "middleware").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "framework.cli" not in text and "framework import cli" not in text, path


def test_urllib3_is_imported_with_proxy_only():
    code = ("import sys, middleware\n"
            "assert 'urllib3' not in sys.modules, 'urllib3 imported with middleware'\n"
            "from middleware import Proxy, Stack\n"
            "assert Proxy.__module__ == 'middleware.proxy' and 'urllib3' in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_jinja2_is_imported_on_first_render_only():
    code = ("import sys, framework\napp = framework.App(__name__)\n"
            "assert 'jinja2' not in sys.modules, 'jinja2 imported at start-up'\n"
            "client = app.test_client()\n"
            "assert client.get('/missing').status_code == 404\n"
            "assert 'jinja2' in sys.modules, 'the HTML error page needs jinja2'\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
