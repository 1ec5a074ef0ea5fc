"""One digest flows through image.yml: built == pushed == scanned == signed == verified == deployed.

The test reads the workflow as GitHub does: it evaluates every `${{ }}`
expression against a context (the variables, the job's env, each step's
outputs), and runs the `run:` steps' shell as the runner does. The build's
digest is the one value that enters; the push step is its only source. Then
it checks where that value went: the image the scanner pulls, the artifact
gcloud signs, the artifact verified, the job's output, and the values file
the bump job writes. Google Cloud is the only stand-in (tests/pipeline/
fake_gcloud.py); a workflow that scanned a tag or a second build, signed
before scanning, or deployed the pushed digest without the verify step's
word for it fails here.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from infra.mcp_infra.outputs import REPOSITORY_VARIABLES
from tests.helpers import ROOT, require
from tests.pipeline import fake_gcloud

IMAGE_YML = ROOT / ".github" / "workflows" / "image.yml"
VALUES = "helm/mcp-server/values-gke.yaml"
EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")
SHA = "3f2c9e1b7d4a5c6e8f9a0b1c2d3e4f5a6b7c8d9e"
REGISTRY = "us-central1-docker.pkg.dev/mcp-example-123456/mcp-prototype"


def evaluate(text: str, context: dict[str, Any]) -> str:
    """Fill in every `${{ a.b.c }}` from `context`; anything else is an error, not a guess."""

    def lookup(match: re.Match[str]) -> str:
        value: Any = context
        for part in match.group(1).split("."):
            if not isinstance(value, dict) or part not in value:
                raise KeyError(f"{match.group(1)!r} is not in the context")
            value = value[part]
        return str(value)

    return EXPRESSION.sub(lookup, text)


class Flow:
    """The build job run step by step: uses-steps recorded, run-steps executed."""

    def __init__(
        self, workflow: dict[str, Any], tmp_path: Path, digest: str, mode: str = "good"
    ) -> None:
        self.workflow = workflow
        self.mode = mode
        self.tmp = tmp_path
        self.digest = digest
        self.context: dict[str, Any] = {
            "vars": {
                **{name: f"value-of-{name}" for name in REPOSITORY_VARIABLES},
                "GCP_REGISTRY": REGISTRY,
                "GCP_PROJECT_ID": "mcp-example-123456",
                "GCP_ATTESTOR": "projects/mcp-example-123456/attestors/mcp-pipeline",
            },
            "github": {
                "sha": SHA,
                "server_url": "https://github.com",
                "repository": "example-org/secure-mcp-server",
            },
            "steps": {},
        }
        fake_gcloud.install(tmp_path / "bin", tmp_path / "keys")
        self.log = tmp_path / "gcloud.log"
        self.inputs: dict[str, dict[str, str]] = {}

    def run_build_job(self) -> dict[str, str]:
        job = self.workflow["jobs"]["build"]
        self.context["env"] = {k: evaluate(v, self.context) for k, v in job["env"].items()}
        for step in job["steps"]:
            step_id = step.get("id", step.get("name"))
            env = {k: evaluate(str(v), self.context) for k, v in step.get("env", {}).items()}
            if "uses" in step:
                inputs = {
                    k: evaluate(str(v), self.context) for k, v in step.get("with", {}).items()
                }
                self.inputs[step_id] = inputs
                self.context["steps"][step_id] = {"outputs": self.action_outputs(step, inputs)}
            else:
                self.context["steps"][step_id] = {"outputs": self.shell(step["run"], env)}
        return {k: evaluate(v, self.context) for k, v in job["outputs"].items()}

    def action_outputs(self, step: dict[str, Any], inputs: dict[str, str]) -> dict[str, str]:
        action = step["uses"].split("@")[0]
        if action == "google-github-actions/auth":
            return {"access_token": "ya29.test-token"}
        if action == "docker/build-push-action":
            # The one place a digest is born: the registry's answer to this push.
            assert inputs["push"] == "True", "the build step must push what it built"
            return {"digest": self.digest}
        return {}

    def shell(self, script: str, env: dict[str, str]) -> dict[str, str]:
        output = self.tmp / "github_output"
        output.write_text("")
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=ROOT,
            env={
                "PATH": f"{self.tmp / 'bin'}:{os.environ['PATH']}",
                "HOME": str(self.tmp),
                "FAKE_GCLOUD_KEYS": str(self.tmp / "keys"),
                "FAKE_GCLOUD_LOG": str(self.log),
                "FAKE_GCLOUD_MODE": self.mode,
                "GITHUB_OUTPUT": str(output),
                "GITHUB_STEP_SUMMARY": str(self.tmp / "summary.md"),
                **self.context["env"],
                **env,
            },
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        pairs = [line.split("=", 1) for line in output.read_text().splitlines() if "=" in line]
        return {key: value for key, value in pairs}

    def gcloud_artifacts(self, verb: str) -> list[str]:
        """The --artifact-url of every gcloud call whose arguments include `verb`."""
        import json

        found = []
        for line in self.log.read_text().splitlines():
            args = json.loads(line)["args"]
            if verb in args:
                found += [a.split("=", 1)[1] for a in args if a.startswith("--artifact-url=")]
        return found


def trace(workflow: dict[str, Any], tmp_path: Path) -> tuple[Flow, dict[str, str]]:
    require(bool(shutil.which("openssl")), "openssl is missing (apt-get install openssl)")
    require(bool(shutil.which("jq")), "jq is missing (apt-get install jq)")
    flow = Flow(workflow, tmp_path, "sha256:" + secrets.token_hex(32))
    return flow, flow.run_build_job()


def load() -> dict[str, Any]:
    workflow: dict[str, Any] = YAML(typ="safe").load(IMAGE_YML.read_text())
    return workflow


def chain_breaks(flow: Flow, outputs: dict[str, str]) -> list[str]:
    """Where the pushed digest did not go where it must (empty: the chain holds)."""
    pushed = f"{REGISTRY}/mcp-server@{flow.digest}"
    builds = [i for i in flow.inputs.values() if "tags" in i]
    checks = {
        # Pushed: one build, tagged with the commit.
        "built once, tagged with the commit": [i["tags"] for i in builds]
        == [f"{REGISTRY}/mcp-server:{SHA}"],
        # Scanned: the scanner pulls that digest from the registry, not a tag or a local image.
        "scanned the pushed digest": [
            i["image-ref"] for i in flow.inputs.values() if "image-ref" in i
        ]
        == [pushed],
        # Signed, then verified: gcloud was asked about that digest and no other.
        "signed the pushed digest": flow.gcloud_artifacts("sign-and-create") == [pushed],
        "verified the pushed digest": flow.gcloud_artifacts("list") == [pushed],
        # Deployed: the job hands on the digest the verify step printed.
        "handed on the verified digest": outputs == {"tag": SHA, "digest": flow.digest}
        and flow.context["steps"]["verify"]["outputs"] == {"digest": flow.digest},
    }
    return [what for what, held in checks.items() if not held]


def test_the_pushed_digest_is_scanned_signed_verified_and_deployed(tmp_path: Path) -> None:
    flow, outputs = trace(load(), tmp_path)
    assert chain_breaks(flow, outputs) == []


def test_the_bump_job_writes_the_build_jobs_digest(tmp_path: Path) -> None:
    flow, outputs = trace(load(), tmp_path)
    values = tmp_path / "repo" / VALUES
    values.parent.mkdir(parents=True)
    shutil.copy(ROOT / VALUES, values)
    (tmp_path / "repo" / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "bump_image_tag.py", tmp_path / "repo" / "scripts")
    (tmp_path / "bin" / "python3").symlink_to(sys.executable)
    context = {"needs": {"build": {"outputs": outputs}}}
    (write,) = [
        s for s in load()["jobs"]["bump"]["steps"] if "bump_image_tag.py" in s.get("run", "")
    ]
    env = {k: evaluate(v, context) for k, v in write["env"].items()}
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", write["run"]],
        cwd=tmp_path / "repo",
        env={"PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    written = YAML(typ="safe").load(values.read_text())["image"]
    assert written == {**written, "tag": SHA, "digest": flow.digest}


def test_a_failed_verification_stops_the_job_before_any_digest_is_handed_on(
    tmp_path: Path,
) -> None:
    """The stored attestation is for another digest: the verify step fails, outputs nothing."""
    require(bool(shutil.which("openssl")), "openssl is missing (apt-get install openssl)")
    flow = Flow(load(), tmp_path, "sha256:" + secrets.token_hex(32), mode="other-digest")
    with pytest.raises(AssertionError, match="no signature by a key"):
        flow.run_build_job()
    assert "verify" not in flow.context["steps"]
    # It was signed (the scan passed), but nothing downstream saw a digest.
    assert flow.gcloud_artifacts("sign-and-create") == [f"{REGISTRY}/mcp-server@{flow.digest}"]


def replace_in_build(workflow: dict[str, Any], step_id: str, key: str, value: str) -> None:
    step = next(s for s in workflow["jobs"]["build"]["steps"] if s.get("id") == step_id)
    if key in step.get("with", {}):
        step["with"][key] = value
    else:
        step["env"][key] = value


def test_scanning_the_tag_instead_of_the_digest_is_caught(tmp_path: Path) -> None:
    """The tag could name another push by the time the scanner pulls it."""
    workflow = load()
    replace_in_build(workflow, "scan", "image-ref", "${{ env.IMAGE }}:${{ github.sha }}")
    flow, outputs = trace(workflow, tmp_path)
    assert chain_breaks(flow, outputs) == ["scanned the pushed digest"]


def test_signing_the_tag_instead_of_the_digest_is_refused(tmp_path: Path) -> None:
    workflow = load()
    replace_in_build(workflow, "sign", "ARTIFACT", "${{ env.IMAGE }}:${{ github.sha }}")
    with pytest.raises(AssertionError, match="not an image by digest"):
        trace(workflow, tmp_path)
