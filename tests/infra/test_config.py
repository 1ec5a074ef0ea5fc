"""The typed config refuses bad settings with one message naming the setting.

These tests need neither Node nor the provider: validation runs before the
provider is imported, which is also what makes a bad config fail fast.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.mcp_infra.config import (
    CONFIG_ENV,
    EXAMPLE_CONFIG,
    ConfigError,
    InfraConfig,
    from_mapping,
    load_config,
)
from tests.infra.example import with_settings

ROOT = Path(__file__).resolve().parents[2]


def rejects(message: str, **changes: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        from_mapping(with_settings(**changes), source="config.toml")
    assert message in str(caught.value), str(caught.value)
    assert str(caught.value).startswith("config.toml: ")


def test_example_settings_are_valid(example_config: InfraConfig) -> None:
    assert example_config.zone == "us-central1-a"
    assert example_config.node_count == 3


@pytest.mark.parametrize(
    "project_id",
    [
        "short",
        "Upper-Case-Id",
        "1starts-with-digit",
        "ends-with-hyphen-",
        "has_underscore1",
        "a" * 31,
        "my-google-project",
    ],
)
def test_project_id_format(project_id: str) -> None:
    rejects("project_id", project_id=project_id)
    rejects("is not a Google Cloud project id", project_id=project_id)


def test_region_and_zone_must_agree() -> None:
    rejects("zone 'europe-west1-b' is not in region 'us-central1'", zone="europe-west1-b")
    rejects("zone 'us-central1' is not in region", zone="us-central1")
    rejects("region 'central' is not a Google Cloud region", region="central")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"github_owner": "-leading-hyphen"}, "github_owner '-leading-hyphen' is not a GitHub"),
        ({"github_owner": "a" * 40}, "github_owner"),
        ({"github_owner": "owner/repo"}, "github_owner 'owner/repo' is not a GitHub"),
        ({"github_repository": "has space"}, "github_repository 'has space' is not"),
        ({"github_repository": ".."}, "github_repository '..' is not"),
        ({"github_repository_id": 0}, "github_repository_id is still the example value 0: "),
        ({"github_owner_id": -5}, "github_owner_id must be greater than 0, got -5"),
        ({"github_repository_id": "123"}, "github_repository_id must be a valid integer"),
        ({"github_owner_id": True}, "github_owner_id must be a valid integer"),
        ({"github_branch": "refs/heads/main"}, "github_branch 'refs/heads/main' is not a branch"),
    ],
)
def test_github_identity(changes: dict[str, Any], message: str) -> None:
    rejects(message, **changes)


@pytest.mark.parametrize(
    ("cidr", "message"),
    [
        ("0.0.0.0/0", "would open the control plane to the whole internet"),
        ("0.0.0.0/4", "far too wide"),
        ("10.0.0.1/8", "is not a valid CIDR"),  # host bits set
        ("300.1.2.3/32", "is not a valid CIDR"),
        ("::/0", "IPv4 CIDRs only"),
        ("203.0.113.10/32", "is still the example value"),
    ],
)
def test_authorized_networks(cidr: str, message: str) -> None:
    rejects(
        f"authorized_networks[0].cidr {cidr!r}" if "example" not in message else "authorized",
        authorized_networks=[{"cidr": cidr, "name": "x"}],
    )
    rejects(message, authorized_networks=[{"cidr": cidr, "name": "x"}])


def test_authorized_networks_shape() -> None:
    rejects("authorized_networks must have at least 1 item", authorized_networks=[])
    rejects(
        "authorized_networks[0].name is required: Whose address it is.",
        authorized_networks=[{"cidr": "1.2.3.4/32"}],
    )
    rejects(
        "unknown setting 'authorized_networks[0].nam' (check the spelling: did you mean name?)",
        authorized_networks=[{"cidr": "1.2.3.4/32", "nam": "me"}],
    )
    rejects(
        "authorized_networks must be a valid list, got '1.2.3.4/32'",
        authorized_networks="1.2.3.4/32",
    )


@pytest.mark.parametrize(
    "bucket", ["ab", "Upper-Bucket", "-leading", "with.dots.bucket", "goog-state", "my-google-tf"]
)
def test_state_bucket_name(bucket: str) -> None:
    rejects("state_bucket", state_bucket=bucket)


def test_required_and_unknown_settings() -> None:
    rejects("project_id is required", project_id=None)
    rejects("github_repository_id is required", github_repository_id=None)
    rejects(
        "unknown setting 'projectid' (check the spelling: did you mean project_id?)", projectid="x"
    )
    rejects("unknown setting 'colour' (check the spelling: see config.example.toml)", colour="x")
    rejects("project_id is required: Your Google Cloud project: `gcloud config", project_id=None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"node_count": 0}, "node_count must be greater than or equal to 1, got 0"),
        ({"node_count": 11}, "node_count must be less than or equal to 10, got 11"),
        (
            {"release_channel": "NONE"},
            "release_channel must be 'RAPID', 'REGULAR' or 'STABLE', got 'NONE'",
        ),
        ({"pods_cidr": "10.10.0.0/16"}, "pods_cidr 10.10.0.0/16 overlaps subnet_cidr"),
        ({"master_cidr": "172.16.0.0/24"}, "master_cidr must be a /28"),
        ({"subnet_cidr": "8.8.8.0/24"}, "subnet_cidr '8.8.8.0/24' must be a private"),
        ({"deletion_protection": "no"}, "deletion_protection must be a valid boolean, got 'no'"),
        ({"labels": {"Bad Key": "x"}}, "labels entry 'Bad Key'"),
        ({"secret_id": "bad/secret"}, "secret_id 'bad/secret' is not"),
        ({"secret_id": "clé"}, "secret_id 'clé' is not"),  # ASCII only: Python's \w alone takes é
        (
            {"signing_key_replication": "global"},
            "signing_key_replication must be 'user-managed' or 'automatic'",
        ),
        ({"k8s_namespace": "Bad_NS"}, "k8s_namespace 'Bad_NS' is not a DNS label"),
        ({"alert_email": "oncall"}, "alert_email 'oncall' is not an e-mail address"),
        ({"alert_email": "a@b.com, nobody"}, "alert_email 'nobody' is not an e-mail address"),
        ({"alert_email": 5}, "alert_email must be a valid string, got 5"),
    ],
)
def test_other_settings(changes: dict[str, Any], message: str) -> None:
    rejects(message, **changes)


def test_alert_email_is_optional() -> None:
    assert from_mapping(with_settings(), source="example").alert_email == ""
    config = from_mapping(with_settings(alert_email="oncall@example.com"), source="example")
    assert config.alert_email == "oncall@example.com"
    several = from_mapping(with_settings(alert_email="a@example.com, b@example.org"), source="x")
    assert several.alert_email == "a@example.com, b@example.org"


def test_example_file_is_refused_until_edited(monkeypatch: pytest.MonkeyPatch) -> None:
    """config.example.toml parses, but its placeholders stop synth, naming the first."""
    monkeypatch.setenv(CONFIG_ENV, str(EXAMPLE_CONFIG))
    with pytest.raises(ConfigError) as caught:
        load_config()
    message = str(caught.value)
    assert "project_id is still the example value 'your-project-id'" in message


def test_missing_file_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "config.toml"))
    with pytest.raises(ConfigError, match=r"config file not found; copy config.example.toml"):
        load_config()


def test_invalid_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text('project_id = "unterminated\n')
    monkeypatch.setenv(CONFIG_ENV, str(bad))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config()


REQUIRED_TOML = (
    'project_id = "mcp-example-123456"\nstate_bucket = "mcp-example-tfstate"\n'
    'github_owner = "example-org"\ngithub_repository = "secure-mcp-server"\n'
    "github_repository_id = 1\ngithub_owner_id = 2\n"
    'authorized_networks = [{ cidr = "198.51.100.7/32", name = "me" }]\n'
)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('projectid = "x"', "unknown setting 'projectid' (check the spelling: did you mean"),
        ('node_count = "3"', "node_count must be a valid integer, got '3'"),
        ("labels = { app = 5 }", "labels.app must be a valid string, got 5"),
        ('zone = "europe-west1-b"', "zone 'europe-west1-b' is not in region 'us-central1'"),
        (
            'ZONE = "us-central1-b"',
            "unknown setting 'ZONE' (check the spelling: did you mean zone?)",
        ),
    ],
)
def test_a_bad_line_of_the_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, message: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"{REQUIRED_TOML}{line}\n")
    monkeypatch.setenv(CONFIG_ENV, str(config))
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert str(caught.value).startswith(f"{config}: {message}"), str(caught.value)


def test_only_the_file_sets_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No environment variable overrides config.toml, which is what a learner reads and
    what the infra workflow writes: `zone` in the environment would otherwise move the cluster."""
    config = tmp_path / "config.toml"
    config.write_text(f"{REQUIRED_TOML}node_count = 2\n")
    monkeypatch.setenv(CONFIG_ENV, str(config))
    for name, value in (("zone", "europe-west1-b"), ("NODE_COUNT", "5"), ("project_id", "x")):
        monkeypatch.setenv(name, value)
    loaded = load_config()
    assert (loaded.zone, loaded.node_count, loaded.project_id) == (
        "us-central1-a",
        2,
        "mcp-example-123456",
    )


