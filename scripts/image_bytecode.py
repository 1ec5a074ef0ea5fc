#!/usr/bin/env python3
"""Compile what the server imports at start, in the image's builder stage (the Dockerfile runs it).

The container's root filesystem is read-only, so Python cannot cache bytecode
there: whatever is not compiled at build time is compiled again at every start.
This imports the modules the server loads at start in either mode, then:

- the libraries' modules get their bytecode *in place of* their source (a
  sourceless `module.pyc` beside where `module.py` was, which Python imports
  directly): one copy of each module instead of two, 15 MB less image. Their
  tracebacks still name file and line, without the line's text.
- the modules of KEEP_SOURCE keep their source, with timestamp-checked
  bytecode in `__pycache__` as usual.

Modules the server never imports at start keep their source; one a request
imports lazily is compiled then, in memory, once per process.
tests/container/test_image.py checks the result in the built image.

Usage: image_bytecode.py [--dry-run]   (with the venv's python)
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import py_compile
import sys
import sysconfig
from pathlib import Path

# What the server imports at start in either mode (shared keys; sign-in, with
# its Redis store) and what uvicorn loads by name (app/uvicorn_server.py names them).
START_MODULES = (
    "app.__main__",
    "app.uvicorn_server",
    "app.signin",
    "key_value.aio.stores.redis",
    "uvicorn.loops.uvloop",
    "uvicorn.protocols.http.httptools_impl",
    "uvicorn.lifespan.on",
)

# Top-level packages whose source stays in the image:
# - app: this project's code, read in tracebacks and reviews of the image.
# - anyio: anyio/_lazyimport.py reads anyio's own source at import
#   (inspect.getsource) to find its lazily imported names; without it
#   `anyio.<name>` fails.
KEEP_SOURCE = frozenset({"app", "anyio"})


def start_modules(site: Path) -> list[tuple[str, Path]]:
    """(top-level package, source file) of every site-packages module the start imports."""
    sys.dont_write_bytecode = True  # this script writes the bytecode, each file one way
    for name in START_MODULES:
        importlib.import_module(name)
    found: list[tuple[str, Path]] = []
    for module in list(sys.modules.values()):
        origin = getattr(getattr(module, "__spec__", None), "origin", None)
        if not origin or not origin.endswith(".py"):
            continue  # built in, frozen, an extension module, or a namespace package
        path = Path(origin)
        if site in path.parents:
            found.append((path.relative_to(site).parts[0].removesuffix(".py"), path))
    return sorted(found, key=lambda item: item[1])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run by the Dockerfile's builder stage; it changes the venv it runs from.",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would be done, change nothing"
    )
    args = parser.parse_args()

    site = Path(sysconfig.get_paths()["purelib"])
    modules = start_modules(site)
    kept = replaced = saved = 0
    for top, source in modules:
        if top in KEEP_SOURCE:
            kept += 1
            if not args.dry_run:
                py_compile.compile(str(source), doraise=True)
            continue
        replaced += 1
        saved += source.stat().st_size
        if not args.dry_run:
            # Beside the source, not in __pycache__: Python imports a .pyc from
            # __pycache__ only while its source exists.
            py_compile.compile(str(source), cfile=str(source.with_suffix(".pyc")), doraise=True)
            source.unlink()
            Path(importlib.util.cache_from_source(str(source))).unlink(missing_ok=True)
    action = "would replace" if args.dry_run else "replaced"
    print(
        f"image_bytecode: {len(modules)} modules imported at start; {action} the source of "
        f"{replaced} with bytecode ({saved / 1e6:.1f} MB of source); {kept} keep their source "
        f"({', '.join(sorted(KEEP_SOURCE))})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
