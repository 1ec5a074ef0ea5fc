"""A learner's fork stays green: the tests that read the files the tutorial edits pass there.

After phase 6 a fork's values-gke.yaml holds the learner's project id, after
phase 8 argocd/ their GitHub user, after phase 9 app/catalog.py their own
description, and the pipeline bumps the image; the fork's CI runs `make test`
before every build. tests/docs/fork.py makes such a fork from the tutorial's
own commands, and this runs, inside it, the tests that read the edited files
(selected by naming them or their directory; not the whole suite, to keep this
to a couple of minutes). Among them is tests/scripts/test_verify.py, which runs
the verifier's offline phases 7 and 8 there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs import fork as fork_module
from tests.docs.fork import MADE_UP, is_upstream, make_fork, tutorial_edits
from tests.helpers import ROOT, require

# In a learner's fork (its CI runs this suite) the edits are made already and the
# whole suite runs on them; re-making them here would change nothing.
pytestmark = pytest.mark.skipif(
    not is_upstream(), reason="this checkout is a fork with the tutorial's edits made"
)

# These make the fork and name the edited files: running them inside the fork
# would recurse, and their naming the files selects nothing.
MAKERS = {Path(__file__).resolve().relative_to(ROOT), Path(fork_module.__file__).relative_to(ROOT)}


@pytest.fixture(scope="module")
def fork(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require((ROOT / ".tools" / "bin" / "helm").exists(), "helm missing; run `make tools`")
    return make_fork(tmp_path_factory.mktemp("fork") / "secure-mcp-server")


def changed_files(fork: Path) -> list[str]:
    """What the learner's commits changed (and their untracked infra/config.toml)."""
    diff = subprocess.run(
        ["git", "-C", str(fork), "diff", "--name-only", "HEAD~2", "HEAD"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [*diff.stdout.split(), "infra/config.toml"]


def names_of(path: str) -> set[str]:
    """How a test names a file it reads: its name, its path, its module, its top folder."""
    relative = Path(path)
    names = {relative.name, path}
    if relative.suffix == ".py":
        names.add(".".join(relative.with_suffix("").parts))
    if len(relative.parts) == 2 and relative.parts[0] not in {"app", "infra", "scripts"}:
        names.add(f'"{relative.parts[0]}"')
    return names


def readers(fork: Path, paths: list[str]) -> list[str]:
    """Test files naming one of `paths`, and every test of a folder whose helpers name one."""
    names = set().union(*(names_of(path) for path in paths))
    selected: set[Path] = set()
    for module in sorted((fork / "tests").rglob("*.py")):
        if module.relative_to(fork) in MAKERS:
            continue
        if not any(name in module.read_text(encoding="utf-8") for name in names):
            continue
        if module.name.startswith("test_"):
            selected.add(module)
        else:
            selected.update(module.parent.glob("test_*.py"))
    return sorted(str(path.relative_to(fork)) for path in selected)


def run_in(fork: Path, *args: str, timeout: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(fork)}
    env.pop("COVERAGE_PROCESS_START", None)
    return subprocess.run(
        [sys.executable, *args], cwd=fork, env=env, capture_output=True, text=True,
        check=False, timeout=timeout,
    )  # fmt: skip


def test_the_fork_carries_every_tutorial_edit(fork: Path) -> None:
    """Each edit changed its file (make_fork checks), and no placeholder is left."""
    edited = changed_files(fork)
    assert "helm/mcp-server/values-gke.yaml" in edited
    assert "app/catalog.py" in edited
    assert {"argocd/application.yaml", "argocd/project.yaml"} <= set(edited)
    assert len(tutorial_edits()) >= 5
    for path in edited:
        text = (fork / path).read_text()
        assert "PROJECT_ID" not in text.replace("MCP_GCP_PROJECT_ID", ""), path
        assert "YOUR_GITHUB_USER" not in text, path
    assert MADE_UP["PROJECT"] in (fork / "helm/mcp-server/values-gke.yaml").read_text()


def test_the_tests_that_read_the_edited_files_pass_in_the_fork(fork: Path) -> None:
    selected = readers(fork, changed_files(fork))
    assert "tests/chart/test_objects.py" in selected
    assert "tests/scripts/test_verify.py" in selected
    result = run_in(
        fork, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-cov", *selected, timeout=900
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
