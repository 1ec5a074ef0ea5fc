"""The GitHub Actions workflows: the linters pass, and the hygiene rules hold.

The linters (actionlint with shellcheck, zizmor --offline, the vendored JSON
schemas) are the same commands `make lint-workflows` runs; a broken copy of a
workflow proves they would catch a regression. The structural tests read the
workflows as YAML and assert the rules of docs/tutorial/07-pipeline.md that no
linter checks: what triggers a build, who holds which permission, and which
repository variables connect the pipeline to the infra outputs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from infra.mcp_infra.outputs import PLAN_VARIABLES, REPOSITORY_VARIABLES
from tests.helpers import ROOT, tool

GITHUB = ROOT / ".github"
WORKFLOWS = GITHUB / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))
CI = WORKFLOWS / "ci.yml"
IMAGE = WORKFLOWS / "image.yml"
INFRA = WORKFLOWS / "infra.yml"
VALUES_GKE = "helm/mcp-server/values-gke.yaml"


PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)


def all_steps(workflow: Any) -> list[tuple[str, dict[str, Any]]]:
    return [
        (job_id, step) for job_id, job in workflow["jobs"].items() for step in job.get("steps", [])
    ]


def uses_lines(path: Path) -> list[str]:
    """Every `uses:` value with its trailing comment, as written in the file."""
    return [
        match.group(1).strip()
        for match in re.finditer(r"^\s*(?:-\s+)?uses:\s*(.+)$", path.read_text(), re.M)
    ]


def github_glob(pattern: str) -> re.Pattern[str]:
    """GitHub's path filter glob: `**` crosses directories, `*` does not."""
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            regex += ".*"
            i += 2
        elif pattern[i] == "*":
            regex += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            regex += "[^/]"
            i += 1
        else:
            regex += re.escape(pattern[i])
            i += 1
    return re.compile(regex + r"\Z")


def triggers_build(paths: list[str], changed: str) -> bool:
    """Whether a push changing only `changed` matches the `paths` filter (last match wins)."""
    matched = False
    for pattern in paths:
        negated = pattern.startswith("!")
        if github_glob(pattern.removeprefix("!")).match(changed):
            matched = not negated
    return matched


# --- the linters, as `make lint-workflows` runs them -------------------------


def test_workflow_files_exist() -> None:
    assert {path.name for path in WORKFLOW_FILES} == {
        "ci.yml",
        "image.yml",
        "infra.yml",
        "laptops.yml",
    }
    assert (GITHUB / "dependabot.yml").is_file()


