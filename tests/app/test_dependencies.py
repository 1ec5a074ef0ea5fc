"""Every library app/ imports is a dependency pyproject.toml declares.

A library that arrives only through another package's requirements can vanish
when that package changes its own, and the server then fails at import.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib

from tests.helpers import ROOT


def _top_level_imports() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {name for name in names if name not in sys.stdlib_module_names and name != "app"}


# Declared distributions whose code ships in another one they require.
CODE_SHIPPED_IN = {"fastmcp": "fastmcp-slim"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_imported_library_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {
        _normalise(re.split(r"[\[<>=!~; ]", spec, maxsplit=1)[0])
        for spec in project["dependencies"]
    }
    declared |= {CODE_SHIPPED_IN[name] for name in declared & CODE_SHIPPED_IN.keys()}
    providers = importlib.metadata.packages_distributions()
    undeclared = {
        module: providers.get(module, ["(not installed)"])
        for module in _top_level_imports()
        if not declared & {_normalise(dist) for dist in providers.get(module, [])}
    }
    assert not undeclared, f"imported by app/ but not in [project].dependencies: {undeclared}"
