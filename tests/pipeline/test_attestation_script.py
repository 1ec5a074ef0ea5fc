"""scripts/ci/attestation.sh: the workflow's sign and verify steps, run for real.

Only gcloud is a stand-in (tests/pipeline/fake_gcloud.py: Google Cloud cannot
be reached here); the keys, the signatures and the script's openssl and jq
checks are real. `verify` must pass for a good attestation of exactly the
digest asked about and refuse every near miss, printing nothing on stdout
then, so the workflow can never write an unverified digest.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, require
from tests.pipeline import fake_gcloud

SCRIPT = ROOT / "scripts" / "ci" / "attestation.sh"
IMAGE = "us-central1-docker.pkg.dev/mcp-example-123456/mcp-prototype/mcp-server"
DIGEST = "sha256:" + "ab" * 32
ATTESTOR = "projects/mcp-example-123456/attestors/mcp-pipeline"
KEY_VERSION = (
    "projects/mcp-example-123456/locations/us-central1/keyRings/mcp-binauthz/"
    "cryptoKeys/attestor/cryptoKeyVersions/1"
)
TOKEN = "ya29.short-lived-token-for-the-test"


@pytest.fixture
def world(tmp_path: Path) -> dict[str, str]:
    require(bool(shutil.which("openssl")), "openssl is missing (apt-get install openssl)")
    require(bool(shutil.which("jq")), "jq is missing (apt-get install jq)")
    fake_gcloud.install(tmp_path / "bin", tmp_path / "keys")
    return {
        "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
        "FAKE_GCLOUD_KEYS": str(tmp_path / "keys"),
        "FAKE_GCLOUD_LOG": str(tmp_path / "gcloud.log"),
        "ATTESTOR": ATTESTOR,
        "KEY_VERSION": KEY_VERSION,
        "GCP_PROJECT_ID": "mcp-example-123456",
        "ACCESS_TOKEN": TOKEN,
        "HOME": str(tmp_path),
    }


def run(world: dict[str, str], *args: str, mode: str = "good") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        env={**world, "FAKE_GCLOUD_MODE": mode},
        capture_output=True,
        text=True,
        check=False,
    )


def calls(world: dict[str, str]) -> list[dict[str, Any]]:
    log = Path(world["FAKE_GCLOUD_LOG"])
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_sign_asks_kms_to_sign_exactly_this_digest(world: dict[str, str]) -> None:
    result = run(world, "sign", f"{IMAGE}@{DIGEST}")
    assert result.returncode == 0, result.stderr
    (call,) = calls(world)
    assert call["args"] == [
        "beta", "container", "binauthz", "attestations", "sign-and-create",
        f"--artifact-url={IMAGE}@{DIGEST}", f"--attestor={ATTESTOR}",
        f"--keyversion={KEY_VERSION}",
    ]  # fmt: skip
    assert call["project"] == "mcp-example-123456"
    assert call["prompts_disabled"] == "1"  # a prompt would hang the job


def test_the_token_reaches_gcloud_in_a_private_file_that_is_gone_afterwards(
    world: dict[str, str],
) -> None:
    assert run(world, "verify", f"{IMAGE}@{DIGEST}").returncode == 0
    for call in calls(world):
        assert call["token"] == TOKEN
        assert TOKEN not in json.dumps(call["args"])
        assert not Path(str(call["token_file"])).exists()


def test_verify_prints_the_digest_of_a_good_attestation(world: dict[str, str]) -> None:
    result = run(world, "verify", f"{IMAGE}@{DIGEST}")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{DIGEST}\n"
    assert f"verified: {IMAGE}@{DIGEST} is attested by {ATTESTOR}" in result.stderr
    listed = [c["args"] for c in calls(world) if "list" in c["args"]]
    assert listed == [
        [
            "container", "binauthz", "attestations", "list", f"--attestor={ATTESTOR}",
            f"--artifact-url={IMAGE}@{DIGEST}", "--format=json",
        ]
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("mode", "why"),
    [
        ("none", f"no attestation by {ATTESTOR}"),
        ("other-digest", "another image or digest"),
        ("other-image", "another image or digest"),
        ("tampered", "that its key does not verify"),
        ("other-key", "that its key does not verify"),
        ("unknown-key-id", "which is not a key of"),
    ],
)
def test_verify_refuses_every_near_miss(world: dict[str, str], mode: str, why: str) -> None:
    result = run(world, "verify", f"{IMAGE}@{DIGEST}", mode=mode)
    assert result.returncode == 1
    assert result.stdout == "", "a refused digest must never reach the workflow's output"
    assert why in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["verify", f"{IMAGE}:latest"], "not an image by digest"),
        (["verify", f"{IMAGE}@sha256:abc"], "not an image by digest"),
        (["publish", f"{IMAGE}@{DIGEST}"], "unknown action: publish"),
        (["verify"], "usage:"),
    ],
)
def test_bad_arguments_are_refused_before_gcloud_runs(
    world: dict[str, str], args: list[str], message: str
) -> None:
    result = run(world, *args)
    assert result.returncode == 1
    assert message in result.stderr
    assert calls(world) == []


def test_a_missing_setting_is_named(world: dict[str, str]) -> None:
    del world["ATTESTOR"]
    result = run(world, "verify", f"{IMAGE}@{DIGEST}")
    assert result.returncode != 0
    assert "ATTESTOR" in result.stderr
