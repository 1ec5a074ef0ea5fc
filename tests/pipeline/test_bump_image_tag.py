"""scripts/bump_image_tag.py on a real temporary git repository.

Each test commits a values file into a fresh `git init` repository, runs the
script as the pipeline does (a subprocess), and reads the result through git:
the diff must be exactly the tag and digest lines, a second run must leave the
work tree clean, and the chart rendered by helm must reference the new image.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.helpers import ROOT, require, tool

SCRIPT = ROOT / "scripts" / "bump_image_tag.py"
CHART = ROOT / "helm" / "mcp-server"

TAG = "3f2c9e1b7d4a5c6e8f9a0b1c2d3e4f5a6b7c8d9e"
DIGEST = "sha256:" + "ab" * 32
OLD_TAG = "0123456789abcdef0123456789abcdef01234567"
OLD_DIGEST = "sha256:" + "01" * 32

FIXTURE = f"""\
# Values for GKE (a fixture shaped like helm/mcp-server/values-gke.yaml).
replicaCount: 2

image:
  # -- Artifact Registry repository.
  repository: us-central1-docker.pkg.dev/demo-project/mcp-prototype/mcp-server
  # -- Written by the pipeline: the git SHA of the build.
  tag: "{OLD_TAG}"   # keep this comment
  # -- Written by the pipeline: wins over the tag.
  digest: "{OLD_DIGEST}"
  pullPolicy: IfNotPresent

sidecar:
  image:
    tag: "must-not-change"
    digest: ""
