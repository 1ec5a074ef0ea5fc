"""The synthesized stack has every property the tutorial promises.

One synth per session (the `synth` fixture); each test reads its JSON, with
plain lookups or CDK Terrain's `Testing` matchers.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.infra.conftest import Synth

pytestmark = pytest.mark.infra

FORBIDDEN_ROLES = ("roles/owner", "roles/editor", "roles/viewer", "roles/iam.serviceAccountAdmin")


def has_resource(synth: Synth, rtype: str, properties: dict[str, Any]) -> bool:
    from cdktn import Testing

    return bool(Testing.to_have_resource_with_properties(synth.text, rtype, properties))


def walk(value: Any, path: str = "$") -> list[tuple[str, Any]]:
    """Every (path, leaf) pair of a JSON document."""
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in walk(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [item for i, v in enumerate(value) for item in walk(v, f"{path}[{i}]")]
    return [(path, value)]


# ---------------------------------------------------------------- the cluster


def test_cluster_is_zonal_standard_with_default_pool_removed(synth: Synth) -> None:
    cluster = synth.only("google_container_cluster")
    assert cluster["name"] == "mcp-prototype"
    assert cluster["location"] == "us-central1-a"
    assert cluster["remove_default_node_pool"] is True
    assert "enable_autopilot" not in cluster
    assert cluster["deletion_protection"] is True


def test_node_pool_has_three_nodes_with_auto_repair_and_upgrade(synth: Synth) -> None:
    pool = synth.only("google_container_node_pool")
    assert pool["node_count"] == 3
    assert pool["location"] == "us-central1-a"
    assert pool["management"] == {"auto_repair": True, "auto_upgrade": True}
    assert pool["cluster"].startswith("${google_container_cluster.")


def test_workload_identity_pool(synth: Synth) -> None:
    assert has_resource(
        synth,
        "google_container_cluster",
        {"workload_identity_config": {"workload_pool": "mcp-example-123456.svc.id.goog"}},
    )


@pytest.mark.parametrize("where", ["google_container_node_pool", "google_container_cluster"])
def test_nodes_are_shielded_and_see_only_the_gke_metadata_server(synth: Synth, where: str) -> None:
    """Both the real pool and the (removed) default pool's template are hardened."""
    node = synth.only(where)["node_config"]
    assert node["shielded_instance_config"] == {
        "enable_secure_boot": True,
        "enable_integrity_monitoring": True,
    }
    assert node["workload_metadata_config"] == {"mode": "GKE_METADATA"}
    assert node["image_type"] == "COS_CONTAINERD"
    assert node["metadata"] == {"disable-legacy-endpoints": "true"}


def test_nodes_run_as_the_dedicated_node_service_account(synth: Synth) -> None:
    node_sa = synth.by_path("google_service_account", "/gke/node-sa")
    assert node_sa["account_id"] == "mcp-gke-nodes"
    logical_id = node_sa["//"]["metadata"]["uniqueId"]
    for where in ("google_container_node_pool", "google_container_cluster"):
        assert synth.only(where)["node_config"]["service_account"] == (
            f"${{google_service_account.{logical_id}.email}}"
        )


def test_private_nodes_and_control_plane_only_from_authorized_networks(synth: Synth) -> None:
    cluster = synth.only("google_container_cluster")
    assert cluster["private_cluster_config"]["enable_private_nodes"] is True
    assert cluster["master_authorized_networks_config"] == {
        "cidr_blocks": [{"cidr_block": "198.51.100.7/32", "display_name": "learner workstation"}],
        "gcp_public_cidrs_access_enabled": False,
    }


def test_cluster_hardening_flags(synth: Synth) -> None:
    cluster = synth.only("google_container_cluster")
    assert cluster["release_channel"] == {"channel": "REGULAR"}
    assert cluster["datapath_provider"] == "ADVANCED_DATAPATH"  # Dataplane V2: NetworkPolicy
    assert cluster["master_auth"] == {
        "client_certificate_config": {"issue_client_certificate": False}
    }
    assert cluster["enable_legacy_abac"] is False
    assert cluster["enable_shielded_nodes"] is True
    assert cluster["networking_mode"] == "VPC_NATIVE"
    assert cluster["resource_labels"] == {
        "app": "mcp-server",
        "env": "prototype",
        "managed-by": "cdktn",
    }


# ---------------------------------------------------------------- network