def test_actionlint_with_shellcheck_is_clean() -> None:
    result = run(tool("actionlint"), "-shellcheck", tool("shellcheck"), *map(str, WORKFLOW_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_offline_has_no_findings() -> None:
    result = run(tool("zizmor"), "--offline", "--config", str(GITHUB / "zizmor.yml"), str(GITHUB))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_zizmor_ignores_are_few_and_explained() -> None:
    config = (GITHUB / "zizmor.yml").read_text()
    rules = load(GITHUB / "zizmor.yml")["rules"]
    assert set(rules) == {"self-repository"}
    # Every ignored rule carries a comment saying why, right under its name;
    # inline ignores carry one on the line.
    lines = config.splitlines()
    for rule in rules:
        below = lines[lines.index(f"  {rule}:") + 1]
        assert below.strip().startswith("# "), f"zizmor.yml: {rule} has no reason"
    for path in WORKFLOW_FILES:
        for line in path.read_text().splitlines():
            if "zizmor: ignore" in line:
                assert re.search(r"zizmor: ignore\[[\w-]+\] \w+", line), line


def test_shellcheck_is_clean_on_the_attestation_script() -> None:
    result = run(tool("shellcheck"), str(ROOT / "scripts" / "ci" / "attestation.sh"))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("schema", "files"),
    [
        ("vendor.github-workflows", WORKFLOW_FILES),
        ("vendor.dependabot", [GITHUB / "dependabot.yml"]),
    ],
)
def test_json_schema(schema: str, files: list[Path]) -> None:
    result = run(tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("breakage", "linter"),
    [
        # An action by a movable tag instead of a commit SHA.
        (
            lambda text: text.replace(
                "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2",
                "actions/checkout@v4",
            ),
            "zizmor",
        ),
        # Untrusted input expanded straight into a shell script.
        (
            lambda text: text.replace(
                "run: make lint", 'run: echo "${{ github.event.pull_request.title }}"'
            ),
            "zizmor",
        ),
        # A typo in a key GitHub would reject.
        (lambda text: text.replace("runs-on:", "run-on:", 1), "actionlint"),
    ],
    ids=["unpinned-action", "template-injection", "unknown-key"],
)
def test_linters_catch_a_broken_workflow(tmp_path: Path, breakage: Any, linter: str) -> None:
    broken = tmp_path / ".github" / "workflows"
    broken.mkdir(parents=True)
    shutil.copy(GITHUB / "zizmor.yml", tmp_path / ".github" / "zizmor.yml")
    text = CI.read_text()
    changed = breakage(text)
    assert changed != text, "the breakage no longer applies; update this test"
    (broken / "ci.yml").write_text(changed)
    if linter == "zizmor":
        result = run(
            tool("zizmor"),
            "--offline",
            "--config",
            str(tmp_path / ".github" / "zizmor.yml"),
            str(tmp_path / ".github"),
        )
    else:
        result = run(tool("actionlint"), str(broken / "ci.yml"))
    assert result.returncode != 0, result.stdout + result.stderr


# --- hygiene that no linter checks ------------------------------------------


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(path: Path) -> None:
    for uses in uses_lines(path):
        if uses.startswith("./"):
            continue  # the repository's own reusable workflow, at this very commit
        assert PINNED.match(uses), f"{path.name}: {uses!r} is not `owner/repo@<sha> # vX.Y.Z`"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_permissions_are_empty_at_the_top_and_listed_per_job(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] == {}
    for job_id, job in workflow["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {job_id} lists no permissions"
        granted = {scope for scope, level in job["permissions"].items() if level != "none"}
        if (path.name, job_id) in {("image.yml", "build"), ("infra.yml", "plan")}:
            assert job["permissions"] == {"contents": "read", "id-token": "write"}
        elif (path.name, job_id) == ("image.yml", "bump"):
            assert job["permissions"] == {"contents": "write"}
        else:
            assert granted <= {"contents"}, f"{path.name}: {job_id} has {granted}"
            assert job["permissions"].get("contents") == "read"


def test_id_token_write_only_where_google_auth_runs() -> None:
    for path in WORKFLOW_FILES:
        for job_id, job in load(path)["jobs"].items():
            has_id_token = job.get("permissions", {}).get("id-token") == "write"
            runs_auth = any(
                step.get("uses", "").startswith("google-github-actions/auth@")
                for step in job.get("steps", [])
            )
            assert has_id_token == runs_auth, f"{path.name}: {job_id}"


def test_checkout_drops_credentials_except_in_the_bump_job() -> None:
    checkouts = 0
    for path in WORKFLOW_FILES:
        for job_id, step in all_steps(load(path)):
            if not step.get("uses", "").startswith("actions/checkout@"):
                continue
            checkouts += 1
            persist = step.get("with", {}).get("persist-credentials")
            if (path.name, job_id) == ("image.yml", "bump"):
                assert persist is True
            else:
                assert persist is False, f"{path.name}: {job_id}"
    assert checkouts == 5


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_no_expression_inside_run_blocks(path: Path) -> None:
    """Values reach shell scripts through `env:`, never by `${{ }}` text substitution."""
    for job_id, step in all_steps(load(path)):
        assert "${{" not in step.get("run", ""), f"{path.name}: {job_id}: {step.get('name')}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_concurrency_group(path: Path) -> None:
    concurrency = load(path)["concurrency"]
    assert "github.ref" in concurrency["group"]


def test_concurrency_groups_of_caller_and_callee_differ() -> None:
    # A reusable workflow sharing its caller's group would wait on itself forever.
    assert (
        load(CI)["concurrency"]["group"].split("$")[0]
        != load(IMAGE)["concurrency"]["group"].split("$")[0]
    )
    # Builds of main queue; they are never cancelled half-way through a push.
    assert load(IMAGE)["concurrency"]["cancel-in-progress"] is False


def test_repository_variables_are_the_infra_outputs() -> None:
    used = set(re.findall(r"vars\.(\w+)", IMAGE.read_text()))
    assert used == set(REPOSITORY_VARIABLES)
    assert "secrets." not in IMAGE.read_text() + CI.read_text()
    # The build fails first thing, naming the fix, when any variable is unset.
    guard = load(IMAGE)["jobs"]["build"]["steps"][0]
    assert guard["env"] == {name: f"${{{{ vars.{name} }}}}" for name in REPOSITORY_VARIABLES}
    assert all(name in guard["run"] for name in REPOSITORY_VARIABLES)
    assert "07-pipeline.md" in guard["run"]


# --- what the workflows do ------------------------------------------------------


def test_pull_requests_run_make_lint_and_make_test_with_caches() -> None:
    workflow = load(CI)
    assert set(workflow["on"]) == {"pull_request", "workflow_call"}
    steps = workflow["jobs"]["checks"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "make lint" in runs
    assert "make test" in runs
    assert "scripts/ci/docker-engine.sh start" in runs
    cache = next(step for step in steps if step.get("uses", "").startswith("actions/cache@"))
    assert cache["with"]["path"].split() == [".venv", ".tools"]
    assert "hashFiles('requirements/**'" in cache["with"]["key"]


def test_image_workflow_runs_the_same_checks_first() -> None:
    jobs = load(IMAGE)["jobs"]
    assert jobs["checks"]["uses"] == "./.github/workflows/ci.yml"
    assert jobs["build"]["needs"] == "checks"
    assert jobs["bump"]["needs"] == "build"


def test_image_is_built_once_then_scanned_signed_and_verified_in_that_order() -> None:
    """The data flow between these steps is tests/pipeline/test_image_data_flow.py's."""
    steps = load(IMAGE)["jobs"]["build"]["steps"]
    ids = [step.get("id") for step in steps]
    builds = [s for s in steps if s.get("uses", "").startswith("docker/build-push-action@")]
    assert len(builds) == 1, "the image is built once"
    assert ids.index("auth") < ids.index("push") < ids.index("scan")
    assert ids.index("scan") < ids.index("sign") < ids.index("verify")
    assert not any("if" in step for step in steps), "no step of the chain may be skipped"
    trivy = steps[ids.index("scan")]["with"]
    assert steps[ids.index("scan")]["uses"].startswith("aquasecurity/trivy-action@")
    assert trivy["severity"] == "CRITICAL"
    assert trivy["ignore-unfixed"] is True
    assert str(trivy["exit-code"]) == "1"
    assert trivy["version"] != "v0.69.4"  # the malicious Trivy release


def test_image_push_is_tagged_with_the_sha_and_attested() -> None:
    steps = load(IMAGE)["jobs"]["build"]["steps"]
    push = next(step for step in steps if step.get("id") == "push")["with"]
    assert push["push"] is True
    assert push["tags"] == "${{ env.IMAGE }}:${{ github.sha }}"
    assert push["sbom"] is True
    assert push["provenance"] == "mode=max"
    assert push["cache-from"] == "type=gha"
    assert push["cache-to"] == "type=gha,mode=max"
    auth = next(step for step in steps if step.get("id") == "auth")["with"]
    assert "credentials_json" not in auth  # WIF, never a key
    assert auth["workload_identity_provider"] == "${{ vars.GCP_WIF_PROVIDER }}"


def test_bump_job_writes_tag_and_digest_of_the_build() -> None:
    steps = load(IMAGE)["jobs"]["bump"]["steps"]
    bump = next(step for step in steps if "bump_image_tag.py" in step.get("run", ""))
    assert f"--file {VALUES_GKE}" in bump["run"]
    assert bump["env"] == {
        "TAG": "${{ needs.build.outputs.tag }}",
        "DIGEST": "${{ needs.build.outputs.digest }}",
    }
    assert (ROOT / "scripts" / "bump_image_tag.py").is_file()


def test_the_bump_commit_cannot_trigger_a_build() -> None:
    paths = load(IMAGE)["on"]["push"]["paths"]
    assert not triggers_build(paths, VALUES_GKE)
    assert not triggers_build(paths, "helm/mcp-server/values.yaml")
    assert not triggers_build(paths, "docs/tutorial/07-pipeline.md")
    # ... while a change to the server does.
    assert triggers_build(paths, "app/http_app.py")
    assert triggers_build(paths, "app/documents/public.md")
    assert triggers_build(paths, "Dockerfile")
    assert triggers_build(paths, "requirements/main.txt")
    assert triggers_build(paths, "requirements/image-build.txt")
    assert not triggers_build(paths, "requirements/dev.txt")


def test_github_glob_semantics() -> None:
    assert github_glob("app/**").match("app/a/b.py")
    assert not github_glob("app/*").match("app/a/b.py")
    assert triggers_build(["app/**", "!app/docs/**"], "app/x.py")
    assert not triggers_build(["app/**", "!app/docs/**"], "app/docs/x.md")


def test_dependabot_covers_pip_docker_and_actions() -> None:
    updates = load(GITHUB / "dependabot.yml")["updates"]
    assert {update["package-ecosystem"] for update in updates} == {
        "pip",
        "docker",
        "github-actions",
    }
    for update in updates:
        assert update["cooldown"]["default-days"] >= 1


def test_variable_guard_names_what_is_missing() -> None:
    """The guard's shell, run as the runner runs it, with one variable unset, then all set."""
    guard = load(IMAGE)["jobs"]["build"]["steps"][0]["run"]
    values = {name: f"value-of-{name}" for name in REPOSITORY_VARIABLES}

    def run_guard(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", guard],
            env={"PATH": "/usr/bin:/bin", **env},
            capture_output=True,
            text=True,
            check=False,
        )

    missing = run_guard({**values, "GCP_WIF_PROVIDER": ""})
    assert missing.returncode == 1
    assert missing.stdout.strip() == (
        "::error::repository variables not set: GCP_WIF_PROVIDER "
        "(docs/tutorial/07-pipeline.md, step 3)"
    )
    assert run_guard(values).returncode == 0


# --- the infra workflow ----------------------------------------------------------


def test_no_workflow_sets_up_an_end_of_life_node() -> None:
    """Node 20 reached its end of life: every setup-node asks for 22 or newer."""
    versions = [
        str(step["with"]["node-version"])
        for path in WORKFLOW_FILES
        for _job, step in all_steps(load(path))
        if step.get("uses", "").startswith("actions/setup-node@")
    ]
    assert versions
    assert all(int(version.split(".")[0]) >= 22 for version in versions), versions


def test_infra_plans_every_change_to_infra_and_never_applies() -> None:
    workflow = load(INFRA)
    for event in ("pull_request", "push"):
        paths = workflow["on"][event]["paths"]
        assert triggers_build(paths, "infra/mcp_infra/cluster.py"), event
        assert triggers_build(paths, "infra/config.example.toml"), event
        assert not triggers_build(paths, "app/http_app.py"), event
    assert workflow["on"]["push"]["branches"] == ["main"]
    runs = "\n".join(step.get("run", "") for _job, step in all_steps(workflow))
    assert "make synth" in runs
    assert "plan -input=false -no-color -lock=false" in runs
    assert "apply" not in runs
    assert "GITHUB_STEP_SUMMARY" in runs


def test_infra_plan_is_skipped_where_it_cannot_sign_in() -> None:
    """Not set up yet, or a fork's pull request (no OIDC token): skipped, not red."""
    condition = " ".join(load(INFRA)["jobs"]["plan"]["if"].split())
    assert "vars.GCP_PLAN_WIF_PROVIDER != ''" in condition
    assert "github.event.pull_request.head.repo.full_name == github.repository" in condition


def test_infra_signs_in_with_the_plan_identity_after_the_synth() -> None:
    steps = load(INFRA)["jobs"]["plan"]["steps"]
    names = [step.get("uses", "").split("@")[0] or step.get("run", "") for step in steps]
    auth = next(i for i, name in enumerate(names) if name == "google-github-actions/auth")
    synth = next(i for i, name in enumerate(names) if "make synth" in name)
    plan = next(i for i, name in enumerate(names) if "terraform -chdir" in name)
    # Code from the pull request (the synth) has run before any token exists.
    assert synth < auth < plan
    assert steps[auth]["with"]["workload_identity_provider"] == "${{ vars.GCP_PLAN_WIF_PROVIDER }}"
    assert steps[auth]["with"]["service_account"] == "${{ vars.GCP_PLAN_SERVICE_ACCOUNT }}"


def test_infra_variables_are_the_plan_outputs_and_the_config() -> None:
    used = set(re.findall(r"vars\.(\w+)", INFRA.read_text()))
    assert used == set(PLAN_VARIABLES) | {"INFRA_CONFIG_TOML"}
    assert "secrets." not in INFRA.read_text()


FAKE_TERRAFORM = """#!/bin/sh
case "$*" in
  *" init "*) echo "Terraform has been successfully initialized!"; exit 0 ;;
esac
echo "Terraform will perform the following actions:"
echo "  # google_kms_key_ring.binauthz_key-ring will be created"
echo "Plan: 3 to add, 1 to change, 0 to destroy."
exit "$FAKE_PLAN_EXIT"
"""


@pytest.mark.parametrize(("plan_exit", "step_exit"), [(0, 0), (2, 0), (1, 1)])
def test_plan_step_and_summary_as_the_runner_runs_them(
    tmp_path: Path, plan_exit: int, step_exit: int
) -> None:
    """`terraform plan -detailed-exitcode`: 2 (changes) is a good plan, 1 fails; both summarized."""
    steps = {step.get("name"): step for step in load(INFRA)["jobs"]["plan"]["steps"]}
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "terraform").write_text(FAKE_TERRAFORM)
    (bin_dir / "terraform").chmod(0o755)
    summary = tmp_path / "summary.md"
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "STACK_DIR": "infra/cdktf.out/stacks/mcp-prototype",
        "GITHUB_STEP_SUMMARY": str(summary),
        "FAKE_PLAN_EXIT": str(plan_exit),
    }

    def run_step(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", steps[name]["run"]],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    plan = run_step("terraform plan")
    assert plan.returncode == step_exit, plan.stdout + plan.stderr
    assert steps["Plan summary"]["if"] == "always()"
    assert run_step("Plan summary").returncode == 0
    text = summary.read_text()
    assert text.startswith("### terraform plan\n")
    assert "Plan: 3 to add, 1 to change, 0 to destroy." in text
    assert "google_kms_key_ring.binauthz_key-ring will be created" in text