"""


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return result.stdout


def bump(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def make_repo(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "--quiet", "--initial-branch=main")
    git(path, "config", "user.email", "test@example.invalid")
    git(path, "config", "user.name", "test")
    git(path, "config", "commit.gpgsign", "false")
    for name, text in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "-m", "initial")
    return path


def changed_lines(repo: Path) -> list[str]:
    """The removed and added lines of `git diff`, without any context."""
    diff = git(repo, "diff", "--unified=0", "--no-color")
    return [
        line
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"values-gke.yaml": FIXTURE})


def test_bump_changes_exactly_the_tag_and_digest_lines(repo: Path) -> None:
    result = bump("--file", repo / "values-gke.yaml", "--tag", TAG, "--digest", DIGEST)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"updated {repo / 'values-gke.yaml'}:",
        f"  image.tag: {OLD_TAG} -> {TAG}",
        f"  image.digest: {OLD_DIGEST} -> {DIGEST}",
    ]
    assert changed_lines(repo) == [
        f'-  tag: "{OLD_TAG}"   # keep this comment',
        f'+  tag: "{TAG}"   # keep this comment',
        f'-  digest: "{OLD_DIGEST}"',
        f'+  digest: "{DIGEST}"',
    ]
    assert git(repo, "diff", "--numstat").split() == ["2", "2", "values-gke.yaml"]
    values = YAML(typ="safe").load((repo / "values-gke.yaml").read_text())
    assert values["image"]["tag"] == TAG
    assert values["image"]["digest"] == DIGEST
    assert values["sidecar"]["image"]["tag"] == "must-not-change"


def test_second_run_changes_nothing(repo: Path) -> None:
    first = bump("--file", repo / "values-gke.yaml", "--tag", TAG, "--digest", DIGEST)
    assert first.returncode == 0, first.stderr
    git(repo, "commit", "--quiet", "--all", "-m", "deploy")
    second = bump("--file", repo / "values-gke.yaml", "--tag", TAG, "--digest", DIGEST)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("unchanged: ")
    assert git(repo, "status", "--porcelain") == ""


def test_only_the_tag_changes_when_the_digest_is_already_right(repo: Path) -> None:
    result = bump("--file", repo / "values-gke.yaml", "--tag", TAG, "--digest", OLD_DIGEST)
    assert result.returncode == 0, result.stderr
    assert changed_lines(repo) == [
        f'-  tag: "{OLD_TAG}"   # keep this comment',
        f'+  tag: "{TAG}"   # keep this comment',
    ]


def test_no_digest_clears_it(repo: Path) -> None:
    result = bump("--file", repo / "values-gke.yaml", "--tag", TAG, "--no-digest")
    assert result.returncode == 0, result.stderr
    assert '+  digest: ""' in changed_lines(repo)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("  tag: ''", f"  tag: '{TAG}'"),  # single quotes stay single
        (
            "  tag: plain-old",
            f'  tag: "{TAG}"',
        ),  # plain becomes quoted: a SHA could parse as a number
        ("  tag:", f'  tag: "{TAG}"'),
        ('  tag: "old" # c', f'  tag: "{TAG}" # c'),
    ],
)
def test_quote_styles(tmp_path: Path, line: str, expected: str) -> None:
    repo = make_repo(tmp_path / "repo", {"v.yaml": f'image:\n{line}\n  digest: ""\n'})
    result = bump("--file", repo / "v.yaml", "--tag", TAG, "--no-digest")
    assert result.returncode == 0, result.stderr
    assert changed_lines(repo) == [f"-{line}", f"+{expected}"]


def test_crlf_line_endings_are_kept(tmp_path: Path) -> None:
    values = tmp_path / "v.yaml"
    values.write_bytes(b'image:\r\n  tag: "a"\r\n  digest: ""\r\n')
    result = bump("--file", values, "--tag", TAG, "--digest", DIGEST)
    assert result.returncode == 0, result.stderr
    assert values.read_bytes() == f'image:\r\n  tag: "{TAG}"\r\n  digest: "{DIGEST}"\r\n'.encode()


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = bump("--file", tmp_path / "nope.yaml", "--tag", TAG, "--digest", DIGEST)
    assert result.returncode == 1
    assert result.stderr == f"error: values file not found: {tmp_path / 'nope.yaml'}\n"
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("replicaCount: 2\n", "no top-level `image:` mapping"),
        ('image:\n  tag: "a"\n', "`image.digest` not found"),
        ('image:\n  digest: ""\n', "`image.tag` not found"),
        ('image: {tag: "a", digest: ""}\n', "no top-level `image:` mapping"),
        ('image:\n  tag: "a"\n  tag: "b"\n  digest: ""\n', "`image.tag` appears twice"),
        ('sidecar:\n  image:\n    tag: "a"\n    digest: ""\n', "no top-level `image:` mapping"),
    ],
    ids=["no-image", "no-digest", "no-tag", "flow-style", "duplicate", "nested-only"],
)
def test_missing_or_ambiguous_key_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    values = tmp_path / "v.yaml"
    values.write_text(text)
    result = bump("--file", values, "--tag", TAG, "--digest", DIGEST)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert values.read_text() == text  # nothing half-written


@pytest.mark.parametrize(
    "tag",
    ["", "-leading-dash", ".leading-dot", "has:colon", "has/slash", "a" * 129, "sp ace"],
)
def test_invalid_tags_are_refused(repo: Path, tag: str) -> None:
    # `--tag=VALUE`, so argparse cannot take a leading dash for an option.
    result = bump("--file", repo / "values-gke.yaml", f"--tag={tag}", "--digest", DIGEST)
    assert result.returncode == 2
    assert "invalid tag" in result.stderr
    assert git(repo, "status", "--porcelain") == ""


@pytest.mark.parametrize("tag", ["v1.2.3", "_x", "A" * 128, TAG])
def test_valid_tags_are_accepted(repo: Path, tag: str) -> None:
    result = bump("--file", repo / "values-gke.yaml", "--tag", tag, "--digest", DIGEST)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "digest",
    ["sha256:abc", "sha256:" + "AB" * 32, "sha512:" + "ab" * 64, "ab" * 32, "sha256:" + "g" * 64],
)
def test_invalid_digests_are_refused(repo: Path, digest: str) -> None:
    result = bump("--file", repo / "values-gke.yaml", "--tag", TAG, "--digest", digest)
    assert result.returncode == 2
    assert "invalid digest" in result.stderr


def test_digest_or_no_digest_is_required(repo: Path) -> None:
    result = bump("--file", repo / "values-gke.yaml", "--tag", TAG)
    assert result.returncode == 2
    assert "--digest" in result.stderr


# --- the real chart ------------------------------------------------------------


def rendered_images(chart: Path, *values: Path) -> list[str]:
    args = [tool("helm"), "template", "mcp-server", str(chart), "--namespace", "mcp-prototype"]
    for path in values:
        args += ["--values", str(path)]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    images = []
    for document in YAML(typ="safe").load_all(result.stdout):
        if document and document.get("kind") == "Deployment":
            spec = document["spec"]["template"]["spec"]
            images += [c["image"] for c in spec.get("initContainers", []) + spec["containers"]]
    return images


def test_bumped_chart_renders_the_new_image(tmp_path: Path) -> None:
    values_gke = CHART / "values-gke.yaml"
    require(values_gke.is_file(), "helm/mcp-server/values-gke.yaml is not written yet")
    repo = tmp_path / "repo"
    shutil.copytree(CHART, repo / "helm" / "mcp-server")
    chart = repo / "helm" / "mcp-server"
    values = chart / "values-gke.yaml"
    # What the learner does in phase 6 before the first deploy.
    values.write_text(values.read_text().replace("PROJECT_ID", "demo-project"))
    make_repo(repo, {})
    repository = YAML(typ="safe").load(values.read_text())["image"]["repository"]

    result = bump("--file", values, "--tag", TAG, "--digest", DIGEST)
    assert result.returncode == 0, result.stderr
    diff = changed_lines(repo)
    assert len(diff) in (2, 4)  # tag and digest lines; only tag if the digest was already DIGEST
    assert all(line.lstrip("+-").strip().startswith(("tag:", "digest:")) for line in diff)
    assert set(rendered_images(chart, values)) == {f"{repository}@{DIGEST}"}

    git(repo, "commit", "--quiet", "--all", "-m", "deploy")
    again = bump("--file", values, "--tag", TAG, "--digest", DIGEST)
    assert again.stdout.startswith("unchanged: ")
    assert git(repo, "status", "--porcelain") == ""

    # Without a digest the tag selects the image.
    assert bump("--file", values, "--tag", TAG, "--no-digest").returncode == 0
    assert set(rendered_images(chart, values)) == {f"{repository}:{TAG}"}
