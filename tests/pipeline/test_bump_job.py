"""The image workflow's bump job, its shell run for real against a git remote.

The `run:` scripts of the bump job are taken from image.yml as written and run
with the shell GitHub uses (`bash --noprofile --norc -eo pipefail`) in a clone
of a bare repository standing in for GitHub. Another push lands on the remote
between checkout and push, as happens when commits arrive during a build, so
the job must rebase and retry; a second run with the same image must commit
nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tests.helpers import ROOT

IMAGE = ROOT / ".github" / "workflows" / "image.yml"
VALUES = "helm/mcp-server/values-gke.yaml"
TAG = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"
DIGEST = "sha256:" + "9f" * 32


def bump_steps() -> list[dict[str, Any]]:
    steps = YAML(typ="safe").load(IMAGE.read_text())["jobs"]["bump"]["steps"]
    return [step for step in steps if "run" in step]


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "learner",
        "GIT_AUTHOR_EMAIL": "learner@example.invalid",
        "GIT_COMMITTER_NAME": "learner",
        "GIT_COMMITTER_EMAIL": "learner@example.invalid",
    }
    return subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def run_step(step: dict[str, Any], cwd: Path, bin_dir: Path) -> subprocess.CompletedProcess[str]:
    """One `run:` step as the runner runs it, with the step's env (expressions filled in)."""
    values = {
        "${{ needs.build.outputs.tag }}": TAG,
        "${{ needs.build.outputs.digest }}": DIGEST,
    }
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    env.pop("GIT_AUTHOR_NAME", None)
    for name, value in step.get("env", {}).items():
        env[name] = values.get(value, value)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(origin))
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "--quiet", str(origin), str(seed))
    (seed / "helm" / "mcp-server").mkdir(parents=True)
    (seed / "scripts").mkdir()
    (seed / "helm" / "mcp-server" / "values-gke.yaml").write_text((ROOT / VALUES).read_text())
    (seed / "scripts" / "bump_image_tag.py").write_text(
        (ROOT / "scripts" / "bump_image_tag.py").read_text()
    )
    git(seed, "add", "--all")
    git(seed, "commit", "--quiet", "-m", "initial")
    git(seed, "push", "--quiet", "origin", "HEAD:main")

    # The job's checkout of main ...
    job = tmp_path / "job"
    git(tmp_path, "clone", "--quiet", str(origin), str(job))
    # ... and a commit that lands on main while the job runs.
    (seed / "NEWS.md").write_text("something else changed meanwhile\n")
    git(seed, "add", "NEWS.md")
    git(seed, "commit", "--quiet", "-m", "meanwhile")
    git(seed, "push", "--quiet", "origin", "HEAD:main")

    # `python3` on the runner is setup-python's 3.11; here, the interpreter of the tests.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    return origin, job, bin_dir


def test_bump_job_commits_one_change_on_top_of_main(tmp_path: Path) -> None:
    origin, job, bin_dir = setup(tmp_path)
    write, commit = bump_steps()
    assert "bump_image_tag.py" in write["run"]

    result = run_step(write, job, bin_dir)
    assert result.returncode == 0, result.stderr
    result = run_step(commit, job, bin_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rebasing onto the new main" in result.stdout

    log = git(origin, "log", "--format=%an|%s", "main").splitlines()
    assert log == [
        f"github-actions[bot]|deploy: mcp-server {TAG}",
        "learner|meanwhile",
        "learner|initial",
    ]
    changed = git(origin, "show", "--format=", "--numstat", "main").split()
    assert changed == ["2", "2", VALUES]
    values = YAML(typ="safe").load(git(origin, "show", f"main:{VALUES}"))
    assert values["image"]["tag"] == TAG
    assert values["image"]["digest"] == DIGEST


def test_a_second_run_commits_nothing(tmp_path: Path) -> None:
    origin, job, bin_dir = setup(tmp_path)
    write, commit = bump_steps()
    assert run_step(write, job, bin_dir).returncode == 0
    assert run_step(commit, job, bin_dir).returncode == 0
    head = git(origin, "rev-parse", "main")

    rerun = tmp_path / "rerun"
    git(tmp_path, "clone", "--quiet", str(origin), str(rerun))
    assert run_step(write, rerun, bin_dir).returncode == 0
    result = run_step(commit, rerun, bin_dir)
    assert result.returncode == 0, result.stderr
    assert "nothing to commit" in result.stdout
    assert git(origin, "rev-parse", "main") == head
