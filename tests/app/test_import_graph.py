"""app/ has no import cycles: each module can be imported first, on its own.

A cycle (app.config <-> app.signin was one) works only while every module
of it happens to be imported in a lucky order; a lazy import inside a
function hides it until the first call that takes that path.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"


def _runtime_imports(path: Path) -> set[str]:
    """The app.* modules `path` imports when it runs (TYPE_CHECKING blocks left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for branch in node.orelse:
                visit(branch)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("app."))
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "app":
                found.update(f"app.{a.name}" for a in node.names)
            elif node.module.startswith("app."):
                found.add(node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {name for name in found if (APP / f"{name.removeprefix('app.')}.py").exists()}


def _graph() -> dict[str, set[str]]:
    return {f"app.{p.stem}": _runtime_imports(p) for p in APP.glob("*.py")}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := walk(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := walk(node)):
            return found
    return None


def test_the_checker_sees_a_cycle() -> None:
    assert _cycle({"app.a": {"app.b"}, "app.b": {"app.c"}, "app.c": {"app.a"}}) == [
        "app.a",
        "app.b",
        "app.c",
        "app.a",
    ]
    assert _cycle({"app.a": {"app.b"}, "app.b": set()}) is None


def test_config_reaches_no_sign_in_module() -> None:
    """app.config (imported by everything) never imports sign-in, even lazily."""
    graph = _graph()
    seen: set[str] = set()
    todo = ["app.config"]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph.get(module, ()))
    assert not {m for m in seen if m.startswith("app.signin")}, sorted(seen)


def test_app_has_no_import_cycle() -> None:
    assert _cycle(_graph()) is None, " -> ".join(_cycle(_graph()) or [])


@pytest.mark.parametrize("module", ["app.config", "app.signin", "app.http_app"])
def test_each_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
