"""Phase 5's roles table grants what every resource of the synthesized stack needs.

A learner who is not Owner asks for exactly the table's roles; a resource type
no role covers fails their `terraform apply` with 403 (the monitoring
resources did). Each Terraform type the stack creates maps to the predefined
role that may create it; a new type fails here until its role is in the table.
"""

from __future__ import annotations

import re

import pytest

from tests.docs.markdown import TUTORIAL, section
from tests.infra.conftest import Synth

pytestmark = [pytest.mark.infra, pytest.mark.docs]

# Terraform resource type -> the predefined role whose permissions create it
# (cloud.google.com/iam/docs/understanding-roles).
ROLE_FOR = {
    "google_artifact_registry_repository": "roles/artifactregistry.admin",
    "google_artifact_registry_repository_iam_member": "roles/artifactregistry.admin",
    "google_binary_authorization_attestor": "roles/binaryauthorization.attestorsAdmin",
    "google_binary_authorization_attestor_iam_member": "roles/binaryauthorization.attestorsAdmin",
    "google_binary_authorization_policy": "roles/binaryauthorization.policyEditor",
    "google_compute_managed_ssl_certificate": "roles/compute.securityAdmin",
    "google_container_analysis_note": "roles/containeranalysis.admin",
    "google_container_analysis_note_iam_member": "roles/containeranalysis.admin",
    "google_kms_crypto_key": "roles/cloudkms.admin",
    "google_kms_crypto_key_iam_member": "roles/cloudkms.admin",
    "google_kms_key_ring": "roles/cloudkms.admin",
    "google_monitoring_custom_service": "roles/monitoring.editor",
    "google_monitoring_slo": "roles/monitoring.editor",
    "google_pubsub_topic": "roles/pubsub.editor",
    "google_storage_bucket_iam_member": "roles/storage.admin",
    "google_compute_firewall": "roles/compute.securityAdmin",
    "google_compute_security_policy": "roles/compute.securityAdmin",
    "google_compute_ssl_policy": "roles/compute.securityAdmin",
    "google_compute_global_address": "roles/compute.networkAdmin",
    "google_compute_network": "roles/compute.networkAdmin",
    "google_compute_router": "roles/compute.networkAdmin",
    "google_compute_router_nat": "roles/compute.networkAdmin",
    "google_compute_subnetwork": "roles/compute.networkAdmin",
    "google_container_cluster": "roles/container.admin",
    "google_container_node_pool": "roles/container.admin",
    "google_iam_workload_identity_pool": "roles/iam.workloadIdentityPoolAdmin",
    "google_iam_workload_identity_pool_provider": "roles/iam.workloadIdentityPoolAdmin",
    "google_monitoring_alert_policy": "roles/monitoring.editor",
    "google_monitoring_dashboard": "roles/monitoring.editor",
    "google_monitoring_notification_channel": "roles/monitoring.editor",
    "google_monitoring_uptime_check_config": "roles/monitoring.editor",
    "google_project_iam_member": "roles/resourcemanager.projectIamAdmin",
    "google_project_service": "roles/serviceusage.serviceUsageAdmin",
    "google_redis_instance": "roles/redis.admin",
    "google_secret_manager_secret": "roles/secretmanager.admin",
    "google_secret_manager_secret_iam_member": "roles/secretmanager.admin",
    "google_service_account": "roles/iam.serviceAccountAdmin",
    "google_service_account_iam_member": "roles/iam.serviceAccountAdmin",
}


def table_roles() -> set[str]:
    """The table's roles, and those its paragraphs ask for with an option or phase 10."""
    text = (TUTORIAL / "05-infrastructure.md").read_text(encoding="utf-8")
    return set(re.findall(r"`(roles/[\w.]+)`", section(text, "The roles your own account needs")))


@pytest.mark.parametrize("which", ["synth", "alerting_synth"])
def test_every_resource_type_has_its_role_in_the_table(
    which: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(which)
    created = set(synth.doc.get("resource", {}))
    unknown = sorted(created - set(ROLE_FOR))
    assert not unknown, f"which role creates {unknown}? add it to ROLE_FOR and phase 5's table"
    missing = {f"{rtype}: {ROLE_FOR[rtype]}" for rtype in created} - {
        f"{rtype}: {role}" for rtype, role in ROLE_FOR.items() if role in table_roles()
    }
    assert not missing, f"phase 5's roles table lacks {sorted(missing)}"
    assert "roles/monitoring.editor" in table_roles()