def test_vpc_subnet_ranges_router_and_nat(synth: Synth) -> None:
    assert synth.only("google_compute_network")["auto_create_subnetworks"] is False
    subnet = synth.only("google_compute_subnetwork")
    assert subnet["private_ip_google_access"] is True
    ranges = {r["range_name"]: r["ip_cidr_range"] for r in subnet["secondary_ip_range"]}
    assert ranges == {"pods": "10.20.0.0/14", "services": "10.24.0.0/20"}
    policy = synth.only("google_container_cluster")["ip_allocation_policy"]
    assert set(policy.values()) == set(ranges)
    assert synth.only("google_compute_router")
    nat = synth.only("google_compute_router_nat")
    assert nat["source_subnetwork_ip_ranges_to_nat"] == "LIST_OF_SUBNETWORKS"
    firewall = synth.only("google_compute_firewall")
    assert firewall["direction"] == "INGRESS"
    assert firewall["deny"] == [{"protocol": "all"}]


# ---------------------------------------------------------------- registry and secret


def test_registry_is_docker_with_cleanup_policies_and_immutable_tags(synth: Synth) -> None:
    repo = synth.only("google_artifact_registry_repository")
    assert repo["repository_id"] == "mcp-prototype"
    assert repo["format"] == "DOCKER"
    assert repo["location"] == "us-central1"
    assert repo["docker_config"] == {"immutable_tags": True}
    assert repo["cleanup_policy_dry_run"] is False
    policies = {p["id"]: p for p in repo["cleanup_policies"]}
    assert policies["keep-recent"]["action"] == "KEEP"
    assert policies["keep-recent"]["most_recent_versions"] == {"keep_count": 10}
    assert policies["delete-old-untagged"]["action"] == "DELETE"
    assert policies["delete-old-untagged"]["condition"] == {
        "tag_state": "UNTAGGED",
        "older_than": "604800s",
    }
    # Tagged images go too once older than 30 days, except the 10 most recent (KEEP wins).
    assert policies["delete-old-tagged"]["action"] == "DELETE"
    assert policies["delete-old-tagged"]["condition"] == {
        "tag_state": "TAGGED",
        "older_than": "2592000s",
    }


def test_secret_exists_without_any_version(synth: Synth) -> None:
    secret = synth.only("google_secret_manager_secret")
    assert secret["secret_id"] == synth.config.secret_id
    assert secret["deletion_protection"] is True  # deleting it would delete every key
    # A destroyed key version is disabled for a day first, so a mistake can be undone.
    assert secret["version_destroy_ttl"] == "86400s"
    assert secret["replication"] == {"user_managed": {"replicas": [{"location": "us-central1"}]}}
    assert not [t for t in synth.doc["resource"] if "secret_version" in t]
    assert not [t for t in synth.doc.get("data", {}) if "secret_version" in t]


VALUE_KEYS = ("secret_data", "secret_data_wo", "payload", "private_key", "password")
# 32+ random bytes are 43+ base64url (or 64+ hex) characters.
KEY_SHAPED = re.compile(r"[A-Za-z0-9_=-]{43,}")


def secret_like(doc: dict[str, Any]) -> list[tuple[str, Any]]:
    """Leaves named like a secret value, or shaped like a key (construct metadata aside)."""
    return [
        (path, leaf)
        for path, leaf in walk(doc)
        if path.rsplit(".", 1)[-1] in VALUE_KEYS
        or (".//." not in path and isinstance(leaf, str) and KEY_SHAPED.fullmatch(leaf))
    ]


def test_no_secret_value_anywhere_in_the_synthesized_json(synth: Synth) -> None:
    assert secret_like(synth.doc) == []
    assert "sensitive" not in synth.text


def test_the_secret_scan_would_catch_a_key() -> None:
    """The scan above can fail: a planted key, in either form, is found."""
    import secrets

    key = secrets.token_urlsafe(64)
    planted = {"resource": {"google_x": {"a": {"labels": {"k": key}}}}}
    assert secret_like(planted) == [("$.resource.google_x.a.labels.k", key)]
    assert secret_like({"resource": {"v": {"secret_data": "short"}}}) != []


# ---------------------------------------------------------------- IAM


def iam_members(synth: Synth) -> list[dict[str, Any]]:
    return [
        dict(body, _type=rtype)
        for rtype, resources in synth.doc["resource"].items()
        if rtype.endswith("_iam_member")
        for body in resources.values()
    ]


def test_no_owner_editor_or_authoritative_iam(synth: Synth) -> None:
    for role in FORBIDDEN_ROLES:
        assert f'"{role}"' not in synth.text
    authoritative = [
        t for t in synth.doc["resource"] if t.endswith(("_iam_binding", "_iam_policy"))
    ]
    assert authoritative == [], "authoritative IAM would remove grants made outside this stack"


