"""docs/security.md names, for each control, the test that proves it: those tests exist."""

from __future__ import annotations

import ast
import re

from tests.docs.markdown import table_rows
from tests.helpers import ROOT

DOC = ROOT / "docs" / "security.md"
# `tests/x/test_y.py::test_z`, or `test_y.py::test_z` / `::test_z` after a full path in the cell.
REFERENCE = re.compile(r"`((?:tests/[\w/]+/)?(?:test_\w+\.py)?)(?:::(\w+))?`")


def _defined_tests(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text())
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    return {node.name for node in ast.walk(tree) if isinstance(node, functions)}


def _references() -> list[tuple[str, str | None]]:
    """(file, test or None) for every test reference in the table, resolving short forms."""
    found: list[tuple[str, str | None]] = []
    for row in table_rows(DOC.read_text()):
        line = " | ".join(row)
        current: str | None = None
        for path, name in REFERENCE.findall(line):
            if path.startswith("tests/"):
                current = path
            elif path:
                folder = current.rsplit("/", 1)[0] if current else "tests/integration"
                current = f"{folder}/{path}"
            if current is not None and (path or name):
                found.append((current, name or None))
    return found


def test_every_test_the_threat_model_names_exists() -> None:
    references = _references()
    assert references, "docs/security.md names no test"
    for path, name in references:
        target = ROOT / path
        assert target.exists(), f"docs/security.md names {path}, which does not exist"
        if target.is_file() and name is not None:
            assert name in _defined_tests(path), f"docs/security.md names {path}::{name}"
