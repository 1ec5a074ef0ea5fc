"""mcp-verify (`make verify PHASE=N`): phases pass on this repository, and a broken copy fails.

The verifier runs as the learner runs it: the `mcp-verify` console script in a
subprocess, on this repository or on a temporary copy in which one check's
precondition is broken. The live checks run against stand-ins for gh, gcloud
and terraform on PATH that answer the commands the checks run (nothing here
reaches a cloud); git is real.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.mcp_infra.outputs import REPOSITORY_VARIABLES
from mcp_cli.verify import cli
from mcp_cli.verify.checks import Suite, related
from mcp_cli.verify.phases import CHECKS, PHASES
from tests.helpers import ROOT, tool

MCP_VERIFY = Path(sys.executable).with_name("mcp-verify")


def verify(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MCP_VERIFY), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        env=env,
    )


def statuses(output: str) -> dict[str, str]:
    """{check name: PASS/FAIL/SKIP}, read from the report by the checks' titles."""
    by_title = {check.title: name for name, check in CHECKS.items()}
    found = {}
    for line in output.splitlines():
        status, _, rest = line.strip().partition("  ")
        if status in {"PASS", "FAIL", "SKIP"}:
            found[by_title[rest.removeprefix("[live] ").split("  (")[0]]] = status
    return found


def git(root: Path, *args: str, user: str = "learner") -> None:
    subprocess.run(
        ["git", "-C", str(root), "-c", f"user.name={user}", "-c", "user.email=l@example.invalid",
         "-c", "commit.gpgsign=false", *args],
        check=True, capture_output=True,
    )  # fmt: skip


