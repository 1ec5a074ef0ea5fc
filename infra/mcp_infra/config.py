"""Typed, validated settings for the Google Cloud stack.

The learner's values live in `infra/config.toml` (copy `config.example.toml`;
the path can be changed with `MCP_INFRA_CONFIG`). Every setting is checked
here, before the slow provider import, and a bad one stops synth with one
message that names the setting, e.g.

    infra/config.toml: zone 'europe-west1-b' is not in region 'us-central1'

This module imports nothing from CDK Terrain, so it is cheap to test.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, NoReturn

INFRA_DIR = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = INFRA_DIR / "config.toml"
EXAMPLE_CONFIG = INFRA_DIR / "config.example.toml"
CONFIG_ENV = "MCP_INFRA_CONFIG"

# Values from config.example.toml that a learner must replace: synth refuses them.
PLACEHOLDERS = frozenset(
    {
        "your-project-id",
        "your-state-bucket",
        "your-github-user",
        "your-repository",
        "203.0.113.10/32",  # TEST-NET-3 (RFC 5737): documentation only, never your address
    }
)

_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
_ZONE_SUFFIX = re.compile(r"^[a-z]$")
# GitHub: 1-39 alphanumerics or single hyphens, not at either end.
_GITHUB_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_GITHUB_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_GIT_BRANCH = re.compile(r"^[A-Za-z0-9._/-]{1,200}$")
# Names of GCP resources (cluster, repository, service accounts, pools): RFC 1035 labels.
_RESOURCE_NAME = re.compile(r"^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$")
_SERVICE_ACCOUNT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_SECRET_ID = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_K8S_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_MACHINE_TYPE = re.compile(r"^[a-z0-9]+-[a-z0-9-]+$")
_STATE_PREFIX = re.compile(r"^[A-Za-z0-9._/-]{1,200}$")
# One plain address (no display name, no list): what a Monitoring e-mail channel takes.
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


Fail = Callable[[str, str], NoReturn]


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names it."""


@dataclass(frozen=True)
class AuthorizedNetwork:
    """One CIDR allowed to reach the GKE control plane (kubectl)."""

    cidr: str
    name: str


@dataclass(frozen=True)
class InfraConfig:
    """Everything the stack needs; built by `load_config` / `from_mapping`."""

    project_id: str
    state_bucket: str
    github_owner: str
    github_repository: str
    github_repository_id: int
    github_owner_id: int
    authorized_networks: tuple[AuthorizedNetwork, ...]
    region: str = "us-central1"
    zone: str = "us-central1-a"
    state_prefix: str = "mcp-prototype/infra"
    stack_name: str = "mcp-prototype"
    github_branch: str = "main"
    cluster_name: str = "mcp-prototype"
    node_count: int = 3
    machine_type: str = "e2-standard-2"
    disk_size_gb: int = 50
    release_channel: str = "REGULAR"
    deletion_protection: bool = True
    network_name: str = "mcp-prototype"
    subnet_cidr: str = "10.10.0.0/20"
    pods_cidr: str = "10.20.0.0/14"
    services_cidr: str = "10.24.0.0/20"
    master_cidr: str = "172.16.0.32/28"
    registry_id: str = "mcp-prototype"
    registry_keep_versions: int = 10
    registry_untagged_days: int = 7
    secret_id: str = "mcp-jwt-signing-key"  # noqa: S105 (the name, not the key)
    signing_key_replication: str = "user-managed"
    k8s_namespace: str = "mcp-prototype"
    k8s_service_account: str = "mcp-server"
    app_service_account_id: str = "mcp-server"
    ci_service_account_id: str = "mcp-ci-pusher"
    node_service_account_id: str = "mcp-gke-nodes"
    wif_pool_id: str = "github-actions"
    wif_provider_id: str = "github"
    import_existing_registry: bool = False
    import_existing_secret: bool = False
    # Where alerts are e-mailed; empty means the policies exist without a channel
    # (incidents still open in the console).
    alert_email: str = ""
    labels: Mapping[str, str] = field(
        default_factory=lambda: {"app": "mcp-server", "env": "prototype", "managed-by": "cdktn"}
    )

    # ---- derived names (one place, so the outputs and tests agree) ----

    @property
    def workload_pool(self) -> str:
        return f"{self.project_id}.svc.id.goog"

    @property
    def registry_url(self) -> str:
        return f"{self.region}-docker.pkg.dev/{self.project_id}/{self.registry_id}"

    def service_account_email(self, account_id: str) -> str:
        return f"{account_id}@{self.project_id}.iam.gserviceaccount.com"

    @property
    def ksa_member(self) -> str:
        """The Kubernetes service account as an IAM member (Workload Identity)."""
        return (
            f"serviceAccount:{self.workload_pool}[{self.k8s_namespace}/{self.k8s_service_account}]"
        )

    @property
    def wif_attribute_condition(self) -> str:
        """CEL admitting only tokens of this repository, by ids GitHub never reuses.

        `sub` pins the repository name and the branch (workflows run by pull requests
        or other branches get another `sub`); names can be re-registered by someone
        else after a rename, the numeric ids cannot, so both ids are pinned too.
        """
        return (
            f"assertion.sub == '{self.github_subject}'"
            f" && assertion.repository_id == '{self.github_repository_id}'"
            f" && assertion.repository_owner_id == '{self.github_owner_id}'"
        )

    @property
    def github_subject(self) -> str:
        """The `sub` claim of a workflow run on the deploy branch (no `environment:`)."""
        return (
            f"repo:{self.github_owner}/{self.github_repository}:ref:refs/heads/{self.github_branch}"
        )


