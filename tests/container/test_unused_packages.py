"""The distributions the Dockerfile removes from the image are ones the server never imports.

The server's import closure (scripts/ci/import_closure.py: every import
statement reachable from app/, lazy ones included) is computed over the
distributions of requirements/main.txt, as installed in this venv. No engine
needed: this reads files.
"""

from __future__ import annotations

import re
import sys
import sysconfig
from importlib.metadata import packages_distributions
from pathlib import Path

from tests.helpers import ROOT

sys.path.insert(0, str(ROOT / "scripts" / "ci"))
import import_closure


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def removed_by_dockerfile() -> set[str]:
    text = (ROOT / "Dockerfile").read_text()
    command = re.search(r"uv pip uninstall --python \S+((?:\s+\\\n)?(?:\s+[a-z][\w.-]*)+)", text)
    assert command is not None, "the Dockerfile's uninstall step is not where the test looks"
    return {_normal(name) for name in command.group(1).replace("\\", " ").split()}


def pinned_in_main() -> set[str]:
    text = (ROOT / "requirements" / "main.txt").read_text()
    return {_normal(m) for m in re.findall(r"^([A-Za-z0-9][\w.-]*)==", text, re.MULTILINE)}


def test_removed_distributions_are_never_imported() -> None:
    removed, image = removed_by_dockerfile(), pinned_in_main()
    assert removed, "nothing removed"
    assert removed <= image, f"not in requirements/main.txt: {sorted(removed - image)}"
    owners = {top: {_normal(d) for d in dists} for top, dists in packages_distributions().items()}
    kept = {top for top, dists in owners.items() if dists & (image - removed)}
    site = Path(sysconfig.get_paths()["purelib"])
    reachable = import_closure.closure(
        ["app", *import_closure.RUNTIME_ROOTS],
        [ROOT, site],
        follow=lambda top: top == "app" or (top in owners and bool(owners[top] & image)),
    )
    assert len(reachable) > 1000  # the closure really went through FastMCP and the MCP SDK
    imported = {name.partition(".")[0] for name in reachable}
    for top, dists in owners.items():
        if dists & removed and top in imported:
            assert top in kept, f"{top} (from {sorted(dists)}) is imported by the server"


def test_the_check_would_notice_an_imported_package() -> None:
    """uvicorn is imported at start: had the Dockerfile removed it, the closure would show it."""
    # Following app/ and uvicorn alone is enough (app/uvicorn_server.py imports it)
    # and takes a moment, where following every library takes half a minute.
    reachable = import_closure.closure(
        ["app"],
        [ROOT, Path(sysconfig.get_paths()["purelib"])],
        follow=lambda top: top in {"app", "uvicorn"},
    )
    assert "uvicorn" in {name.partition(".")[0] for name in reachable}