def test_least_privilege_bindings_are_exactly_these(synth: Synth, example_config: Any) -> None:
    """Every grant in the stack, and nothing more: (resource type, role, member)."""
    found = sorted((b["_type"], b["role"], b["member"]) for b in iam_members(synth))
    ids = {
        name: synth.by_path("google_service_account", suffix)["//"]["metadata"]["uniqueId"]
        for name, suffix in (
            ("node", "/gke/node-sa"),
            ("app", "/app-sa"),
            ("ci", "/ci-sa"),
            ("plan", "/plan-sa"),
        )
    }
    pool = synth.by_path("google_iam_workload_identity_pool", "/github/pool")["//"]["metadata"][
        "uniqueId"
    ]
    plan_pool = synth.by_path("google_iam_workload_identity_pool", "/infra-plan/pool")["//"][
        "metadata"
    ]["uniqueId"]

    def sa(name: str) -> str:
        return f"serviceAccount:${{google_service_account.{ids[name]}.email}}"

    assert found == sorted(
        [
            # Nodes: write logs/metrics (one project role), read the one repository.
            ("google_project_iam_member", "roles/container.defaultNodeServiceAccount", sa("node")),
            (
                "google_artifact_registry_repository_iam_member",
                "roles/artifactregistry.reader",
                sa("node"),
            ),
            # App: read the one secret; only the chart's KSA may act as it.
            (
                "google_secret_manager_secret_iam_member",
                "roles/secretmanager.secretAccessor",
                sa("app"),
            ),
            (
                "google_service_account_iam_member",
                "roles/iam.workloadIdentityUser",
                "serviceAccount:mcp-example-123456.svc.id.goog[mcp-prototype/mcp-server]",
            ),
            # CI: push to the one repository; only this repository's runs may act as it.
            (
                "google_artifact_registry_repository_iam_member",
                "roles/artifactregistry.writer",
                sa("ci"),
            ),
            (
                "google_service_account_iam_member",
                "roles/iam.workloadIdentityUser",
                f"principalSet://iam.googleapis.com/${{google_iam_workload_identity_pool.{pool}.name}}"
                "/attribute.repository_id/123456789",
            ),
            # CI also attests what it pushed: sign with the one key, attach to the one note,
            # read the one attestor; attestations are project-level occurrences.
            ("google_kms_crypto_key_iam_member", "roles/cloudkms.signerVerifier", sa("ci")),
            (
                "google_container_analysis_note_iam_member",
                "roles/containeranalysis.notes.attacher",
                sa("ci"),
            ),
            (
                "google_container_analysis_note_iam_member",
                "roles/containeranalysis.notes.occurrences.viewer",
                sa("ci"),
            ),
            (
                "google_binary_authorization_attestor_iam_member",
                "roles/binaryauthorization.attestorsViewer",
                sa("ci"),
            ),
            ("google_project_iam_member", "roles/containeranalysis.occurrences.editor", sa("ci")),
            # Infra plan: read-only roles (tests/infra/test_plan_identity.py says why each).
            *[
                ("google_project_iam_member", f"roles/{role}", sa("plan"))
                for role in (
                    "serviceusage.serviceUsageViewer",
                    "compute.viewer",
                    "container.clusterViewer",
                    "artifactregistry.reader",
                    "secretmanager.viewer",
                    "iam.serviceAccountViewer",
                    "iam.workloadIdentityPoolViewer",
                    "monitoring.viewer",
                    "pubsub.viewer",
                    "redis.viewer",
                    "cloudkms.viewer",
                    "containeranalysis.notes.viewer",
                    "binaryauthorization.attestorsViewer",
                    "binaryauthorization.policyViewer",
                    "iam.securityReviewer",
                )
            ],
            ("google_kms_crypto_key_iam_member", "roles/cloudkms.publicKeyViewer", sa("plan")),
            ("google_storage_bucket_iam_member", "roles/storage.objectViewer", sa("plan")),
            (
                "google_service_account_iam_member",
                "roles/iam.workloadIdentityUser",
                "principalSet://iam.googleapis.com/"
                f"${{google_iam_workload_identity_pool.{plan_pool}.name}}"
                "/attribute.repository_id/123456789",
            ),
        ]
    )


def test_secret_and_registry_grants_are_scoped_to_the_one_resource(synth: Synth) -> None:
    secret_id = synth.only("google_secret_manager_secret")["//"]["metadata"]["uniqueId"]
    repo_id = synth.only("google_artifact_registry_repository")["//"]["metadata"]["uniqueId"]
    for binding in synth.resources("google_secret_manager_secret_iam_member").values():
        assert binding["secret_id"] == f"${{google_secret_manager_secret.{secret_id}.secret_id}}"
    for binding in synth.resources("google_artifact_registry_repository_iam_member").values():
        assert binding["repository"] == f"${{google_artifact_registry_repository.{repo_id}.name}}"


