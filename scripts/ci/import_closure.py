#!/usr/bin/env python3
"""The modules a package can ever import from site-packages, found by reading, not running.

Every `import` and `from ... import` statement counts, including those inside
functions (lazy imports) and behind try/except, so the set is a superset of
what any code path imports. Modules loaded by name at run time (importlib,
entry points) are invisible to reading: pass them as extra roots.

tests/container/test_unused_packages.py uses it to check that the
distributions the Dockerfile removes are outside it. `--compile` writes the
bytecode of the whole set (2,045 modules, 24 MB in the image; the image
compiles only what the server imports at start: scripts/image_bytecode.py).

Usage: import_closure.py [--compile] ROOT_MODULE...   (prints top-level names)
"""

from __future__ import annotations

import argparse
import ast
import py_compile
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

# Loaded by name at run time, so no import statement leads to them: uvicorn's
# implementations (app/uvicorn_server.py names them), anyio's backend and
# OpenTelemetry's context (an entry point).
RUNTIME_ROOTS = (
    "uvicorn.loops.uvloop",
    "uvicorn.protocols.http.httptools_impl",
    "uvicorn.lifespan.on",
    "anyio._backends._asyncio",
    "opentelemetry.context.contextvars_context",
)


def _locate(module: str, dirs: list[Path]) -> Path | None:
    """The module's file (or namespace folder) in the first of `dirs` that has it, else None."""
    for directory in dirs:
        base = directory.joinpath(*module.split("."))
        for candidate in (base / "__init__.py", base.with_suffix(".py")):
            if candidate.is_file():
                return candidate
        if base.parent.is_dir():
            extensions = sorted(base.parent.glob(base.name + ".*.so"))
            if extensions:
                return extensions[0]
        if base.is_dir():
            return base
    return None


def _imports(module: str, path: Path) -> set[str]:
    """Every module name an import statement in `path` may load (submodules included)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{node.module}" if node.module else parent
            else:
                base = node.module or ""
            names.add(base)
            # `from pkg import name` loads pkg.name when it is a submodule.
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def closure(
    roots: list[str], dirs: list[Path], follow: Callable[[str], bool] = lambda _: True
) -> dict[str, Path]:
    """Module name -> file, for each module in `dirs` that `roots` reach (stdlib not followed).

    `follow(top_level_name)` can narrow the search to some distributions: a test
    on a venv holding more than the image does asks only about the image's.
    """
    found: dict[str, Path] = {}
    pending = list(roots)
    for root in roots:  # a root package counts whole: each of its modules is an entry point
        path = _locate(root, dirs)
        if path is not None and path.name == "__init__.py":
            pending.extend(
                ".".join((root, *file.relative_to(path.parent).with_suffix("").parts))
                for file in path.parent.rglob("*.py")
                if file.name != "__init__.py"
            )
    while pending:
        module = pending.pop()
        if module in found or not follow(module.partition(".")[0]):
            continue
        path = _locate(module, dirs)
        if path is None:
            continue
        found[module] = path
        parent = module.rpartition(".")[0]
        if parent:
            pending.append(parent)  # importing a submodule runs its packages first
        if path.suffix == ".py":
            pending.extend(_imports(module, path) - found.keys())
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", help="top-level modules to start from, e.g. app")
    parser.add_argument("--compile", action="store_true", help="write each module's bytecode")
    args = parser.parse_args(argv)
    site = Path(sysconfig.get_paths()["purelib"])
    modules = closure([*args.roots, *RUNTIME_ROOTS], [site])
    if args.compile:
        sources = sorted(p for p in modules.values() if p.suffix == ".py")
        for source in sources:
            # Hash-checked bytecode does not depend on file times surviving a COPY.
            py_compile.compile(
                str(source),
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
        print(f"compiled {len(sources)} modules", file=sys.stderr)
    print("\n".join(sorted({name.partition(".")[0] for name in modules})))
    return 0


if __name__ == "__main__":
    sys.exit(main())
