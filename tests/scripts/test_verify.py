"""scripts/verify/ (run as scripts/verify_phase.py): the cheap phases for real, and the reports.

The real runs use this repository (phases 0, 1, 2, and 6-9 offline, which
start the server, mint tokens, lint and render). The failure tests point the
verifier at a broken temporary copy of the parts a phase reads, and check
that it names each broken check with a hint and exits non-zero.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.mcp_infra.outputs import REPOSITORY_VARIABLES
from scripts.verify import cli, framework
from tests.helpers import ROOT, tool

SCRIPT = ROOT / "scripts" / "verify_phase.py"
CONTRACT_DOCS = [
    "00-setup.md",
    "01-server.md",
    "02-auth.md",
    "03-tests.md",
    "04-container.md",
    "05-infrastructure.md",
    "06-helm-external-secrets.md",
    "07-pipeline.md",
    "08-argocd.md",
    "09-end-to-end.md",
    "10-sign-in.md",
]
assert cli.PHASE_MODULES  # importing cli registers every phase's checks


def verify(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def status_lines(output: str) -> dict[str, str]:
    """{check title: PASS/FAIL/SKIP} from the verifier's output."""
    result = {}
    for line in output.splitlines():
        parts = line.strip().split("  ")
        if parts[0] in {"PASS", "FAIL", "SKIP"}:
            result[parts[1].removeprefix("[live] ")] = parts[0]
    return result


# --- the registry ------------------------------------------------------------------


def test_every_phase_has_checks_and_its_contract_doc() -> None:
    assert sorted(framework.PHASES) == list(range(len(CONTRACT_DOCS)))
    for number, phase in framework.PHASES.items():
        assert phase.number == number
        assert phase.doc == CONTRACT_DOCS[number]
        assert phase.checks, f"phase {number} checks nothing"
        titles = [check.title for check in phase.checks]
        assert len(titles) == len(set(titles)), f"phase {number} repeats a title"
        assert all(check.hint for check in phase.checks)
    # Every phase has checks that run anywhere; the live ones are only for 5-10.
    for number, phase in framework.PHASES.items():
        assert any(not check.live for check in phase.checks)
        if number < 5:
            assert not any(check.live for check in phase.checks)


def test_list_prints_every_check_without_running_any() -> None:
    result = verify("7", "--list")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == framework.PHASES[7].title(ROOT)
    assert len(result.stdout.splitlines()) == 1 + len(framework.PHASES[7].checks)
    assert "  - [live] the last image.yml run on main succeeded" in result.stdout


@pytest.mark.parametrize("phase", ["11", "-1", "seven", ""])
def test_bad_phase_is_a_usage_error(phase: str) -> None:
    result = verify(phase)
    assert result.returncode == 2
    assert f"phase must be 0 to {max(framework.PHASES)}" in result.stderr


# --- the framework's reporting -------------------------------------------------------


def fake_phase(*checks: framework.Check) -> framework.Phase:
    return framework.Phase(42, "42-nothing.md", list(checks))


def passes(ctx: object) -> None:
    return None


def fails(ctx: object) -> None:
    raise framework.CheckFailed("the widget is missing", hint="install the widget")


def fails_without_hint(ctx: object) -> None:
    raise framework.CheckFailed("the gadget is broken")


def crashes(ctx: object) -> None:
    raise KeyError("image")


def skips(ctx: object) -> None:
    raise framework.CheckSkipped("no engine here")


def test_report_has_a_line_per_check_and_hints_on_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    phase = fake_phase(
        framework.Check("first passes", passes, "unused"),
        framework.Check("second fails", fails, "default hint"),
        framework.Check("third fails", fails_without_hint, "the check's own hint"),
        framework.Check("fourth crashes", crashes, "look at the values file"),
        framework.Check("fifth skips", skips, "unused"),
        framework.Check("sixth is live", fails, "unused", live=True),
    )
    ctx = framework.Context(root=tmp_path, live=False, scratch=tmp_path)
    outcomes = framework.verify(phase, ctx)
    assert [o.status for o in outcomes] == ["PASS", "FAIL", "FAIL", "FAIL", "SKIP", "SKIP"]
    assert capsys.readouterr().out.splitlines() == [
        "Phase 42  (docs/tutorial/42-nothing.md)",
        "  PASS  first passes",
        "  FAIL  second fails",
        "        why:  the widget is missing",
        "        hint: install the widget",
        "  FAIL  third fails",
        "        why:  the gadget is broken",
        "        hint: the check's own hint",
        "  FAIL  fourth crashes",
        "        why:  KeyError: 'image'",
        "        hint: look at the values file",
        "  SKIP  fifth skips  (no engine here)",
        "  SKIP  [live] sixth is live  (needs --live)",
        "phase 42: 1 passed, 3 failed, 2 skipped",
    ]


def test_live_checks_run_with_live(tmp_path: Path) -> None:
    ctx = framework.Context(root=tmp_path, live=True, scratch=tmp_path)
    outcome = framework.run_check(framework.Check("live", fails, "hint", live=True), ctx)
    assert outcome.status == "FAIL"


