"""The cluster options of infra/config.toml: off by default, and what each adds when on.

`synth` is the learner's default stack; `alerting_synth` turns every option on
(tests/infra/conftest.py, LEARNER_OPTIONS).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.conftest import Synth

pytestmark = pytest.mark.infra

OPTION_TYPES = ("google_kms_key_ring", "google_kms_crypto_key", "google_pubsub_topic")


def cluster(synth: Synth) -> dict[str, Any]:
    return synth.only("google_container_cluster")


def pool(synth: Synth) -> dict[str, Any]:
    return synth.only("google_container_node_pool")


def apis(synth: Synth) -> set[str]:
    return {body["service"] for body in synth.resources("google_project_service").values()}


def test_defaults_stay_zonal_fixed_and_without_extra_resources(synth: Synth) -> None:
    body = cluster(synth)
    assert body["location"] == "us-central1-a"
    assert pool(synth)["location"] == "us-central1-a"
    assert pool(synth)["node_count"] == 3
    assert "autoscaling" not in pool(synth)
    assert body["maintenance_policy"] == {"daily_maintenance_window": {"start_time": "03:00"}}
    assert "notification_config" not in body
    assert "database_encryption" not in body
    for rtype in OPTION_TYPES:
        assert synth.resources(rtype) == {}, rtype
    assert not apis(synth) & {"cloudkms.googleapis.com", "pubsub.googleapis.com"}


def test_regional_puts_cluster_and_pool_in_the_region(alerting_synth: Synth) -> None:
    assert cluster(alerting_synth)["location"] == "us-central1"
    assert pool(alerting_synth)["location"] == "us-central1"


def test_autoscaling_bounds_replace_the_fixed_count(alerting_synth: Synth) -> None:
    body = pool(alerting_synth)
    assert "node_count" not in body
    assert body["initial_node_count"] == 1
    assert body["autoscaling"] == {"min_node_count": 1, "max_node_count": 3}


def test_maintenance_exclusion_keeps_the_daily_window(alerting_synth: Synth) -> None:
    policy = cluster(alerting_synth)["maintenance_policy"]
    assert policy["daily_maintenance_window"] == {"start_time": "03:00"}
    (exclusion,) = policy["maintenance_exclusion"]
    assert exclusion["start_time"] == "2026-12-24T00:00:00Z"
    assert exclusion["end_time"] == "2027-01-02T00:00:00Z"
    assert exclusion["exclusion_options"] == {"scope": "NO_MINOR_UPGRADES"}


def test_upgrade_notifications_go_to_a_topic_in_the_stack(alerting_synth: Synth) -> None:
    (topic_id, topic) = next(iter(alerting_synth.resources("google_pubsub_topic").items()))
    assert topic["name"] == "mcp-prototype-upgrades"
    pubsub = cluster(alerting_synth)["notification_config"]["pubsub"]
    assert pubsub["enabled"] is True
    assert pubsub["topic"] == f"${{google_pubsub_topic.{topic_id}.id}}"
    assert "SECURITY_BULLETIN_EVENT" in pubsub["filter"]["event_type"]
    assert "pubsub.googleapis.com" in apis(alerting_synth)


def test_secrets_encrypted_with_a_kms_key_the_gke_agent_may_use(alerting_synth: Synth) -> None:
    (ring_id, ring) = next(iter(alerting_synth.resources("google_kms_key_ring").items()))
    (key_id, key) = next(iter(alerting_synth.resources("google_kms_crypto_key").items()))
    assert ring["location"] == "us-central1"
    assert key["key_ring"] == f"${{google_kms_key_ring.{ring_id}.id}}"
    assert key["purpose"] == "ENCRYPT_DECRYPT"
    assert key["rotation_period"] == "7776000s"  # 90 days
    assert key["lifecycle"]["prevent_destroy"] is True
    key_ref = f"${{google_kms_crypto_key.{key_id}.id}}"
    assert cluster(alerting_synth)["database_encryption"] == {
        "state": "ENCRYPTED",
        "key_name": key_ref,
    }
    # The one grant: GKE's service agent, on this key only, encrypt and decrypt.
    (grant_id, grant) = next(
        iter(alerting_synth.resources("google_kms_crypto_key_iam_member").items())
    )
    assert grant["crypto_key_id"] == key_ref
    assert grant["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    (project_id,) = alerting_synth.doc["data"]["google_project"]
    assert grant["member"] == (
        f"serviceAccount:service-${{data.google_project.{project_id}.number}}"
        "@container-engine-robot.iam.gserviceaccount.com"
    )
    # The cluster is created encrypted, so the grant comes first.
    assert f"google_kms_crypto_key_iam_member.{grant_id}" in cluster(alerting_synth)["depends_on"]
    assert "cloudkms.googleapis.com" in apis(alerting_synth)
