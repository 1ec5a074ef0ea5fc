"""checkov finds nothing in the synthesized stack (skips, with reasons, in infra/.checkov.yaml)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers import tool
from tests.infra.conftest import Synth

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "infra" / ".checkov.yaml"


@pytest.mark.parametrize("stack", ["synth", "signin_synth", "alerting_synth"])
def test_checkov_is_clean_on_the_synth_output(stack: str, request: pytest.FixtureRequest) -> None:
    """The default stack, with sign-in (phase 10), and with every option on (KMS, Pub/Sub)."""
    synth: Synth = request.getfixturevalue(stack)
    checkov = tool("checkov")
    result = subprocess.run(
        [checkov, "--config-file", str(CONFIG), "--directory", str(synth.stack_dir.parent)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "terraform_json scan results" in report, report
    assert "Failed checks: 0" in report, report
    assert "Parsing errors" not in report, report
    # A check that crashes is logged and then counted as neither passed nor failed.
    assert "Failed to run check" not in report, report
    passed = int(report.split("Passed checks: ", 1)[1].split(",", 1)[0])
    assert passed >= 40, report  # the GKE, IAM, network and registry checks all ran


def test_every_checkov_skip_has_a_reason() -> None:
    lines = CONFIG.read_text(encoding="utf-8").splitlines()
    skips = [i for i, line in enumerate(lines) if line.strip().startswith("- CKV")]
    assert skips, "expected the documented skips"
    for i in skips:
        check_id = lines[i].strip()[2:]
        assert lines[i - 1].lstrip().startswith("#"), f"{check_id} has no reason above it"
        reason = lines[i - 1].lstrip()
        # The comment block above a skip names the check it justifies.
        block = [ln for ln in lines[:i] if ln.lstrip().startswith("#")]
        assert any(check_id in ln for ln in block[-6:]), f"{check_id}: reason must name it"
        assert reason


def checkov_binary_authorization(stack_dir: Path) -> str:
    """checkov's Binary Authorization check alone (CKV_GCP_66) on one synthesized stack."""
    result = subprocess.run(
        [tool("checkov"), "--framework", "terraform_json", "--skip-download", "--compact",
         "--check", "CKV_GCP_66", "--directory", str(stack_dir)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    return result.stdout + result.stderr


def test_binary_authorization_check_runs_and_passes(synth: Synth) -> None:
    """CKV_GCP_66 is no longer skipped: it runs on the cluster and passes."""
    assert "CKV_GCP_66" not in CONFIG.read_text(encoding="utf-8")
    report = checkov_binary_authorization(synth.stack_dir.parent)
    assert "Passed checks: 1, Failed checks: 0, Skipped checks: 0" in report, report


def test_binary_authorization_check_fails_without_the_clusters_setting(
    synth: Synth, tmp_path: Path
) -> None:
    """The check above can fail: the same stack without the cluster's setting is refused."""
    import json

    doc = json.loads(synth.text)
    for cluster in doc["resource"]["google_container_cluster"].values():
        del cluster["binary_authorization"]
    stack = tmp_path / "stacks" / "mcp-prototype"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text(json.dumps(doc))
    report = checkov_binary_authorization(tmp_path / "stacks")
    assert "Passed checks: 0, Failed checks: 1" in report, report