# ---------------------------------------------------------------- loading


def config_path() -> Path:
    """The config file in use: $MCP_INFRA_CONFIG, else infra/config.toml."""
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else DEFAULT_CONFIG


def load_config(path: Path | None = None) -> InfraConfig:
    """Read and validate the TOML config file; raise ConfigError naming the bad setting."""
    path = path or config_path()
    if not path.is_file():
        raise ConfigError(
            f"{path}: config file not found; copy {EXAMPLE_CONFIG.name} to config.toml "
            f"in {INFRA_DIR} and set your values (or point {CONFIG_ENV} at one)"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return from_mapping(data, source=str(path))


def from_mapping(data: Mapping[str, Any], source: str = "config") -> InfraConfig:
    """Build an InfraConfig from plain values (a parsed TOML table) and validate it."""
    known = {f.name for f in fields(InfraConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{source}: unknown setting {unknown[0]!r} (check the spelling)")
    required = [
        f.name for f in fields(InfraConfig) if f.default is MISSING and f.default_factory is MISSING
    ]
    for name in required:
        if name not in data:
            raise ConfigError(f"{source}: {name} is required")

    values = dict(data)
    raw_networks = values.get("authorized_networks")
    if not isinstance(raw_networks, list):
        raise ConfigError(
            f"{source}: authorized_networks must be a list of {{cidr = ..., name = ...}} tables"
        )
    networks = []
    for i, item in enumerate(raw_networks):
        if not isinstance(item, Mapping) or set(item) != {"cidr", "name"}:
            raise ConfigError(
                f"{source}: authorized_networks[{i}] must be a table with exactly cidr and name"
            )
        networks.append(AuthorizedNetwork(cidr=str(item["cidr"]), name=str(item["name"])))
    values["authorized_networks"] = tuple(networks)
    if "labels" in values:
        if not isinstance(values["labels"], Mapping):
            raise ConfigError(f'{source}: labels must be a table of key = "value"')
        values["labels"] = dict(values["labels"])

    _check_types(values, source)
    config = InfraConfig(**values)
    validate(config, source)
    return config


def _check_types(values: Mapping[str, Any], source: str) -> None:
    expected = {f.name: f.type for f in fields(InfraConfig)}
    for name, value in values.items():
        kind = expected[name]
        if kind == "str" and not isinstance(value, str):
            raise ConfigError(f"{source}: {name} must be a string, got {value!r}")
        # bool is an int in Python: refuse it where a number is meant.
        if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(f"{source}: {name} must be a whole number, got {value!r}")
        if kind == "bool" and not isinstance(value, bool):
            raise ConfigError(f"{source}: {name} must be true or false, got {value!r}")


# ---------------------------------------------------------------- validation


def validate(cfg: InfraConfig, source: str = "config") -> None:
    """Raise ConfigError with one clear message for the first bad setting."""

    def fail(name: str, message: str) -> NoReturn:
        raise ConfigError(f"{source}: {name} {message}")

    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if isinstance(value, str) and value in PLACEHOLDERS:
            fail(f.name, f"is still the example value {value!r}: set your own in {source}")
    for i, net in enumerate(cfg.authorized_networks):
        if net.cidr in PLACEHOLDERS:
            fail(
                f"authorized_networks[{i}].cidr",
                f"is still the example value {net.cidr!r}: set the address you run kubectl "
                "from (curl -4 -s https://ifconfig.me, then add /32)",
            )

    if not _PROJECT_ID.match(cfg.project_id) or "google" in cfg.project_id:
        fail(
            "project_id",
            f"{cfg.project_id!r} is not a valid Google Cloud project id (6-30 characters: "
            "lowercase letters, digits and hyphens, starting with a letter, not ending with "
            "a hyphen)",
        )
    if not _REGION.match(cfg.region):
        fail("region", f"{cfg.region!r} is not a Google Cloud region (like us-central1)")
    prefix = f"{cfg.region}-"
    if not cfg.zone.startswith(prefix) or not _ZONE_SUFFIX.match(cfg.zone[len(prefix) :]):
        fail("zone", f"{cfg.zone!r} is not in region {cfg.region!r} (like {cfg.region}-a)")

    _validate_bucket(cfg.state_bucket, fail)
    if not _STATE_PREFIX.match(cfg.state_prefix) or cfg.state_prefix.startswith("/"):
        fail("state_prefix", f"{cfg.state_prefix!r} must be a relative object path")

    if not _GITHUB_OWNER.match(cfg.github_owner):
        fail("github_owner", f"{cfg.github_owner!r} is not a GitHub user or organization name")
    if not _GITHUB_REPO.match(cfg.github_repository) or cfg.github_repository in {".", ".."}:
        fail(
            "github_repository",
            f"{cfg.github_repository!r} is not a repository name (the part after "
            "owner/; letters, digits, '.', '-', '_')",
        )
    for name in ("github_repository_id", "github_owner_id"):
        if getattr(cfg, name) <= 0:
            fail(
                name,
                "must be the positive numeric id GitHub assigned (gh api "
                "repos/OWNER/REPO --jq '.id, .owner.id')",
            )
    if (
        not _GIT_BRANCH.match(cfg.github_branch)
        or ".." in cfg.github_branch
        or cfg.github_branch.startswith(("/", "refs/"))
    ):
        fail("github_branch", f"{cfg.github_branch!r} is not a branch name (like main)")

    if not cfg.authorized_networks:
        fail(
            "authorized_networks",
            "must list at least one CIDR allowed to reach the control plane (your address/32)",
        )
    for i, net in enumerate(cfg.authorized_networks):
        _validate_authorized_cidr(i, net, fail)

    _validate_ranges(cfg, fail)

    for name in ("cluster_name", "registry_id", "network_name", "wif_pool_id", "wif_provider_id"):
        value = getattr(cfg, name)
        if not _RESOURCE_NAME.match(value):
            fail(name, f"{value!r} must be lowercase letters, digits and hyphens, 1-40 long")
    if len(cfg.wif_pool_id) < 4 or len(cfg.wif_provider_id) < 4:
        fail("wif_pool_id", "and wif_provider_id must be 4-32 characters long")
    for name in ("app_service_account_id", "ci_service_account_id", "node_service_account_id"):
        value = getattr(cfg, name)
        if not _SERVICE_ACCOUNT_ID.match(value):
            fail(name, f"{value!r} is not a service account id (6-30 lowercase, digits, '-')")
    if not _SECRET_ID.match(cfg.secret_id):
        fail("secret_id", f"{cfg.secret_id!r} is not a Secret Manager secret id")
    if cfg.signing_key_replication not in {"user-managed", "automatic"}:
        fail(
            "signing_key_replication",
            f"must be user-managed or automatic, got {cfg.signing_key_replication!r}",
        )
    for name in ("k8s_namespace", "k8s_service_account", "stack_name"):
        value = getattr(cfg, name)
        if not _K8S_NAME.match(value):
            fail(name, f"{value!r} must be a DNS label (lowercase letters, digits, '-')")

    if not 1 <= cfg.node_count <= 10:
        fail("node_count", f"must be between 1 and 10, got {cfg.node_count}")
    if not _MACHINE_TYPE.match(cfg.machine_type):
        fail("machine_type", f"{cfg.machine_type!r} is not a machine type (like e2-standard-2)")
    if not 20 <= cfg.disk_size_gb <= 500:
        fail("disk_size_gb", f"must be between 20 and 500, got {cfg.disk_size_gb}")
    if cfg.release_channel not in {"RAPID", "REGULAR", "STABLE"}:
        fail("release_channel", f"must be RAPID, REGULAR or STABLE, got {cfg.release_channel!r}")
    if not 1 <= cfg.registry_keep_versions <= 100:
        fail("registry_keep_versions", "must be between 1 and 100")
    if not 1 <= cfg.registry_untagged_days <= 365:
        fail("registry_untagged_days", "must be between 1 and 365")

    if cfg.alert_email and not _EMAIL.match(cfg.alert_email):
        fail(
            "alert_email",
            f"{cfg.alert_email!r} is not one e-mail address (like oncall@example.com); "
            "leave it empty for no notification channel",
        )

    if not cfg.labels:
        fail("labels", "must hold at least one label (GKE resources are found by them)")
    for key, value in cfg.labels.items():
        if not _LABEL_KEY.match(key) or not isinstance(value, str) or not _LABEL_VALUE.match(value):
            fail(
                "labels",
                f"entry {key!r} = {value!r} is not a valid label (lowercase letters, digits, "
                "'_' and '-', key starting with a letter)",
            )


def _validate_bucket(name: str, fail: Fail) -> None:
    # https://cloud.google.com/storage/docs/buckets#naming (names without dots).
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]", name):
        fail(
            "state_bucket",
            f"{name!r} is not a Cloud Storage bucket name (3-63 characters: lowercase "
            "letters, digits, '-' and '_', starting and ending with a letter or digit)",
        )
    if name.startswith("goog") or "google" in name:
        fail("state_bucket", f"{name!r} may not start with 'goog' or contain 'google'")


def _validate_authorized_cidr(i: int, net: AuthorizedNetwork, fail: Fail) -> None:
    setting = f"authorized_networks[{i}].cidr"
    try:
        parsed = ipaddress.ip_network(net.cidr, strict=True)
    except ValueError as exc:
        fail(setting, f"{net.cidr!r} is not a valid CIDR ({exc})")
    if parsed.version != 4:
        fail(setting, f"{net.cidr!r}: GKE authorized networks take IPv4 CIDRs only")
    if parsed.prefixlen == 0:
        fail(setting, f"{net.cidr!r} would open the control plane to the whole internet")
    if parsed.prefixlen < 8:
        fail(setting, f"{net.cidr!r} is far too wide for an allow-list (use /8 or narrower)")
    if not net.name or len(net.name) > 100:
        fail(f"authorized_networks[{i}].name", "must be a short description (1-100 characters)")


def _validate_ranges(cfg: InfraConfig, fail: Fail) -> None:
    parsed: dict[str, ipaddress.IPv4Network] = {}
    for name in ("subnet_cidr", "pods_cidr", "services_cidr", "master_cidr"):
        value = getattr(cfg, name)
        try:
            net = ipaddress.ip_network(value, strict=True)
        except ValueError as exc:
            fail(name, f"{value!r} is not a valid CIDR ({exc})")
        if not isinstance(net, ipaddress.IPv4Network) or not net.is_private:
            fail(name, f"{value!r} must be a private (RFC 1918) IPv4 range")
        parsed[name] = net
    if parsed["master_cidr"].prefixlen != 28:
        fail("master_cidr", "must be a /28 (GKE's control-plane peering range)")
    names = list(parsed)
    for a_index, a in enumerate(names):
        for b in names[a_index + 1 :]:
            if parsed[a].overlaps(parsed[b]):
                fail(b, f"{parsed[b]} overlaps {a} {parsed[a]}")