def test_wif_condition_pins_repository_by_immutable_ids(example_config: InfraConfig) -> None:
    assert example_config.wif_attribute_condition == (
        "assertion.sub == 'repo:example-org/secure-mcp-server:ref:refs/heads/main'"
        " && assertion.repository_id == '123456789'"
        " && assertion.repository_owner_id == '987654321'"
    )


def test_synth_entrypoint_fails_fast_with_one_clear_message(tmp_path: Path) -> None:
    """`python infra/main.py` (what make synth runs) exits 2 before importing the provider."""
    config = tmp_path / "config.toml"
    config.write_text(
        'project_id = "mcp-example-123456"\nstate_bucket = "mcp-example-tfstate"\n'
        'github_owner = "example-org"\ngithub_repository = "secure-mcp-server"\n'
        "github_repository_id = 1\ngithub_owner_id = 2\n"
        'zone = "europe-west1-b"\n'
        'authorized_networks = [{ cidr = "198.51.100.7/32", name = "me" }]\n'
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "infra" / "main.py")],
        env={**os.environ, "MCP_INFRA_CONFIG": str(config)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {config}: zone 'europe-west1-b' is not in region 'us-central1' "
        "(like us-central1-a)"
    )
    assert "importing CDK Terrain" not in result.stdout


# One refused value per setting. The key set must be every declared setting, so a
# new setting cannot be added without a test that one of its rules can fail.
BAD_VALUES: dict[str, Any] = {
    "project_id": "my-google-project",
    "region": "central",
    "zone": "us-east1-b",
    "state_bucket": "goog-state",
    "state_prefix": "/absolute/path",
    "stack_name": "Stack_Name",
    "github_owner": "owner/repo",
    "github_repository": "..",
    "github_repository_id": -1,
    "github_owner_id": 0,
    "github_branch": "feature/../main",
    "authorized_networks": [{"cidr": "16.0.0.0/4", "name": "too wide"}],
    "cluster_name": "Cluster",
    "node_count": 11,
    "machine_type": "large",
    "disk_size_gb": 10,
    "release_channel": "EXTENDED",
    "deletion_protection": "yes",
    "regional": "yes",
    "min_nodes": 51,
    "max_nodes": 2,
    "maintenance_exclusion_start": "2026-12-24T00:00:00",
    "maintenance_exclusion_end": "tomorrow",
    "maintenance_exclusion_scope": "NONE",
    "upgrade_notifications": 1,
    "database_encryption": "true",
    "network_name": "-vpc",
    "subnet_cidr": "10.10.0.1/20",
    "pods_cidr": "8.8.0.0/16",
    "services_cidr": "10.20.0.0/20",
    "master_cidr": "10.10.0.0/28",
    "registry_id": "a" * 41,
    "registry_keep_versions": 0,
    "registry_untagged_days": 366,
    "registry_tagged_days": 0,
    "import_existing_registry": 1,
    "secret_id": "key.v1",
    "signing_key_replication": "regional",
    "import_existing_secret": "false",
    "k8s_namespace": "-ns",
    "k8s_service_account": "a" * 64,
    "app_service_account_id": "app",
    "ci_service_account_id": "ci_pusher",
    "node_service_account_id": "Nodes-account",
    "wif_pool_id": "gha",
    "wif_provider_id": "p" * 33,
    "kms_key_ring": "key ring",
    "binauthz_enforcement_mode": "ALWAYS_ALLOW",
    "plan_service_account_id": "plan",
    "plan_wif_pool_id": "Plan-Pool",
    "alert_email": "Oncall <oncall@example.com>",
    "signin_host": "https://mcp.example.com",
    "signin_redis_tier": "PREMIUM",
    "labels": {},
}