def copy_project(target: Path) -> Path:
    """The repository's files (tracked and new, as in the working tree), in a git repository."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\0")  # fmt: skip
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    if (ROOT / ".tools").is_dir():
        (target / ".tools").symlink_to(ROOT / ".tools")
    subprocess.run(["git", "init", "-q", str(target)], check=True)
    git(target, "add", "-A")
    git(target, "commit", "-qm", "copy")
    return target


# --- the command line ------------------------------------------------------------------


def test_the_console_script_lists_every_check_by_name() -> None:
    result = verify("--list")
    assert result.returncode == 0, result.stderr
    for name in CHECKS:
        assert f"({name})" in result.stdout
    assert result.stdout.count("Phase ") == len(PHASES)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["11"], "phase must be 0 to 10"),
        (["seven"], "phase must be 0 to 10"),
        ([], "phase must be 0 to 10"),
        (["--check", "actions_pined"], "did you mean actions_pinned"),
        (["7", "--check", "python_version"], "phase 7 has no check 'python_version'"),
    ],
)
def test_a_bad_command_line_exits_2_naming_the_mistake(
    args: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(args)
    assert exited.value.code == 2
    assert named in capsys.readouterr().err


def test_every_test_a_check_names_exists() -> None:
    """A renamed or deleted test would turn its check into a failure for every learner."""
    selections = sorted({s for c in CHECKS.values() if isinstance(c, Suite) for s in c.tests})
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         *selections],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    tests = [line for line in collected.stdout.splitlines() if "::" in line]
    assert [s for s in selections if not any(related(s, t) for t in tests)] == [], collected.stdout[
        -2000:
    ]


# --- phases on this repository ----------------------------------------------------------


@pytest.mark.parametrize("phase", ["7", "8"])
def test_an_offline_phase_passes_on_this_repository(phase: str) -> None:
    tool("actionlint")
    tool("helm")
    result = verify(phase)
    assert result.returncode == 0, result.stdout + result.stderr
    found = statuses(result.stdout)
    for check in PHASES[int(phase)].checks:
        # A live check needs --live; a learner's step may not be taken (or not be told) yet.
        expected = {"SKIP"} if check.live else {"PASS", "SKIP"} if check.needs else {"PASS"}
        assert found[check.name] in expected, check.name


def test_a_check_runs_alone_under_its_own_phase() -> None:
    result = verify("9", "--check", "bump_cannot_trigger_build")
    assert result.returncode == 0, result.stdout + result.stderr
    assert statuses(result.stdout) == {"bump_cannot_trigger_build": "PASS"}
    assert result.stdout.startswith(PHASES[7].title(ROOT))  # its home phase


def test_tests_that_cannot_run_here_are_a_skip_with_their_reason() -> None:
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock", "CI": ""}
    result = verify("--check", "container_healthy", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert statuses(result.stdout) == {"container_healthy": "SKIP"}
    assert "docker" in result.stdout.lower()


# --- failures, on a broken copy ----------------------------------------------------------


def test_a_failing_test_fails_its_check_with_the_hint(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    image = root / ".github" / "workflows" / "ci.yml"
    text = image.read_text()
    pinned = next(line for line in text.splitlines() if "uses: actions/checkout@" in line)
    image.write_text(text.replace(pinned, pinned.split("@")[0] + "@v4"))
    result = verify("--check", "actions_pinned", "--root", root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert statuses(result.stdout) == {"actions_pinned": "FAIL"}
    assert "why:  tests/pipeline/test_workflows.py::test_every_action_is_pinned" in result.stdout
    assert f"hint: {CHECKS['actions_pinned'].hint}" in result.stdout


def test_a_project_without_setup_fails_phase_0_with_hints(tmp_path: Path) -> None:
    result = verify("0", "--root", tmp_path)
    assert result.returncode == 1
    found = statuses(result.stdout)
    assert found["venv_installed"] == found["make_help"] == "FAIL"
    assert found["no_lock_files_tracked"] == "SKIP"  # not a git checkout
    assert f"hint: {CHECKS['venv_installed'].hint}" in result.stdout


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        ("git@github.com:learner/secure-mcp-server.git", "PASS"),
        ("https://github.com/learner/secure-mcp-server", "PASS"),
        ("https://github.com/someone-else/secure-mcp-server.git", "FAIL"),
    ],
)
def test_the_application_must_point_at_your_origin(
    tmp_path: Path, origin: str, status: str
) -> None:
    root = tmp_path / "fork"
    (root / "argocd").mkdir(parents=True)
    (root / "infra").mkdir()
    (root / "infra" / "config.toml").write_text("# phase 5 done\n")
    url = "https://github.com/learner/secure-mcp-server.git"
    (root / "argocd" / "application.yaml").write_text(f"spec:\n  source:\n    repoURL: {url}\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    git(root, "remote", "add", "origin", origin)
    result = verify("--check", "application_points_at_your_fork", "--root", root)
    assert statuses(result.stdout) == {"application_points_at_your_fork": status}
    assert result.returncode == (status == "FAIL")


@pytest.mark.parametrize("state", ["before phase 5", "no origin"])
def test_what_cannot_be_told_yet_is_a_skip(tmp_path: Path, state: str) -> None:
    if state == "no origin":
        (tmp_path / "infra").mkdir()
        (tmp_path / "infra" / "config.toml").write_text("# phase 5 done\n")
        subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    result = verify("--check", "application_points_at_your_fork", "--root", tmp_path)
    assert result.returncode == 0
    assert statuses(result.stdout) == {"application_points_at_your_fork": "SKIP"}


# --- the live checks, against stand-ins for the cloud CLIs ------------------------------

PROJECT = "verify-demo-project"
OUTPUTS = {
    "project_id": PROJECT,
    "region": "us-central1",
    "registry_url": f"us-central1-docker.pkg.dev/{PROJECT}/mcp-prototype",
    "wif_provider": "projects/1/locations/global/workloadIdentityPools/github-actions/providers/gh",
    "ci_service_account": f"mcp-ci-pusher@{PROJECT}.iam.gserviceaccount.com",
    "attestor": f"projects/{PROJECT}/attestors/mcp-pipeline",
    "attestation_key_version": f"projects/{PROJECT}/locations/us-central1/keyRings/k/cryptoKeys/a",
}
DIGEST = "sha256:" + "5" * 64
LIVE_PIPELINE = [c.name for c in PHASES[7].checks if c.live]


def stand_in(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!{sys.executable}\nimport json, os, sys\nargs = sys.argv[1:]\n{body}\n")
    path.chmod(0o755)


@pytest.fixture
def cloud(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A copy bumped by the bot, and gh, gcloud and terraform that agree with it."""
    root = copy_project(tmp_path / "project")
    (root / "infra" / "cdktf.out" / "stacks" / "mcp-prototype").mkdir(parents=True)
    values = root / "helm" / "mcp-server" / "values-gke.yaml"
    subprocess.run(
        [sys.executable, str(root / "scripts" / "bump_image_tag.py"), "--file", str(values),
         "--tag", "5d41402abc4b2a76b9719d911017c592ae3b7b1e", "--digest", DIGEST],
        check=True, capture_output=True,
    )  # fmt: skip
    git(root, "commit", "-qam", "deploy", user="github-actions[bot]")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    outputs = {name: {"value": value} for name, value in OUTPUTS.items()}
    stand_in(bin_dir, "terraform", f"print(json.dumps({outputs!r}))")
    variables = [{"name": v, "value": OUTPUTS[o]} for v, o in REPOSITORY_VARIABLES.items()]
    stand_in(
        bin_dir,
        "gh",
        f"""if args[:2] == ["variable", "list"]:
    print(json.dumps({variables!r}))
elif args[:2] == ["run", "list"]:
    print(os.environ["FAKE_RUN"])
else:
    sys.exit("unexpected gh " + " ".join(args))""",
    )
    stand_in(
        bin_dir,
        "gcloud",
        """if args[:4] == ["artifacts", "docker", "images", "describe"]:
    print(os.environ["FAKE_DIGEST"])
else:
    sys.exit("unexpected gcloud " + " ".join(args))""",
    )
    path = f"{bin_dir}:{os.environ['PATH']}"
    return root, {**os.environ, "PATH": path, "FAKE_RUN": "success", "FAKE_DIGEST": DIGEST}


def live_statuses(root: Path, env: dict[str, str]) -> dict[str, str]:
    found = {}
    for name in LIVE_PIPELINE:
        result = verify("--check", name, "--live", "--root", root, env=env)
        found.update(statuses(result.stdout))
        assert result.returncode == (found[name] == "FAIL"), result.stdout + result.stderr
    return found


def test_live_pipeline_checks_pass_when_everything_agrees(
    cloud: tuple[Path, dict[str, str]],
) -> None:
    assert live_statuses(*cloud) == dict.fromkeys(LIVE_PIPELINE, "PASS")


def test_live_pipeline_checks_name_what_disagrees(cloud: tuple[Path, dict[str, str]]) -> None:
    root, env = cloud
    env.update(FAKE_RUN="failure", FAKE_DIGEST="sha256:" + "6" * 64)
    found = live_statuses(root, env)
    assert found["live_last_image_run_green"] == found["live_digest_in_registry"] == "FAIL"
    assert found["live_repository_variables"] == found["live_bump_commit_by_pipeline"] == "PASS"
    (root / "helm" / "mcp-server" / "values-gke.yaml").write_text("image: {}\n")
    git(root, "commit", "-qam", "hand edit")
    assert live_statuses(root, env)["live_bump_commit_by_pipeline"] == "FAIL"