def test_failed_command_reports_its_exit_code_and_output(tmp_path: Path) -> None:
    ctx = framework.Context(root=tmp_path, live=False, scratch=tmp_path)
    with pytest.raises(framework.CheckFailed, match=r"exited 3: boom"):
        ctx.run(sys.executable, "-c", "import sys; print('boom', file=sys.stderr); sys.exit(3)")
    with pytest.raises(framework.CheckFailed, match="is not installed"):
        ctx.run("no-such-command-for-verify")


# --- the cheap phases, for real ---------------------------------------------------------


@pytest.mark.parametrize("phase", ["0", "1", "2"])
def test_offline_phase_passes(phase: str) -> None:
    result = verify(phase)
    assert result.returncode == 0, result.stdout + result.stderr
    statuses = status_lines(result.stdout)
    assert set(statuses.values()) == {"PASS"}
    assert len(statuses) == len(framework.PHASES[int(phase)].checks)
    assert result.stdout.splitlines()[-1].startswith(f"phase {phase}: ")


def documented_output(phase: str) -> list[str] | None:
    """The literal output under `$ make -s verify PHASE=N` in the phase's doc, if shown."""
    doc = ROOT / "docs" / "tutorial" / framework.PHASES[int(phase)].doc
    if not doc.is_file():
        return None
    lines = doc.read_text().splitlines()
    command = f"$ make -s verify PHASE={phase}"
    if command not in lines:
        return None
    start = lines.index(command) + 1
    end = next(i for i in range(start, len(lines)) if lines[i].startswith(("$ ", "```")))
    return lines[start:end]


@pytest.mark.parametrize("phase", ["6", "7", "8", "9"])
def test_offline_parts_of_cloud_phases_pass(phase: str) -> None:
    tool("helm")
    tool("actionlint")
    result = verify(phase)
    assert result.returncode == 0, result.stdout + result.stderr
    statuses = status_lines(result.stdout)
    live = {c.title for c in framework.PHASES[int(phase)].checks if c.live}
    assert {title for title, status in statuses.items() if status == "SKIP"} >= live
    assert "FAIL" not in statuses.values()
    # Where the tutorial shows the verifier's output, it is exactly what it prints.
    documented = documented_output(phase)
    if documented is not None:
        assert result.stdout.splitlines() == documented


# --- failure reporting on a broken copy --------------------------------------------------


