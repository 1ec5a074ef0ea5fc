"""Sign-in's Google Cloud parts (phase 10): present with signin_host, secure, and valueless.

`signin_synth` is the example stack with signin_host set; `synth` is the same
stack without it, which must hold nothing of sign-in.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.mcp_infra import signin_names as names
from infra.mcp_infra.config import ConfigError, from_mapping
from tests.infra.conftest import Synth
from tests.infra.example import SIGNIN_HOST, with_settings
from tests.infra.test_stack import secret_like

pytestmark = pytest.mark.infra

SIGNIN_TYPES = (
    "google_redis_instance",
    "google_compute_global_address",
    "google_compute_managed_ssl_certificate",
    "google_compute_ssl_policy",
    "google_compute_security_policy",
)
SIGNIN_SECRETS = {
    names.OAUTH_CLIENT_SECRET_ID,
    names.REDIS_AUTH_SECRET_ID,
    names.REDIS_CA_SECRET_ID,
}


def ref(synth: Synth, rtype: str, attribute: str) -> str:
    """The Terraform reference to the one resource of a type, as the JSON spells it."""
    (unique,) = synth.resources(rtype)
    return f"${{{rtype}.{unique}.{attribute}}}"


def secret_ids(synth: Synth) -> set[str]:
    return {s["secret_id"] for s in synth.resources("google_secret_manager_secret").values()}


def test_nothing_of_sign_in_without_a_host(synth: Synth) -> None:
    assert synth.config.signin_host == ""
    for rtype in SIGNIN_TYPES:
        assert synth.resources(rtype) == {}, rtype
    assert secret_ids(synth) == {synth.config.secret_id}
    services = {s["service"] for s in synth.resources("google_project_service").values()}
    assert "redis.googleapis.com" not in services
    assert not [name for name in synth.doc["output"] if name.startswith("signin")]


def test_the_host_adds_each_resource_once(signin_synth: Synth) -> None:
    for rtype in SIGNIN_TYPES:
        assert signin_synth.only(rtype)["name"] == names.NAME, rtype
    services = {s["service"] for s in signin_synth.resources("google_project_service").values()}
    assert {"redis.googleapis.com", "compute.googleapis.com"} <= services


def test_memorystore_authenticates_encrypts_and_sits_on_the_clusters_network(
    signin_synth: Synth,
) -> None:
    redis = signin_synth.only("google_redis_instance")
    assert redis["auth_enabled"] is True
    assert redis["transit_encryption_mode"] == "SERVER_AUTHENTICATION"
    # The cluster's VPC (the one the GKE cluster's network names), not `default`.
    vpc = ref(signin_synth, "google_compute_network", "id")
    assert redis["authorized_network"] == vpc
    assert signin_synth.only("google_container_cluster")["network"] == vpc
    assert redis["connect_mode"] == "DIRECT_PEERING"
    assert redis["tier"] == "BASIC"  # the cheaper default; STANDARD_HA is a setting
    assert redis["region"] == signin_synth.config.region
    assert redis["location_id"] == signin_synth.config.zone
    # Removing sign-in (signin_host = "") must be able to delete it: nothing billed stays.
    assert redis["deletion_protection"] is False


def test_the_tier_is_a_setting_and_refuses_others() -> None:
    config = from_mapping(with_settings(signin_redis_tier="STANDARD_HA"), source="t")
    assert config.signin_redis_tier == "STANDARD_HA"
    with pytest.raises(ConfigError, match="signin_redis_tier"):
        from_mapping(with_settings(signin_redis_tier="PREMIUM"), source="t")


@pytest.mark.parametrize("host", ["https://mcp.example.com", "mcp.example.com/x", "MCP", "a_b.c"])
def test_a_host_that_is_not_a_host_name_is_refused(host: str) -> None:
    with pytest.raises(ConfigError, match="signin_host"):
        from_mapping(with_settings(signin_host=host), source="t")


def test_tls_1_2_or_newer_and_the_certificate_for_the_host(signin_synth: Synth) -> None:
    policy = signin_synth.only("google_compute_ssl_policy")
    assert policy["min_tls_version"] in {"TLS_1_2", "TLS_1_3"}
    assert policy["profile"] in {"MODERN", "RESTRICTED"}
    certificate = signin_synth.only("google_compute_managed_ssl_certificate")
    assert certificate["managed"] == {"domains": [SIGNIN_HOST]}
    address = signin_synth.only("google_compute_global_address")
    assert address["address_type"] == "EXTERNAL"
    outputs = signin_synth.doc["output"]
    assert outputs["signin_address"]["value"] == ref(
        signin_synth, "google_compute_global_address", "address"
    )
    assert outputs["signin_redis_host"]["value"] == ref(
        signin_synth, "google_redis_instance", "host"
    )


def _rules(synth: Synth) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = synth.only("google_compute_security_policy")["rule"]
    return rules


def test_cloud_armor_throttles_each_client_on_the_oauth_endpoints(signin_synth: Synth) -> None:
    (throttle,) = [r for r in _rules(signin_synth) if r["action"] == "throttle"]
    options = throttle["rate_limit_options"]
    assert options["enforce_on_key"] == "IP"  # per client, not one budget for everybody
    assert options["exceed_action"] == "deny(429)"
    assert options["conform_action"] == "allow"
    threshold = options["rate_limit_threshold"]
    assert 0 < threshold["count"] <= 120
    assert threshold["interval_sec"] == 60
    # The CEL regular expression, applied the way Cloud Armor applies it (RE2 full match
    # semantics are the same as Python's for this pattern).
    expression = throttle["match"]["expr"]["expression"]
    pattern = re.fullmatch(r"request\.path\.matches\('(.+)'\)", expression)
    assert pattern, expression
    matches = re.compile(pattern.group(1))
    for path in names.OAUTH_PATHS:
        assert matches.search(path), path
    for path in ("/mcp", "/.well-known/oauth-protected-resource", "/tokens", "/x/token"):
        assert not matches.search(path), path
    # The default rule lets the rest through (the app's own checks decide).
    (last,) = [r for r in _rules(signin_synth) if r["priority"] == 2147483647]
    assert last["action"] == "allow"


def test_secrets_are_containers_and_only_the_app_may_read_them(
    signin_synth: Synth, example_config: Any
) -> None:
    assert secret_ids(signin_synth) == {signin_synth.config.secret_id, *SIGNIN_SECRETS}
    assert not [t for t in signin_synth.doc["resource"] if "secret_version" in t]
    assert not [t for t in signin_synth.doc.get("data", {}) if "secret_version" in t]
    (app_sa,) = [
        unique
        for unique, sa in signin_synth.resources("google_service_account").items()
        if sa["account_id"] == example_config.app_service_account_id
    ]
    app = f"serviceAccount:${{google_service_account.{app_sa}.email}}"
    grants = {
        (b["secret_id"], b["role"], b["member"])
        for b in signin_synth.resources("google_secret_manager_secret_iam_member").values()
    }
    by_id = {
        body["secret_id"]: f"${{google_secret_manager_secret.{unique}.secret_id}}"
        for unique, body in signin_synth.resources("google_secret_manager_secret").items()
    }
    for secret_id in SIGNIN_SECRETS:
        assert {(role, m) for s, role, m in grants if s == by_id[secret_id]} == {
            ("roles/secretmanager.secretAccessor", app)
        }, secret_id


def test_no_secret_value_and_no_memorystore_credential_in_the_json(signin_synth: Synth) -> None:
    assert secret_like(signin_synth.doc) == []
    # Memorystore exposes these as attributes: referenced anywhere, they would be in state
    # through the referencing resource (and in the plan), so nothing may reference them.
    for attribute in ("auth_string", "server_ca_certs"):
        assert attribute not in signin_synth.text, attribute
    assert "sensitive" not in signin_synth.text