def test_every_setting_has_a_refused_value() -> None:
    assert set(BAD_VALUES) == set(InfraConfig.model_fields)


@pytest.mark.parametrize(("name", "value"), BAD_VALUES.items())
def test_each_setting_refuses_a_bad_value_naming_itself(name: str, value: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        from_mapping(with_settings(**{name: value}), source="config.toml")
    assert str(caught.value).startswith(f"config.toml: {name}"), str(caught.value)


def test_config_modules_import_nothing_from_cdk_terrain() -> None:
    """What make synth needs to refuse a bad config loads no jsii, so it fails in a blink."""
    probe = (
        "import sys\n"
        "import mcp_infra.config, mcp_infra.settings_doc\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'cdktn', 'cdktn_provider_google', 'constructs', 'jsii'})\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT / "infra",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"maintenance_exclusion_start": "2026-12-24T00:00:00Z"},
            "maintenance_exclusion_end and maintenance_exclusion_start must be set together",
        ),
        (
            {
                "maintenance_exclusion_start": "2026-12-24T00:00:00Z",
                "maintenance_exclusion_end": "2026-12-23T00:00:00+01:00",
            },
            "maintenance_exclusion_end '2026-12-23T00:00:00+01:00' must be later than",
        ),
        ({"max_nodes": 5, "min_nodes": 4}, "max_nodes must be 0 (no autoscaling) or at least"),
        ({"signin_host": "mcp.example.com:443"}, "signin_host 'mcp.example.com:443' is not"),
    ],
)
def test_cluster_options_that_do_not_fit_together(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        from_mapping(with_settings(**changes), source="config.toml")


def test_cluster_options_that_fit_together() -> None:
    config = from_mapping(
        with_settings(
            maintenance_exclusion_start="2026-12-24T00:00:00Z",
            maintenance_exclusion_end="2027-01-02T00:00:00Z",
            min_nodes=1,
            max_nodes=6,
            signin_host="mcp.example.com",
        ),
        source="config.toml",
    )
    assert (config.max_nodes, config.signin_host) == (6, "mcp.example.com")