def copy_project(target: Path) -> Path:
    """The parts of the project that phases 6-8 read, without .venv or synth output."""
    for name in (".github", "helm", "argocd", "scripts", "docs"):
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    (target / "infra").mkdir()
    shutil.copy(ROOT / "infra" / "config.example.toml", target / "infra")
    shutil.copytree(
        ROOT / "infra" / "mcp_infra",
        target / "infra" / "mcp_infra",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (target / ".tools").symlink_to(ROOT / ".tools")
    return target


def test_broken_workflows_fail_with_hints(tmp_path: Path) -> None:
    tool("actionlint")
    root = copy_project(tmp_path / "project")
    image = root / ".github" / "workflows" / "image.yml"
    text = image.read_text()
    text = text.replace(
        "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2", "actions/checkout@v4"
    )
    text = text.replace('      - "app/**"\n', '      - "app/**"\n      - "helm/**"\n')
    image.write_text(text)

    result = verify("7", "--root", root)
    assert result.returncode == 1
    statuses = status_lines(result.stdout)
    assert statuses["every action is pinned to a commit SHA with its version"] == "FAIL"
    assert statuses["the bump commit cannot start a build"] == "FAIL"
    assert statuses["workflows pass actionlint, zizmor --offline and the JSON schemas"] == "FAIL"
    assert statuses["the bump changes two lines, and a second run nothing"] == "PASS"
    assert "        why:  image.yml: actions/checkout@v4" in result.stdout
    assert "        hint: keep helm/ out of image.yml's paths" in result.stdout
    assert result.stdout.splitlines()[-1] == "phase 7: 2 passed, 3 failed, 4 skipped"


def test_values_that_disagree_with_infra_fail(tmp_path: Path) -> None:
    tool("helm")
    root = copy_project(tmp_path / "project")
    values = root / "helm" / "mcp-server" / "values-gke.yaml"
    values.write_text(
        values.read_text().replace("/mcp-prototype/mcp-server", "/other-repo/mcp-server")
    )
    result = verify("6", "--root", root)
    assert result.returncode == 1
    assert status_lines(result.stdout)["values-gke.yaml matches the infra outputs"] == "FAIL"
    assert "image.repository is 'us-central1-docker.pkg.dev/" in result.stdout
    assert "hint: copy the terraform outputs into values-gke.yaml" in result.stdout


def test_a_project_without_setup_fails_phase_0(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    result = verify("0", "--root", root)
    assert result.returncode == 1
    statuses = status_lines(result.stdout)
    assert statuses[".venv has the server, tests and linters"] == "FAIL"
    assert "        hint: run `make install`" in result.stdout


# --- the live checks' logic, with stand-ins for the cloud CLIs ------------------------
#
# Nothing here reaches a cloud: gh, gcloud and terraform are small scripts on
# PATH that answer the exact commands the checks run, the way the real CLIs
# answer them. git is real: the copy is a repository whose last change to
# values-gke.yaml is a bump commit by github-actions[bot].

FAKE_OUTPUTS = {
    "project_id": "verify-demo-project",
    "region": "us-central1",
    "registry_url": "us-central1-docker.pkg.dev/verify-demo-project/mcp-prototype",
    "wif_provider": "projects/1/locations/global/workloadIdentityPools/github-actions/providers/gh",
    "ci_service_account": "mcp-ci-pusher@verify-demo-project.iam.gserviceaccount.com",
    "attestor": "projects/verify-demo-project/attestors/mcp-pipeline",
    "attestation_key_version": (
        "projects/verify-demo-project/locations/us-central1/keyRings/mcp-binauthz/"
        "cryptoKeys/attestor/cryptoKeyVersions/1"
    ),
}
BUMPED_TAG = "5d41402abc4b2a76b9719d911017c592ae3b7b1e"
BUMPED_DIGEST = "sha256:" + "5" * 64


def fake_cli(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!{sys.executable}\nimport json, os, sys\nargs = sys.argv[1:]\n{body}\n")
    path.chmod(0o755)


def live_copy(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = copy_project(tmp_path / "project")
    values = root / "helm" / "mcp-server" / "values-gke.yaml"
    git = ["git", "-C", str(root), "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "-c", "user.name=learner", "-c", "user.email=l@example.invalid",
                    "commit", "-qm", "initial"], check=True)  # fmt: skip
    subprocess.run(
        [sys.executable, str(root / "scripts" / "bump_image_tag.py"), "--file", str(values),
         "--tag", BUMPED_TAG, "--digest", BUMPED_DIGEST],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run([*git, "-c", "user.name=github-actions[bot]", "-c",
                    "user.email=41898282+github-actions[bot]@users.noreply.github.com",
                    "commit", "-qam", f"deploy: mcp-server {BUMPED_TAG}"], check=True)  # fmt: skip

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    outputs = {name: {"value": value} for name, value in FAKE_OUTPUTS.items()}
    fake_cli(bin_dir, "terraform", f"print(json.dumps({outputs!r}))")
    variables = [
        {"name": name, "value": FAKE_OUTPUTS[output]}
        for name, output in REPOSITORY_VARIABLES.items()
    ]
    fake_cli(
        bin_dir,
        "gh",
        f"""if args[:2] == ["variable", "list"]:
    print(json.dumps({variables!r}))
elif args[:2] == ["run", "list"]:
    print(json.dumps([{{"conclusion": os.environ["FAKE_RUN"], "status": "completed"}}]))
else:
    sys.exit("unexpected gh " + " ".join(args))""",
    )
    fake_cli(
        bin_dir,
        "gcloud",
        """if args[:4] == ["artifacts", "docker", "images", "describe"]:
    print(os.environ["FAKE_DIGEST"])
else:
    sys.exit("unexpected gcloud " + " ".join(args))""",
    )
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FAKE_RUN": "success",
        "FAKE_DIGEST": BUMPED_DIGEST,
    }
    return root, env


def verify_env(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env=env,
    )


def test_live_pipeline_checks_pass_when_everything_agrees(tmp_path: Path) -> None:
    tool("actionlint")
    root, env = live_copy(tmp_path)
    result = verify_env(env, "7", "--live", "--root", root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "phase 7: 9 passed, 0 failed, 0 skipped"


def test_live_pipeline_checks_name_what_disagrees(tmp_path: Path) -> None:
    tool("actionlint")
    root, env = live_copy(tmp_path)
    env["FAKE_DIGEST"] = "sha256:" + "6" * 64
    env["FAKE_RUN"] = "failure"
    result = verify_env(env, "7", "--live", "--root", root)
    assert result.returncode == 1
    statuses = status_lines(result.stdout)
    assert statuses["the digest in values-gke.yaml is the registry's"] == "FAIL"
    assert statuses["the last image.yml run on main succeeded"] == "FAIL"
    assert statuses["the repository variables equal the terraform outputs"] == "PASS"
    assert f"says {BUMPED_DIGEST}" in result.stdout
    assert "        hint: `gh run view --log-failed`" in result.stdout


@pytest.mark.parametrize(
    "phase", [str(n) for n in range(10) if documented_output(str(n)) is not None]
)
def test_documented_verifier_output_names_the_current_checks(phase: str) -> None:
    """Cheap drift check for every phase, including those too heavy to run here (3-5)."""
    documented = documented_output(phase)
    assert documented is not None
    checked = framework.PHASES[int(phase)]
    checks = checked.checks
    assert documented[0] == f"{checked.title(ROOT)}  (docs/tutorial/{checked.doc})"
    shown = [line for line in documented if line.startswith(("  PASS  ", "  FAIL  ", "  SKIP  "))]
    assert [line[8:].split("  (")[0] for line in shown] == [
        f"{'[live] ' if check.live else ''}{check.title}" for check in checks
    ]
