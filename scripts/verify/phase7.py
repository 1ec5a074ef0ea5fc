"""Phase 7, the pipeline: workflows lint clean and pinned, the bump cannot loop, wiring agrees."""

from __future__ import annotations

import json
import re
import shutil
from typing import Any

from .chart import gke_values, values_image
from .files import load_yaml
from .framework import CheckFailed, Context, check, declare_phase
from .infra import VALUES_GKE, infra_config, repository_variables, terraform_output

declare_phase(7, "07-pipeline.md")

PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def workflow(ctx: Context, name: str) -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(ctx.path(f".github/workflows/{name}"))
    return data


def github_glob(pattern: str) -> re.Pattern[str]:
    """GitHub's path-filter glob: `**` crosses directories, `*` does not."""
    parts = re.split(r"(\*\*|\*|\?)", pattern)
    table = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(table.get(part, re.escape(part)) for part in parts) + r"\Z")


def matches_paths(paths: list[str], changed: str) -> bool:
    """Whether a push changing `changed` starts a workflow with this `paths` filter."""
    matched = False
    for pattern in paths:
        if github_glob(pattern.removeprefix("!")).match(changed):
            matched = not pattern.startswith("!")
    return matched


@check(
    phase=7,
    title="workflows pass actionlint, zizmor --offline and the JSON schemas",
    hint="`make lint-workflows`",
)
def workflows_lint_clean(ctx: Context) -> None:
    files = sorted(
        str(p.relative_to(ctx.root)) for p in ctx.path(".github/workflows").glob("*.yml")
    )
    if not files:
        raise CheckFailed("no workflows in .github/workflows")
    ctx.run(ctx.tool("actionlint"), "-shellcheck", ctx.tool("shellcheck"), *files)
    ctx.run(ctx.tool("zizmor"), "--offline", "--quiet", "--config", ".github/zizmor.yml", ".github")
    ctx.run(ctx.tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files)
    ctx.run(
        ctx.tool("check-jsonschema"), "--builtin-schema", "vendor.dependabot",
        ".github/dependabot.yml",
    )  # fmt: skip


@check(
    phase=7,
    title="every action is pinned to a commit SHA with its version",
    hint="use owner/repo@<40-hex sha> # vX.Y.Z",
)
def actions_pinned(ctx: Context) -> None:
    unpinned = []
    for path in sorted(ctx.path(".github/workflows").glob("*.yml")):
        for match in re.finditer(r"^\s*(?:-\s+)?uses:\s*(.+)$", path.read_text(), re.M):
            uses = match.group(1).strip()
            if not uses.startswith("./") and not PINNED.match(uses):
                unpinned.append(f"{path.name}: {uses}")
    if unpinned:
        raise CheckFailed("; ".join(unpinned))


@check(
    phase=7,
    title="the bump changes two lines, and a second run nothing",
    hint="`python3 scripts/bump_image_tag.py --help`",
)
def bump_is_idempotent(ctx: Context) -> None:
    values = ctx.scratch / "values-bump.yaml"
    shutil.copy(ctx.path(VALUES_GKE), values)
    before = values.read_text().splitlines()
    tag, digest = "verify1", "sha256:" + "0" * 64
    args = [ctx.python, "scripts/bump_image_tag.py", "--file", str(values), "--tag", tag]
    first = ctx.run(*args, "--digest", digest)
    after = values.read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    if not first.stdout.startswith("updated ") or len(changed) != 2:
        raise CheckFailed(f"the first bump changed {len(changed)} lines: {first.stdout.strip()}")
    second = ctx.run(*args, "--digest", digest)
    if not second.stdout.startswith("unchanged: ") or values.read_text().splitlines() != after:
        raise CheckFailed(f"the second bump was not a no-op: {second.stdout.strip()}")