# ---------------------------------------------------------------- GitHub federation


def test_wif_provider_admits_only_the_configured_repository(synth: Synth) -> None:
    provider = synth.by_path("google_iam_workload_identity_pool_provider", "/github/provider")
    assert provider["workload_identity_pool_provider_id"] == "github"
    assert provider["oidc"] == {"issuer_uri": "https://token.actions.githubusercontent.com"}
    assert provider["attribute_condition"] == (
        "assertion.sub == 'repo:example-org/secure-mcp-server:ref:refs/heads/main'"
        " && assertion.repository_id == '123456789'"
        " && assertion.repository_owner_id == '987654321'"
    )
    assert provider["attribute_mapping"]["google.subject"] == "assertion.sub"
    assert provider["attribute_mapping"]["attribute.repository_id"] == "assertion.repository_id"
    pool = synth.by_path("google_iam_workload_identity_pool", "/github/pool")
    assert pool["workload_identity_pool_id"] == "github-actions"


# ---------------------------------------------------------------- the rest


def test_project_services(synth: Synth) -> None:
    services = {s["service"]: s for s in synth.resources("google_project_service").values()}
    assert set(services) >= {
        f"{name}.googleapis.com"
        for name in (
            "container",
            "artifactregistry",
            "secretmanager",
            "iam",
            "iamcredentials",
            "sts",
        )
    }
    assert all(s["disable_on_destroy"] is False for s in services.values())


def test_remote_state_in_gcs_and_google_provider_8(synth: Synth) -> None:
    terraform = synth.doc["terraform"]
    assert terraform["backend"] == {
        "gcs": {"bucket": "mcp-example-123456-tfstate", "prefix": "mcp-prototype/infra"}
    }
    google = terraform["required_providers"]["google"]
    assert google["source"] == "hashicorp/google"
    assert google["version"].startswith("8.")
    assert synth.doc["provider"]["google"][0]["project"] == "mcp-example-123456"


def test_outputs_for_the_chart_argocd_and_workflow(synth: Synth) -> None:
    outputs = synth.doc["output"]
    assert set(outputs) >= {
        "project_id",
        "region",
        "registry_url",
        "wif_provider",
        "ci_service_account",
        "app_service_account",
        "cluster_name",
        "cluster_location",
        "secret_id",
    }
    assert outputs["project_id"]["value"] == "mcp-example-123456"
    assert outputs["registry_url"]["value"].startswith(
        "us-central1-docker.pkg.dev/mcp-example-123456/"
    )
    provider = synth.by_path("google_iam_workload_identity_pool_provider", "/github/provider")[
        "//"
    ]["metadata"]["uniqueId"]
    assert outputs["wif_provider"]["value"] == (
        f"${{google_iam_workload_identity_pool_provider.{provider}.name}}"
    )
    assert all(o["description"].startswith("Used by: ") for o in outputs.values())


def test_no_import_blocks_by_default(synth: Synth) -> None:
    assert "import" not in synth.doc


def test_existing_registry_and_secret_are_adopted_by_import_blocks(
    synth: Synth, adopting_synth: Synth
) -> None:
    imports = {entry["to"].split(".")[0]: entry["id"] for entry in adopting_synth.doc["import"]}
    cfg = adopting_synth.config
    assert imports == {
        "google_artifact_registry_repository": (
            f"projects/{cfg.project_id}/locations/{cfg.region}/repositories/{cfg.registry_id}"
        ),
        "google_secret_manager_secret": f"projects/{cfg.project_id}/secrets/{cfg.secret_id}",
    }

    # Adoption adds the import blocks and changes nothing else, so every check on the
    # default synth (checkov's included) holds for the adopting one.
    # (The top-level "//" metadata also lists the imports; it is not Terraform config.)
    def config_only(doc: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in doc.items() if k not in {"import", "//"}}

    assert config_only(adopting_synth.doc) == config_only(synth.doc)


def test_manifest_names_the_stack(synth: Synth) -> None:
    manifest = json.loads((synth.stack_dir.parent.parent / "manifest.json").read_text())
    assert "mcp-prototype" in manifest["stacks"]


def test_automatic_replication_for_adopting_a_gcloud_made_secret(example_config: Any) -> None:
    """Plain `gcloud secrets create` makes automatic replication; adoption must match it."""
    from infra.mcp_infra.secrets import replication

    adopting = example_config.model_copy(update={"signing_key_replication": "automatic"})
    assert replication(adopting) == {"auto": {}}
