"""Binary Authorization in the synthesized stack: policy, attestor, key, and who may sign.

The policy admits an image only with this pipeline's attestation (or from
Google's system allow-list, or the few named third-party images); the cluster
enforces the project policy; the attestor's public key is the KMS key's; only
the image workflow's account may sign, and it may not do more.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.conftest import Synth, _synth

pytestmark = pytest.mark.infra


def ref(synth: Synth, rtype: str, suffix: str) -> str:
    """`${rtype.<logical id>` of the resource at `suffix`, the start of every reference to it."""
    return f"${{{rtype}.{synth.by_path(rtype, suffix)['//']['metadata']['uniqueId']}"


def data_ref(synth: Synth, dtype: str, suffix: str) -> str:
    """The same for a data source."""
    for body in synth.doc["data"][dtype].values():
        if body["//"]["metadata"]["path"].endswith(suffix):
            return f"${{data.{dtype}.{body['//']['metadata']['uniqueId']}"
    raise AssertionError(f"no data.{dtype} at {suffix!r}")


def test_cluster_enforces_the_project_policy(synth: Synth) -> None:
    cluster = synth.only("google_container_cluster")
    assert cluster["binary_authorization"] == {
        "evaluation_mode": "PROJECT_SINGLETON_POLICY_ENFORCE"
    }


def test_policy_requires_the_pipelines_attestation_for_everything_else(synth: Synth) -> None:
    policy = synth.only("google_binary_authorization_policy")
    attestor = ref(synth, "google_binary_authorization_attestor", "/binauthz/attestor")
    assert policy["project"] == "mcp-example-123456"
    assert policy["default_admission_rule"] == {
        "evaluation_mode": "REQUIRE_ATTESTATION",
        "enforcement_mode": "ENFORCED_BLOCK_AND_AUDIT_LOG",
        "require_attestations_by": [f"{attestor}.name}}"],
    }
    # Google's own system images (GKE add-ons) stay admitted.
    assert policy["global_policy_evaluation_mode"] == "ENABLE"
    assert "cluster_admission_rules" not in policy


def test_exemptions_name_third_party_images_never_the_projects_registry(synth: Synth) -> None:
    """Exempt images bypass the attestation: none may be ours, none may be a whole registry."""
    patterns = [
        entry["name_pattern"]
        for entry in synth.only("google_binary_authorization_policy")[
            "admission_whitelist_patterns"
        ]
    ]
    assert patterns, "ESO and ArgoCD would be refused"
    for pattern in patterns:
        assert "pkg.dev" not in pattern, pattern
        assert "gcr.io" not in pattern, pattern
        path = pattern.partition("/")[2]
        # registry/path/image:* at least: a wildcard never stands for a whole registry.
        assert path.count("/") >= 1, pattern
        assert "*" not in path.rsplit(":", 1)[0], pattern


def test_dry_run_only_logs_and_changes_nothing_else(
    synth: Synth, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Phase 6's hand-pushed image: the setting turns refusals into log entries, nothing more."""
    dry = _synth(
        synth.config.model_copy(update={"binauthz_enforcement_mode": "DRYRUN_AUDIT_LOG_ONLY"}),
        tmp_path_factory.mktemp("cdktf.out-dryrun"),
    )
    rule = dry.only("google_binary_authorization_policy")["default_admission_rule"]
    assert rule["enforcement_mode"] == "DRYRUN_AUDIT_LOG_ONLY"
    assert rule["evaluation_mode"] == "REQUIRE_ATTESTATION"
    # The cluster still evaluates the policy; only the policy's verdict is softened.
    cluster = dry.only("google_container_cluster")["binary_authorization"]
    assert cluster == {"evaluation_mode": "PROJECT_SINGLETON_POLICY_ENFORCE"}