@check(
    phase=7,
    title="the bump commit cannot start a build",
    hint="keep helm/ out of image.yml's paths",
)
def bump_cannot_trigger_build(ctx: Context) -> None:
    paths = workflow(ctx, "image.yml")["on"]["push"].get("paths")
    if not paths:
        raise CheckFailed("image.yml has no paths filter on push")
    if matches_paths(paths, str(VALUES_GKE)):
        raise CheckFailed(f"a change to {VALUES_GKE} starts image.yml: the bump would loop")
    if not matches_paths(paths, "app/http_app.py"):
        raise CheckFailed("a change under app/ does not start image.yml")


@check(
    phase=7,
    title="workflow variables, infra outputs and values-gke.yaml agree",
    hint="docs/tutorial/07-pipeline.md, step 3",
)
def workflow_wiring(ctx: Context) -> None:
    text = ctx.path(".github/workflows/image.yml").read_text()
    used = set(re.findall(r"vars\.(\w+)", text))
    expected = set(repository_variables(ctx))
    if used != expected:
        raise CheckFailed(f"image.yml uses vars {sorted(used)}, expected {sorted(expected)}")
    env = workflow(ctx, "image.yml")["jobs"]["build"].get("env", {})
    if env.get("IMAGE") != "${{ vars.GCP_REGISTRY }}/mcp-server":
        raise CheckFailed(f"the pushed image is {env.get('IMAGE')!r}, not GCP_REGISTRY/mcp-server")
    cfg = infra_config(ctx)
    repository = gke_values(ctx)["image"]["repository"]
    if repository != f"{cfg.registry_url}/mcp-server":
        raise CheckFailed(
            f"values-gke.yaml image.repository {repository!r} is not registry_url/mcp-server "
            f"({cfg.registry_url}/mcp-server)"
        )


@check(
    phase=7,
    title="the repository variables equal the terraform outputs",
    hint="docs/tutorial/07-pipeline.md, step 3",
    live=True,
)
def live_repository_variables(ctx: Context) -> None:
    listed = json.loads(ctx.run("gh", "variable", "list", "--json", "name,value").stdout)
    values = {item["name"]: item["value"] for item in listed}
    wrong = []
    for variable, output in repository_variables(ctx).items():
        want = terraform_output(ctx, output)
        if values.get(variable) != want:
            wrong.append(
                f"{variable} is {values.get(variable)!r}, terraform output {output} is {want!r}"
            )
    if wrong:
        raise CheckFailed("; ".join(wrong))


@check(
    phase=7,
    title="the last image.yml run on main succeeded",
    hint="`gh run view --log-failed`",
    live=True,
)
def live_last_image_run_green(ctx: Context) -> None:
    result = ctx.run(
        "gh", "run", "list", "--workflow", "image.yml", "--branch", "main", "--limit", "1",
        "--json", "conclusion,status",
    )  # fmt: skip
    runs = json.loads(result.stdout)
    if not runs or runs[0].get("conclusion") != "success":
        raise CheckFailed(f"the last image.yml run on main is {runs[0] if runs else 'missing'}")


@check(
    phase=7,
    title="the last change to values-gke.yaml is the pipeline's",
    hint="git pull",
    live=True,
)
def live_bump_commit_by_pipeline(ctx: Context) -> None:
    author = ctx.run("git", "log", "-1", "--format=%an", "--", str(VALUES_GKE)).stdout.strip()
    if author != "github-actions[bot]":
        raise CheckFailed(f"the last change to {VALUES_GKE} is by {author!r}", hint="git pull")


@check(
    phase=7,
    title="the digest in values-gke.yaml is the registry's",
    hint="git pull; re-run image.yml",
    live=True,
)
def live_digest_in_registry(ctx: Context) -> None:
    tag, digest = values_image(ctx)
    if not tag or not digest:
        raise CheckFailed(f"{VALUES_GKE} has tag {tag!r} and digest {digest!r}")
    image = f"{terraform_output(ctx, 'registry_url')}/mcp-server:{tag}"
    pushed = ctx.run(
        "gcloud", "artifacts", "docker", "images", "describe", image,
        "--format", "value(image_summary.digest)",
        timeout=120,
    ).stdout.strip()  # fmt: skip
    if pushed != digest:
        raise CheckFailed(f"{image} is {pushed}, values-gke.yaml says {digest}")
