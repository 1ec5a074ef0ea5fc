"""A learner's fork: a copy of this repository with the edits the tutorial has them commit.

The edits are read from the tutorial, not re-typed: every `$ ` command of its
console blocks that edits a file in place (`sed -i.bak`, `>> FILE`,
`> FILE.new && mv`) or copies the example config, run by bash in document
order, with the shell variables the tutorial sets before them. Where the
tutorial reads a value from a cloud or from GitHub (`PROJECT=$(terraform ...)`,
`GITHUB_USER=$(gh api ...)`), a made-up value stands in. Phase 5's settings
table names the keys a learner fills into infra/config.toml, and image.yml's
bump step writes an image tag and digest the way the pipeline does.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tests.docs.markdown import (
    TUTORIAL,
    Command,
    console_commands,
    numbered_sections,
    table_rows,
)
from tests.helpers import ROOT

# What a learner's own account would print where the tutorial asks it.
MADE_UP = {"PROJECT": "learner-proj-4821", "GITHUB_USER": "learner-gh"}
# infra/config.toml's keys of phase 5's table, with values consistent with MADE_UP.
CONFIG_VALUES: dict[str, Any] = {
    "project_id": MADE_UP["PROJECT"],
    "state_bucket": f"{MADE_UP['PROJECT']}-tfstate",
    "github_owner": MADE_UP["GITHUB_USER"],
    "github_repository": "secure-mcp-server",
    "github_repository_id": 812345678,
    "github_owner_id": 91234567,
    "authorized_networks": [{"cidr": "198.51.100.23/32", "name": "learner laptop"}],
    "alert_email": "learner@example.com",
}
BUMP = {"TAG": "5d41402abc4b2a76b9719d911017c592ae3b7b1e", "DIGEST": "sha256:" + "7" * 64}

EDITS_A_FILE = re.compile(r"\bsed -i\.bak |>> \S|> \"?\$?[\w./]+\.new\"? && mv ")
COPIES_THE_CONFIG = re.compile(r"^cp infra/config\.example\.toml infra/config\.toml$")
ASSIGNMENT = re.compile(r"^([A-Z_]+)=(.*)$")
GIT = ("git", "-c", "commit.gpgsign=false", "-c", "user.email=learner@example.invalid")


@dataclass(frozen=True)
class Edit:
    command: Command
    variables: tuple[tuple[str, str], ...]  # the shell assignments in force, in order

    def script(self) -> str:
        assignments = [f"{name}={value}" for name, value in self.variables]
        return "\n".join(["set -euo pipefail", *assignments, self.command.text])


def tutorial_edits() -> list[Edit]:
    """The tutorial's file edits in the order a learner makes them."""
    edits: list[Edit] = []
    variables: dict[str, str] = {}
    for doc in sorted(TUTORIAL.glob("*.md")):
        for command in console_commands(doc.read_text(encoding="utf-8"), doc.name):
            assigned = ASSIGNMENT.match(command.text)
            if assigned:
                name, value = assigned.groups()
                if name in MADE_UP:
                    variables[name] = MADE_UP[name]
                elif "$(" not in value and " " not in value:
                    variables[name] = value
            elif EDITS_A_FILE.search(command.text) or COPIES_THE_CONFIG.match(command.text):
                edits.append(Edit(command, tuple(variables.items())))
    return edits


def configure_keys() -> list[str]:
    """The settings phase 5's "Configure" table tells a learner to fill in."""
    text = (TUTORIAL / "05-infrastructure.md").read_text(encoding="utf-8")
    configure = numbered_sections(text, 3)["5"]
    return [key for row in table_rows(configure) for key in re.findall(r"`(\w+)`", row[0])]


def fill_config(path: Path) -> None:
    """Set phase 5's keys in the copied example config, as a learner edits it."""
    text = path.read_text()
    for key in configure_keys():
        value = CONFIG_VALUES[key]
        line = f"{key} = {toml_value(value)}"
        text, count = re.subn(rf"^#? ?{key} = .*$", line, text, count=1, flags=re.M)
        assert count == 1, f"config.example.toml has no line for {key}"
    path.write_text(text)
    tomllib.loads(text)


def toml_value(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        tables = ", ".join(
            "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in item.items()) + " }"
            for item in value
        )
        return f"[{tables}]"
    return str(value)


def working_tree_files() -> list[str]:
    """Tracked and new (not ignored) files of the working tree: uncommitted work included."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def git(root: Path, *args: str, author: str = "learner") -> None:
    subprocess.run(
        [*GIT, "-c", f"user.name={author}", "-C", str(root), *args], check=True, capture_output=True
    )


def state(root: Path) -> str:
    """Everything an edit can change: the diff of tracked files and the untracked config."""
    diff = subprocess.run(
        ["git", "-C", str(root), "diff", "HEAD"], capture_output=True, text=True, check=True
    )
    config = root / "infra" / "config.toml"
    return diff.stdout + (config.read_text() if config.is_file() else "")


def apply(edit: Edit, root: Path) -> None:
    done = subprocess.run(["bash", "-c", edit.script()], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, f"{edit.command.doc}:{edit.command.line}: {done.stderr}"
    if COPIES_THE_CONFIG.match(edit.command.text):
        fill_config(root / "infra" / "config.toml")


def bump_image(root: Path) -> None:
    """image.yml's bump step, run as the workflow runs it, then committed as its bot."""
    workflow = YAML(typ="safe").load((root / ".github" / "workflows" / "image.yml").read_text())
    steps = [step for job in workflow["jobs"].values() for step in job.get("steps", [])]
    bump = next(step for step in steps if "bump_image_tag.py" in step.get("run", ""))
    subprocess.run(
        ["bash", "-c", bump["run"]], cwd=root, check=True, capture_output=True,
        env={**os.environ, **BUMP},
    )  # fmt: skip
    git(root, "commit", "-qam", f"deploy: mcp-server {BUMP['TAG']}", author="github-actions[bot]")


def is_upstream(root: Path = ROOT) -> bool:
    """Does `root` still hold the placeholders that the tutorial's edits replace?

    Both: a fork between phases 6 and 8 (its first green CI run, phase 7) has
    replaced the project id but not yet the GitHub user.
    """
    values = (root / "helm" / "mcp-server" / "values-gke.yaml").read_text()
    argocd = (root / "argocd" / "application.yaml").read_text()
    return "PROJECT_ID" in values and "YOUR_GITHUB_USER" in argocd


def make_fork(target: Path) -> Path:
    """A git repository at `target`: this working tree, then every tutorial edit committed.

    .venv and .tools are links to this checkout's (installed, never copied).
    """
    for name in working_tree_files():
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, destination, follow_symlinks=False)
    for name in (".venv", ".tools"):
        if (ROOT / name).exists():
            (target / name).symlink_to(ROOT / name)
    git(target, "init", "-q", "-b", "main")
    # The links are no directories, so .gitignore's `.venv/` would not match them.
    (target / ".git" / "info" / "exclude").write_text(".venv\n.tools\n")
    git(target, "add", "-A")
    git(target, "commit", "-qm", "upstream")
    for edit in tutorial_edits():
        before = state(target)
        apply(edit, target)
        assert state(target) != before, f"{edit.command.doc}:{edit.command.line} changed nothing"
    git(target, "commit", "-qam", "the tutorial's edits")
    bump_image(target)
    return target
