"""scripts/verify_phase.py's command line: --help, --list and --check NAME."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scripts.verify import cli, framework
from tests.helpers import ROOT

assert cli.PHASE_MODULES  # importing cli registers every phase's checks, run alone too
SCRIPT = ROOT / "scripts" / "verify_phase.py"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_help_describes_phases_list_and_check() -> None:
    result = run("--help")
    assert result.returncode == 0
    for text in ("--live", "--list", "--check NAME", "--root", "0 to 10, or `all`"):
        assert text in result.stdout


def test_list_without_a_phase_names_every_check_of_every_phase() -> None:
    result = run("--list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    expected = []
    for _, phase in sorted(framework.PHASES.items()):
        expected.append(phase.title(ROOT))
        expected += [
            f"  - {'[live] ' if c.live else ''}{c.title}  ({c.name})" for c in phase.checks
        ]
    assert lines == expected
    assert len(lines) == len(framework.PHASES) + sum(
        len(p.checks) for p in framework.PHASES.values()
    )


def test_check_runs_only_that_check_under_its_phase() -> None:
    result = run("--check", "actions_pinned")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"{framework.PHASES[7].title(ROOT)}  (docs/tutorial/07-pipeline.md)",
        "  PASS  every action is pinned to a commit SHA with its version",
        "phase 7: 1 passed, 0 failed, 0 skipped",
    ]


def test_check_reports_a_failure_with_exit_1(tmp_path: Path) -> None:
    result = run("0", "--check", "venv_installed", "--root", tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[1:] == [
        "  FAIL  .venv has the server, tests and linters",
        "        why:  .venv does not exist",
        "        hint: run `make install`",
        "phase 0: 0 passed, 1 failed, 0 skipped",
    ]


def test_a_live_check_skips_without_live() -> None:
    result = run("--check", "live_last_image_run_green")
    assert result.returncode == 0
    assert "  SKIP  [live] the last image.yml run on main succeeded  (needs --live)" in (
        result.stdout
    )


def test_a_repeated_check_runs_once_under_its_first_phase() -> None:
    result = run("9", "--check", "bump_cannot_trigger_build")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "phase 7: 1 passed, 0 failed, 0 skipped"


def test_an_unknown_check_is_a_usage_error_with_suggestions() -> None:
    result = run("--check", "actions_pined")
    assert result.returncode == 2
    assert "no check is named 'actions_pined'; did you mean actions_pinned" in result.stderr


def test_a_check_outside_the_phase_is_a_usage_error() -> None:
    result = run("7", "--check", "server_health")
    assert result.returncode == 2
    assert "phase 7 has no check 'server_health'" in result.stderr


def test_no_phase_and_no_list_or_check_is_a_usage_error() -> None:
    result = run()
    assert result.returncode == 2
    assert "phase must be 0 to 10" in result.stderr
