"""The infra workflow's identity: its own pool, read-only roles, reachable only by infra.yml.

A pull request may run `terraform plan`, so its token must reach this account
and never the image pusher's: the two live in different pools, and the
pusher's provider still admits main only.
"""

from __future__ import annotations

import re

import pytest

from tests.infra.conftest import Synth

pytestmark = pytest.mark.infra

READ_ONLY = re.compile(r"roles/[\w.]+\.(?:\w*[vV]iewer|reader|securityReviewer)")


def plan_member(synth: Synth) -> str:
    sa = synth.by_path("google_service_account", "/infra-plan/plan-sa")
    return f"serviceAccount:${{google_service_account.{sa['//']['metadata']['uniqueId']}.email}}"


def grants(synth: Synth, member: str) -> list[tuple[str, str]]:
    return sorted(
        (rtype, body["role"])
        for rtype, resources in synth.doc["resource"].items()
        if rtype.endswith("_iam_member")
        for body in resources.values()
        if body["member"] == member
    )


def test_the_plan_account_holds_only_read_only_roles(synth: Synth) -> None:
    held = grants(synth, plan_member(synth))
    assert held, "the plan account has no role"
    for rtype, role in held:
        assert READ_ONLY.fullmatch(role), f"{rtype}: {role} is not a read-only role"
        assert not re.search(r"admin|editor|owner|writer|user|signer|accessor", role, re.I), role


def test_the_plan_account_reads_the_state_and_the_attestors_key_only(synth: Synth) -> None:
    member = plan_member(synth)
    (state,) = [
        b
        for b in synth.resources("google_storage_bucket_iam_member").values()
        if b["member"] == member
    ]
    assert state == {
        **state,
        "bucket": "mcp-example-123456-tfstate",
        "role": "roles/storage.objectViewer",
    }
    key_grants = [
        b
        for b in synth.resources("google_kms_crypto_key_iam_member").values()
        if b["member"] == member
    ]
    assert [b["role"] for b in key_grants] == ["roles/cloudkms.publicKeyViewer"]
    key = synth.only("google_kms_crypto_key")["//"]["metadata"]["uniqueId"]
    assert key_grants[0]["crypto_key_id"] == f"${{google_kms_crypto_key.{key}.id}}"


def test_its_pool_admits_only_the_infra_workflow_of_this_repository(synth: Synth) -> None:
    pool = synth.by_path("google_iam_workload_identity_pool", "/infra-plan/pool")
    assert pool["workload_identity_pool_id"] == "github-plan"
    provider = synth.by_path("google_iam_workload_identity_pool_provider", "/infra-plan/provider")
    assert provider["oidc"] == {"issuer_uri": "https://token.actions.githubusercontent.com"}
    assert provider["attribute_condition"] == (
        "assertion.repository_id == '123456789'"
        " && assertion.repository_owner_id == '987654321'"
        " && (assertion.sub == 'repo:example-org/secure-mcp-server:ref:refs/heads/main'"
        " || assertion.sub == 'repo:example-org/secure-mcp-server:pull_request')"
        " && assertion.job_workflow_ref.startsWith("
        "'example-org/secure-mcp-server/.github/workflows/infra.yml@')"
    )


def test_pull_requests_never_reach_the_pusher(synth: Synth) -> None:
    """The pusher's provider admits main only, and its account trusts only its own pool."""
    pusher = synth.by_path("google_iam_workload_identity_pool_provider", "/github/provider")
    assert "pull_request" not in pusher["attribute_condition"]
    pusher_pool = synth.by_path("google_iam_workload_identity_pool", "/github/pool")
    plan_pool = synth.by_path("google_iam_workload_identity_pool", "/infra-plan/pool")
    bindings = {
        body["//"]["metadata"]["path"]: body["member"]
        for body in synth.resources("google_service_account_iam_member").values()
        if body["member"].startswith("principalSet://")
    }
    pusher_id = pusher_pool["//"]["metadata"]["uniqueId"]
    plan_id = plan_pool["//"]["metadata"]["uniqueId"]
    (pusher_binding,) = [m for p, m in bindings.items() if p.endswith("/github/wif-user")]
    (plan_binding,) = [m for p, m in bindings.items() if p.endswith("/infra-plan/wif-user")]
    assert pusher_id in pusher_binding
    assert plan_id not in pusher_binding
    assert plan_id in plan_binding
    assert pusher_id not in plan_binding


def test_outputs_for_the_infra_workflow(synth: Synth) -> None:
    from infra.mcp_infra.outputs import PLAN_VARIABLES

    outputs = synth.doc["output"]
    for variable, output in PLAN_VARIABLES.items():
        assert output in outputs, variable
    provider = synth.by_path("google_iam_workload_identity_pool_provider", "/infra-plan/provider")
    assert outputs["plan_wif_provider"]["value"] == (
        f"${{google_iam_workload_identity_pool_provider.{provider['//']['metadata']['uniqueId']}.name}}"
    )
