"""The settings of the Google Cloud stack, each declared once, next to its name.

A declaration holds the setting's type, default (none: required), description
and rules (from rules.py). Everything else is derived from it: `config.py`
loads and validates `infra/config.toml` with these rules, and
`settings_doc.py` renders config.example.toml and the settings table of
infra/README.md (a test fails when those files differ from what it renders).

Like config.py, this module imports nothing from CDK Terrain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any

from . import rules
from .rules import Rule


@dataclass(frozen=True)
class AuthorizedNetwork:
    """One CIDR allowed to reach the GKE control plane (kubectl)."""

    cidr: str
    name: str


def setting(
    description: str,
    *checks: Rule,
    default: Any = MISSING,
    factory: Any = MISSING,
    example: Any = MISSING,
    group: str | None = None,
) -> Any:
    """Declare a setting: what it means, its default (none: required) and its rules.

    `example` is the placeholder config.example.toml shows for a required
    setting; synth refuses it. `group` starts a new section of the example.
    """
    metadata = {"description": description, "rules": checks, "example": example, "group": group}
    if factory is not MISSING:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


GH_IDS = "gh api repos/OWNER/REPO --jq '.id, .owner.id'"
POSITIVE_GITHUB_ID = rules.positive(f"the positive numeric id GitHub assigned ({GH_IDS})")


@dataclass(frozen=True, kw_only=True)
class InfraConfig:
    """Everything the stack needs; built by `load_config` / `from_mapping`."""

    project_id: str = setting(
        "Your Google Cloud project: `gcloud config get-value project`.",
        rules.matches(
            r"[a-z][a-z0-9-]{4,28}[a-z0-9]",
            "is not a valid Google Cloud project id (6-30 characters: lowercase letters, "
            "digits and hyphens, starting with a letter, not ending with a hyphen)",
            "6-30 of a-z, 0-9, '-'; no 'google'",
            forbid=lambda value: "google" in value,
        ),
        example="your-project-id",
        group="Google Cloud project",
    )
    region: str = setting(
        "Region of the subnet, registry, secret and NAT.",
        rules.matches(
            r"[a-z]+-[a-z]+[0-9]+",
            "is not a Google Cloud region (like us-central1)",
            "a region, like us-central1",
        ),
        default="us-central1",
    )
    zone: str = setting(
        "Zone of the (zonal) cluster and its nodes.", rules.in_region(), default="us-central1-a"
    )

    state_bucket: str = setting(
        "The GCS bucket for Terraform state, created once by hand (see the tutorial, "
        '"Bootstrap the state bucket"). Suggested: `<project_id>-tfstate`.',
        rules.bucket_name(),
        example="your-state-bucket",
        group="Terraform state",
    )
    state_prefix: str = setting(
        "Folder of the state objects in the bucket.",
        rules.matches(
            r"[A-Za-z0-9._/-]{1,200}",
            "must be a relative object path",
            "a relative object path",
            forbid=lambda value: value.startswith("/"),
        ),
        default="mcp-prototype/infra",
    )
    stack_name: str = setting(
        "The stack's name: its folder is `infra/cdktf.out/stacks/<stack_name>`.",
        rules.DNS_LABEL,
        default="mcp-prototype",
    )

    github_owner: str = setting(
        "The GitHub user or organization owning the repository whose Actions may push images "
        "(your fork).",
        rules.matches(
            # GitHub: 1-39 alphanumerics or single hyphens, not at either end.
            r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}",
            "is not a GitHub user or organization name",
            "a GitHub user or organization",
        ),
        example="your-github-user",
        group="GitHub: the repository whose workflows push images",
    )
    github_repository: str = setting(
        "That repository's name (the part after owner/).",
        rules.matches(
            r"[A-Za-z0-9._-]{1,100}",
            "is not a repository name (the part after owner/; letters, digits, '.', '-', '_')",
            "a repository name",
            forbid=lambda value: value in {".", ".."},
        ),
        example="your-repository",
    )
    github_repository_id: int = setting(
        f"The repository's numeric id, which GitHub never reuses: `{GH_IDS}`.",
        POSITIVE_GITHUB_ID,
        example=0,
    )
    github_owner_id: int = setting(
        "The owner's numeric id (the second number printed by the command above).",
        POSITIVE_GITHUB_ID,
        example=0,
    )
    github_branch: str = setting(
        "The only branch whose workflow runs may push images.",
        rules.matches(
            r"[A-Za-z0-9._/-]{1,200}",
            "is not a branch name (like main)",
            "a branch name, without refs/heads/",
            forbid=lambda value: ".." in value or value.startswith(("/", "refs/")),
        ),
        default="main",
    )

    authorized_networks: tuple[AuthorizedNetwork, ...] = setting(
        "Who may reach the cluster's control plane (kubectl): your public address as a /32, "
        "`curl -4 -s https://ifconfig.me` (IPv4: -4). Never 0.0.0.0/0.",
        rules.authorized_networks(),
        example=[{"cidr": "203.0.113.10/32", "name": "my workstation"}],
        group="Who may reach the control plane",
    )

    cluster_name: str = setting(
        "The GKE cluster.", rules.resource_name(), default="mcp-prototype", group="Cluster"
    )
    node_count: int = setting("Nodes in the node pool.", rules.between(1, 10), default=3)
    machine_type: str = setting(
        "Compute Engine machine type of the nodes.",
        rules.matches(
            r"[a-z0-9]+-[a-z0-9-]+",
            "is not a machine type (like e2-standard-2)",
            "a machine type, like e2-standard-2",
        ),
        default="e2-standard-2",
    )
    disk_size_gb: int = setting(
        "Boot disk of each node, in GB.", rules.between(20, 500), default=50
    )
    release_channel: str = setting(
        "GKE release channel: how soon the cluster gets new versions.",
        rules.one_of("RAPID", "REGULAR", "STABLE"),
        default="REGULAR",
    )
    deletion_protection: bool = setting(
        "Refuse to destroy the cluster and the secret: set false, synth and apply before "
        "destroying.",
        default=True,
    )
    regional: bool = setting(
        "Protects against a zone outage: the control plane and nodes spread over three zones "
        "of `region` (control plane SLA 99.95% instead of 99.5%). Costs: GKE's free tier "
        "covers one zonal cluster, so the management fee ($0.10 an hour, about $73 a month) "
        "is billed, and node_count and the autoscaling bounds count per zone: three times the "
        "nodes. false keeps the cluster in `zone`.",
        default=False,
        group="Cluster options (each off by default: what it costs, what it protects)",
    )
    min_nodes: int = setting(
        "Autoscaling's lower bound (per zone when regional); used only when max_nodes is set.",
        rules.between(0, 50),
        default=1,
    )
    max_nodes: int = setting(
        "Autoscaling's upper bound (per zone when regional); 0 keeps node_count nodes. "
        "Protects: pods that do not fit (a surge, an HPA scaling out, a lost node) get a new "
        "node within minutes. Costs: up to max_nodes VMs while they are needed.",
        rules.autoscaling_bounds(),
        default=0,
    )
    maintenance_exclusion_start: str = setting(
        "Start of a window in which GKE does not upgrade the cluster (a launch, a demo), "
        "RFC 3339 like 2026-12-24T00:00:00Z; empty for none. Costs nothing; security "
        "patches wait until it ends.",
        rules.timestamp_or_empty(),
        default="",
    )
    maintenance_exclusion_end: str = setting(
        "End of that window (GKE allows at most 30 days for NO_UPGRADES; the other scopes "
        "up to the version's end of support).",
        rules.timestamp_or_empty(
            after="maintenance_exclusion_start", with_setting="maintenance_exclusion_start"
        ),
        default="",
    )
    maintenance_exclusion_scope: str = setting(
        "What the window holds back: NO_UPGRADES (everything, even patches), "
        "NO_MINOR_UPGRADES or NO_MINOR_OR_NODE_UPGRADES.",
        rules.one_of("NO_UPGRADES", "NO_MINOR_UPGRADES", "NO_MINOR_OR_NODE_UPGRADES"),
        default="NO_MINOR_UPGRADES",
    )
    upgrade_notifications: bool = setting(
        "GKE publishes available and started upgrades and security bulletins to a Pub/Sub "
        "topic `<cluster_name>-upgrades` (subscribe to it to hear before nodes drain). "
        "Costs: a handful of messages a month, inside Pub/Sub's free 10 GiB.",
        default=False,
    )
    database_encryption: bool = setting(
        "Encrypt Kubernetes Secrets in etcd with a Cloud KMS key of yours (key ring "
        "`<cluster_name>-secrets` in `region`, rotated every 90 days): revoking the key or "
        "reading its audit log is yours. Costs: $0.06 a month per key version (one more "
        "every rotation). Key rings can never be deleted: a destroyed stack leaves the ring.",
        default=False,
    )

    network_name: str = setting(
        "The VPC (its subnet, router and NAT are named after it).",
        rules.resource_name(),
        default="mcp-prototype",
        group="Network",
    )
    subnet_cidr: str = setting("The nodes' subnet.", rules.private_range(), default="10.10.0.0/20")
    pods_cidr: str = setting(
        "Secondary range of the pods.", rules.private_range("subnet_cidr"), default="10.20.0.0/14"
    )
    services_cidr: str = setting(
        "Secondary range of the Services.",
        rules.private_range("subnet_cidr", "pods_cidr"),
        default="10.24.0.0/20",
    )
    master_cidr: str = setting(
        "The control plane's range, peered into the VPC.",
        rules.private_range(
            "subnet_cidr",
            "pods_cidr",
            "services_cidr",
            prefixlen=28,
            why="GKE's control-plane peering range",
        ),
        default="172.16.0.32/28",
    )

    registry_id: str = setting(
        "The Artifact Registry Docker repository the pipeline pushes to.",
        rules.resource_name(),
        default="mcp-prototype",
        group="Artifact Registry",
    )
    registry_keep_versions: int = setting(
        "Most recent image versions the cleanup policy always keeps (for rollbacks).",
        rules.between(1, 100),
        default=10,
    )
    registry_untagged_days: int = setting(
        "Untagged images are deleted after this many days.", rules.between(1, 365), default=7
    )
    registry_tagged_days: int = setting(
        "Tagged images beyond the most recent `registry_keep_versions` are deleted after this "
        "many days (a rollback target older than that is rebuilt by the pipeline).",
        rules.between(1, 3650),
        default=30,
    )
    import_existing_registry: bool = setting(
        "Adopt a repository made by hand in an earlier phase: Terraform imports it on the "
        'next apply instead of failing with "already exists".',
        default=False,
    )

    secret_id: str = setting(
        "The Secret Manager secret holding the JWT signing key (never its value).",
        rules.matches(
            r"[A-Za-z0-9_-]{1,255}",
            "is not a Secret Manager secret id",
            "1-255 of A-Z, a-z, 0-9, '_', '-'",
        ),
        default="mcp-jwt-signing-key",
        group="Signing key",
    )
    signing_key_replication: str = setting(
        "user-managed keeps the key in `region` only. A secret made with a plain "
        "`gcloud secrets create` has automatic replication, which cannot change in place: "
        "set automatic to adopt one without replacing it.",
        rules.one_of("user-managed", "automatic"),
        default="user-managed",
    )
    import_existing_secret: bool = setting(
        "Adopt a secret made by hand in an earlier phase; its versions are not touched.",
        default=False,
    )

    k8s_namespace: str = setting(
        "The app's Kubernetes namespace (Workload Identity binds its service account there).",
        rules.DNS_LABEL,
        default="mcp-prototype",
        group="Identities",
    )
    k8s_service_account: str = setting(
        "The chart's Kubernetes service account, the only one that may act as the app's "
        "Google service account.",
        rules.DNS_LABEL,
        default="mcp-server",
    )
    app_service_account_id: str = setting(
        "The app's Google service account (reads the signing key only).",
        rules.SERVICE_ACCOUNT_ID,
        default="mcp-server",
    )
    ci_service_account_id: str = setting(
        "The pipeline's Google service account (pushes images only).",
        rules.SERVICE_ACCOUNT_ID,
        default="mcp-ci-pusher",
    )
    node_service_account_id: str = setting(
        "The nodes' Google service account (logs, metrics, image pulls).",
        rules.SERVICE_ACCOUNT_ID,
        default="mcp-gke-nodes",
    )
    wif_pool_id: str = setting(
        "Workload identity pool for GitHub Actions. A deleted pool keeps its id for 30 days: "
        "pick another to re-apply sooner.",
        rules.resource_name(4, 32),
        default="github-actions",
    )
    wif_provider_id: str = setting(
        "The pool's OIDC provider for GitHub.", rules.resource_name(4, 32), default="github"
    )

    kms_key_ring: str = setting(
        "The Cloud KMS key ring holding the key that signs the pipeline's attestations. Key "
        "rings and keys can never be deleted: after a teardown, pick a new name to apply again.",
        rules.matches(
            r"[A-Za-z0-9_-]{1,63}",
            "is not a key ring name (1-63 of A-Z, a-z, 0-9, '_', '-')",
            "1-63 of A-Z, a-z, 0-9, '_', '-'",
        ),
        default="mcp-binauthz",
        group="Binary Authorization and the pipeline's identities (phases 5 and 7)",
    )
    binauthz_enforcement_mode: str = setting(
        "What the cluster does with an image the pipeline did not attest: refuse it, or only "
        "log that it would (DRYRUN, for phase 6's hand-pushed image; see the tutorial).",
        rules.one_of("ENFORCED_BLOCK_AND_AUDIT_LOG", "DRYRUN_AUDIT_LOG_ONLY"),
        default="ENFORCED_BLOCK_AND_AUDIT_LOG",
    )
    plan_service_account_id: str = setting(
        "The infra workflow's Google service account (reads the project to plan; changes nothing).",
        rules.SERVICE_ACCOUNT_ID,
        default="mcp-infra-plan",
    )
    plan_wif_pool_id: str = setting(
        "Workload identity pool of the infra workflow, apart from the image pusher's so a pull "
        "request can never reach the pusher. Deleted pools keep their id for 30 days.",
        rules.resource_name(4, 32),
        default="github-plan",
    )

    alert_email: str = setting(
        "Where the alert policies (mcp_infra/monitoring.py) send e-mail: the on-call "
        "address, or several separated by commas (one channel each). Empty means no "
        "notification channel: alerts reach nobody (incidents only open in the console), "
        "and synth warns.",
        rules.email_or_empty(),
        default="",
        group="Alerts and labels",
    )
    labels: Mapping[str, str] = setting(
        "Labels on every resource that takes them: cost reports and GKE find resources by them.",
        rules.labels(),
        factory=lambda: {"app": "mcp-server", "env": "prototype", "managed-by": "cdktn"},
    )

    signin_host: str = setting(
        "The public host name of sign-in (phase 10), like mcp.example.com; empty leaves "
        "sign-in's Google Cloud parts out.",
        rules.hostname_or_empty(),
        default="",
        group="Sign-in (phase 10)",
    )
    signin_redis_tier: str = setting(
        "Memorystore tier of sign-in's store, 1 GB: BASIC (one node, about 36 USD a month in "
        "us-central1; a failure loses sign-ins in progress) or STANDARD_HA (a replica in "
        "another zone, about 47 USD a month). Google Cloud pricing page, checked 2026-12.",
        rules.one_of("BASIC", "STANDARD_HA"),
        default="BASIC",
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


SETTINGS: tuple[Field[Any], ...] = fields(InfraConfig)


def is_required(spec: Field[Any]) -> bool:
    return spec.default is MISSING and spec.default_factory is MISSING


def default_of(spec: Field[Any]) -> Any:
    """A setting's default value (MISSING when it is required)."""
    if spec.default_factory is not MISSING:
        return spec.default_factory()
    return spec.default


def _placeholders() -> frozenset[str]:
    found: set[str] = set()
    for spec in SETTINGS:
        example = spec.metadata["example"]
        if isinstance(example, str):
            found.add(example)
        elif isinstance(example, list):
            # 203.0.113.10/32 is TEST-NET-3 (RFC 5737): documentation only, never your address.
            found.update(str(item["cidr"]) for item in example)
    return frozenset(found)


# Values from config.example.toml that a learner must replace: synth refuses them.
PLACEHOLDERS = _placeholders()