def test_attestor_holds_the_kms_keys_public_half(synth: Synth) -> None:
    attestor = synth.only("google_binary_authorization_attestor")
    version = data_ref(synth, "google_kms_crypto_key_version", "/binauthz/key-version")
    note = attestor["attestation_authority_note"]
    assert note["note_reference"] == (
        f"{ref(synth, 'google_container_analysis_note', '/binauthz/note')}.name}}"
    )
    (key,) = note["public_keys"]
    # The id gcloud writes into each attestation, and the key Binary Authorization checks it with.
    assert key["id"] == f"{version}.id}}"
    assert key["pkix_public_key"] == {
        "public_key_pem": f"{version}.public_key[0].pem}}",
        "signature_algorithm": f"{version}.public_key[0].algorithm}}",
    }


def test_signing_key_is_asymmetric_and_stays_in_kms(synth: Synth) -> None:
    key = synth.only("google_kms_crypto_key")
    assert key["purpose"] == "ASYMMETRIC_SIGN"
    assert key["version_template"]["algorithm"] == "EC_SIGN_P256_SHA256"
    assert key["destroy_scheduled_duration"] == "2592000s"  # 30 days to undo a destroy
    ring = synth.only("google_kms_key_ring")
    assert ring["name"] == "mcp-binauthz"
    assert ring["location"] == "us-central1"
    assert "google_kms_crypto_key_version" not in synth.doc["resource"]  # no key material


def signer_grants(synth: Synth) -> list[tuple[str, str]]:
    ci = ref(synth, "google_service_account", "/github/ci-sa")
    return sorted(
        (rtype, body["role"])
        for rtype, resources in synth.doc["resource"].items()
        if rtype.endswith("_iam_member")
        for body in resources.values()
        if body["member"] == f"serviceAccount:{ci}.email}}"
    )


def test_only_the_image_workflow_may_sign_and_only_what_signing_needs(synth: Synth) -> None:
    assert signer_grants(synth) == sorted(
        [
            ("google_artifact_registry_repository_iam_member", "roles/artifactregistry.writer"),
            ("google_kms_crypto_key_iam_member", "roles/cloudkms.signerVerifier"),
            (
                "google_container_analysis_note_iam_member",
                "roles/containeranalysis.notes.attacher",
            ),
            (
                "google_container_analysis_note_iam_member",
                "roles/containeranalysis.notes.occurrences.viewer",
            ),
            (
                "google_binary_authorization_attestor_iam_member",
                "roles/binaryauthorization.attestorsViewer",
            ),
            ("google_project_iam_member", "roles/containeranalysis.occurrences.editor"),
        ]
    )
    key = ref(synth, "google_kms_crypto_key", "/binauthz/key")
    grants: list[dict[str, Any]] = list(
        synth.resources("google_kms_crypto_key_iam_member").values()
    )
    assert {g["crypto_key_id"] for g in grants} == {f"{key}.id}}"}
    signers = [g for g in grants if "signer" in g["role"]]
    assert len(signers) == 1  # nobody else may sign
    note = ref(synth, "google_container_analysis_note", "/binauthz/note")
    note_grants = synth.resources("google_container_analysis_note_iam_member").values()
    assert {g["note"] for g in note_grants} == {f"{note}.name}}"}


def test_apis_and_outputs_for_the_workflow(synth: Synth) -> None:
    services = {s["service"] for s in synth.resources("google_project_service").values()}
    assert {
        "binaryauthorization.googleapis.com",
        "containeranalysis.googleapis.com",
        "cloudkms.googleapis.com",
    } <= services
    outputs = synth.doc["output"]
    assert outputs["attestor"]["value"] == (
        f"{ref(synth, 'google_binary_authorization_attestor', '/binauthz/attestor')}.id}}"
    )
    version = data_ref(synth, "google_kms_crypto_key_version", "/binauthz/key-version")
    assert outputs["attestation_key_version"]["value"] == f"{version}.name}}"
    assert "GCP_ATTESTOR" in outputs["attestor"]["description"]
