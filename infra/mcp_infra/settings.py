"""The settings of the Google Cloud stack: one pydantic model, each setting declared once.

A field holds the setting's type, default (none: required), description and
rules (rules.py, in its `Annotated` metadata); `examples` holds the placeholder
config.example.toml shows for a required setting (synth refuses it) and
`json_schema_extra["group"]` starts a new section of that example. Everything
else is derived from the model: `config.py` reads `infra/config.toml` into it,
and `settings_doc.py` renders config.example.toml and the settings table of
infra/README.md from its fields (a test fails when those files differ).

Like config.py, this module imports nothing from CDK Terrain.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from . import rules
from .rules import Invalid, rules_of


class AuthorizedNetwork(BaseModel):
    """One CIDR allowed to reach the GKE control plane (kubectl)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cidr: str
    name: str


GH_IDS = "gh api repos/OWNER/REPO --jq '.id, .owner.id'"
POSITIVE_GITHUB_ID = rules.positive(f"the positive numeric id GitHub assigned ({GH_IDS})")


class InfraConfig(BaseModel):
    """Everything the stack needs; built by `config.load_config` / `config.from_mapping`."""

    # strict: TOML has real types, so "3" for a number or 1 for true is a mistake to name.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    project_id: Annotated[str, rules.PROJECT_ID] = Field(
        description="Your Google Cloud project: `gcloud config get-value project`.",
        examples=["your-project-id"],
        json_schema_extra={"group": "Google Cloud project"},
    )
    region: Annotated[str, rules.REGION] = Field(
        default="us-central1", description="Region of the subnet, registry, secret and NAT."
    )
    zone: Annotated[str, rules.in_region()] = Field(
        default="us-central1-a", description="Zone of the (zonal) cluster and its nodes."
    )

    state_bucket: Annotated[str, rules.bucket_name()] = Field(
        description="The GCS bucket for Terraform state, created once by hand (see the tutorial, "
        '"Bootstrap the state bucket"). Suggested: `<project_id>-tfstate`.',
        examples=["your-state-bucket"],
        json_schema_extra={"group": "Terraform state"},
    )
    state_prefix: Annotated[str, rules.OBJECT_PATH] = Field(
        default="mcp-prototype/infra", description="Folder of the state objects in the bucket."
    )
    stack_name: Annotated[str, rules.DNS_LABEL] = Field(
        default="mcp-prototype",
        description="The stack's name: its folder is `infra/cdktf.out/stacks/<stack_name>`.",
    )

    github_owner: Annotated[str, rules.GITHUB_OWNER] = Field(
        description="The GitHub user or organization owning the repository whose Actions may push "
        "images (your fork).",
        examples=["your-github-user"],
        json_schema_extra={"group": "GitHub: the repository whose workflows push images"},
    )
    github_repository: Annotated[str, rules.GITHUB_REPOSITORY] = Field(
        description="That repository's name (the part after owner/).", examples=["your-repository"]
    )
    github_repository_id: Annotated[int, POSITIVE_GITHUB_ID] = Field(
        description=f"The repository's numeric id, which GitHub never reuses: `{GH_IDS}`.",
        examples=[0],
    )
    github_owner_id: Annotated[int, POSITIVE_GITHUB_ID] = Field(
        description="The owner's numeric id (the second number printed by the command above).",
        examples=[0],
    )
    github_branch: Annotated[str, rules.BRANCH] = Field(
        default="main", description="The only branch whose workflow runs may push images."
    )

    authorized_networks: Annotated[tuple[AuthorizedNetwork, ...], rules.authorized_networks()] = (
        Field(
            strict=False,
            description="Who may reach the cluster's control plane (kubectl): your public address "
            "as a /32, `curl -4 -s https://ifconfig.me` (IPv4: -4). Never 0.0.0.0/0.",
            examples=[[{"cidr": "203.0.113.10/32", "name": "my workstation"}]],
            json_schema_extra={"group": "Who may reach the control plane"},
        )
    )

    cluster_name: Annotated[str, rules.resource_name()] = Field(
        default="mcp-prototype",
        description="The GKE cluster.",
        json_schema_extra={"group": "Cluster"},
    )
    node_count: int = Field(default=3, ge=1, le=10, description="Nodes in the node pool.")
    machine_type: Annotated[str, rules.MACHINE_TYPE] = Field(
        default="e2-standard-2", description="Compute Engine machine type of the nodes."
    )
    disk_size_gb: int = Field(
        default=50, ge=20, le=500, description="Boot disk of each node, in GB."
    )
    release_channel: Literal["RAPID", "REGULAR", "STABLE"] = Field(
        default="REGULAR",
        description="GKE release channel: how soon the cluster gets new versions.",
    )
    deletion_protection: bool = Field(
        default=True,
        description="Refuse to destroy the cluster and the secret: set false, synth and apply "
        "before destroying.",
    )

    regional: bool = Field(
        default=False,
        description="Protects against a zone outage: the control plane and nodes spread over "
        "three zones of `region` (control plane SLA 99.95% instead of 99.5%). Costs: "
        "GKE's free tier covers one zonal cluster, so the management fee ($0.10 an "
        "hour, about $73 a month) is billed, and node_count and the autoscaling "
        "bounds count per zone: three times the nodes. false keeps the cluster in "
        "`zone`.",
        json_schema_extra={
            "group": "Cluster options (each off by default: what it costs, what it protects)"
        },
    )
    min_nodes: int = Field(
        default=1,
        ge=0,
        le=50,
        description="Autoscaling's lower bound (per zone when regional); used only when max_nodes "
        "is set.",
    )
    max_nodes: Annotated[int, rules.autoscaling_bounds()] = Field(
        default=0,
        description="Autoscaling's upper bound (per zone when regional); 0 keeps node_count "
        "nodes. Protects: pods that do not fit (a surge, an HPA scaling out, a lost "
        "node) get a new node within minutes. Costs: up to max_nodes VMs while they "
        "are needed.",
    )
    maintenance_exclusion_start: Annotated[str, rules.timestamp_or_empty()] = Field(
        default="",
        description="Start of a window in which GKE does not upgrade the cluster (a launch, a "
        "demo), RFC 3339 like 2026-12-24T00:00:00Z; empty for none. Costs nothing; "
        "security patches wait until it ends.",
    )
    maintenance_exclusion_end: Annotated[
        str,
        rules.timestamp_or_empty(
            after="maintenance_exclusion_start", with_setting="maintenance_exclusion_start"
        ),
    ] = Field(
        default="",
        description="End of that window (GKE allows at most 30 days for NO_UPGRADES; the other "
        "scopes up to the version's end of support).",
    )
    maintenance_exclusion_scope: Literal[
        "NO_UPGRADES", "NO_MINOR_UPGRADES", "NO_MINOR_OR_NODE_UPGRADES"
    ] = Field(
        default="NO_MINOR_UPGRADES",
        description="What the window holds back: NO_UPGRADES (everything, even patches), "
        "NO_MINOR_UPGRADES or NO_MINOR_OR_NODE_UPGRADES.",
    )
    upgrade_notifications: bool = Field(
        default=False,
        description="GKE publishes available and started upgrades and security bulletins to a "
        "Pub/Sub topic `<cluster_name>-upgrades` (subscribe to it to hear before "
        "nodes drain). Costs: a handful of messages a month, inside Pub/Sub's free 10 "
        "GiB.",
    )
    database_encryption: bool = Field(
        default=False,
        description="Encrypt Kubernetes Secrets in etcd with a Cloud KMS key of yours (key ring "
        "`<cluster_name>-secrets` in `region`, rotated every 90 days): revoking the "
        "key or reading its audit log is yours. Costs: $0.06 a month per key version "
        "(one more every rotation). Key rings can never be deleted: a destroyed stack "
        "leaves the ring.",
    )

    network_name: Annotated[str, rules.resource_name()] = Field(
        default="mcp-prototype",
        description="The VPC (its subnet, router and NAT are named after it).",
        json_schema_extra={"group": "Network"},
    )
    subnet_cidr: Annotated[str, rules.private_range()] = Field(
        default="10.10.0.0/20", description="The nodes' subnet."
    )
    pods_cidr: Annotated[str, rules.private_range("subnet_cidr")] = Field(
        default="10.20.0.0/14", description="Secondary range of the pods."
    )
    services_cidr: Annotated[str, rules.private_range("subnet_cidr", "pods_cidr")] = Field(
        default="10.24.0.0/20", description="Secondary range of the Services."
    )
    master_cidr: Annotated[
        str,
        rules.private_range(
            "subnet_cidr",
            "pods_cidr",
            "services_cidr",
            prefixlen=28,
            why="GKE's control-plane peering range",
        ),
    ] = Field(
        default="172.16.0.32/28", description="The control plane's range, peered into the VPC."
    )

    registry_id: Annotated[str, rules.resource_name()] = Field(
        default="mcp-prototype",
        description="The Artifact Registry Docker repository the pipeline pushes to.",
        json_schema_extra={"group": "Artifact Registry"},
    )
    registry_keep_versions: int = Field(
        default=10,
        ge=1,
        le=100,
        description="Most recent image versions the cleanup policy always keeps (for rollbacks).",
    )
    registry_untagged_days: int = Field(
        default=7, ge=1, le=365, description="Untagged images are deleted after this many days."
    )
    registry_tagged_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Tagged images beyond the most recent `registry_keep_versions` are deleted "
        "after this many days (a rollback target older than that is rebuilt by the "
        "pipeline).",
    )
    import_existing_registry: bool = Field(
        default=False,
        description="Adopt a repository made by hand in an earlier phase: Terraform imports it on "
        'the next apply instead of failing with "already exists".',
    )

    secret_id: Annotated[str, rules.SECRET_ID] = Field(
        default="mcp-jwt-signing-key",
        description="The Secret Manager secret holding the JWT signing key (never its value).",
        json_schema_extra={"group": "Signing key"},
    )
    signing_key_replication: Literal["user-managed", "automatic"] = Field(
        default="user-managed",
        description="user-managed keeps the key in `region` only. A secret made with a plain "
        "`gcloud secrets create` has automatic replication, which cannot change in "
        "place: set automatic to adopt one without replacing it.",
    )
    import_existing_secret: bool = Field(
        default=False,
        description="Adopt a secret made by hand in an earlier phase; its versions are not "
        "touched.",
    )

    k8s_namespace: Annotated[str, rules.DNS_LABEL] = Field(
        default="mcp-prototype",
        description="The app's Kubernetes namespace (Workload Identity binds its service account "
        "there).",
        json_schema_extra={"group": "Identities"},
    )
    k8s_service_account: Annotated[str, rules.DNS_LABEL] = Field(
        default="mcp-server",
        description="The chart's Kubernetes service account, the only one that may act as the "
        "app's Google service account.",
    )
    app_service_account_id: Annotated[str, rules.SERVICE_ACCOUNT_ID] = Field(
        default="mcp-server",
        description="The app's Google service account (reads the signing key only).",
    )
    ci_service_account_id: Annotated[str, rules.SERVICE_ACCOUNT_ID] = Field(
        default="mcp-ci-pusher",
        description="The pipeline's Google service account (pushes images only).",
    )
    node_service_account_id: Annotated[str, rules.SERVICE_ACCOUNT_ID] = Field(
        default="mcp-gke-nodes",
        description="The nodes' Google service account (logs, metrics, image pulls).",
    )
    wif_pool_id: Annotated[str, rules.resource_name(4, 32)] = Field(
        default="github-actions",
        description="Workload identity pool for GitHub Actions. A deleted pool keeps its id for "
        "30 days: pick another to re-apply sooner.",
    )
    wif_provider_id: Annotated[str, rules.resource_name(4, 32)] = Field(
        default="github", description="The pool's OIDC provider for GitHub."
    )

    kms_key_ring: Annotated[str, rules.KEY_RING] = Field(
        default="mcp-binauthz",
        description="The Cloud KMS key ring holding the key that signs the pipeline's "
        "attestations. Key rings and keys can never be deleted: after a teardown, "
        "pick a new name to apply again.",
        json_schema_extra={
            "group": "Binary Authorization and the pipeline's identities (phases 5 and 7)"
        },
    )
    binauthz_enforcement_mode: Literal["ENFORCED_BLOCK_AND_AUDIT_LOG", "DRYRUN_AUDIT_LOG_ONLY"] = (
        Field(
            default="ENFORCED_BLOCK_AND_AUDIT_LOG",
            description="What the cluster does with an image the pipeline did not attest: "
            "refuse it, or only log that it would (DRYRUN, for phase 6's hand-pushed image; "
            "see the tutorial).",
        )
    )
    plan_service_account_id: Annotated[str, rules.SERVICE_ACCOUNT_ID] = Field(
        default="mcp-infra-plan",
        description="The infra workflow's Google service account (reads the project to plan; "
        "changes nothing).",
    )
    plan_wif_pool_id: Annotated[str, rules.resource_name(4, 32)] = Field(
        default="github-plan",
        description="Workload identity pool of the infra workflow, apart from the image pusher's "
        "so a pull request can never reach the pusher. Deleted pools keep their id "
        "for 30 days.",
    )

    alert_email: Annotated[str, rules.email_or_empty()] = Field(
        default="",
        description="Where the alert policies (mcp_infra/monitoring.py) send e-mail: the on-call "
        "address, or several separated by commas (one channel each). Empty means no "
        "notification channel: alerts reach nobody (incidents only open in the "
        "console), and synth warns.",
        json_schema_extra={"group": "Alerts and labels"},
    )
    labels: Annotated[dict[str, str], rules.labels()] = Field(
        description="Labels on every resource that takes them: cost reports and GKE find "
        "resources by them.",
        default_factory=lambda: {"app": "mcp-server", "env": "prototype", "managed-by": "cdktn"},
    )

    signin_host: Annotated[str, rules.hostname_or_empty()] = Field(
        default="",
        description="The public host name of sign-in (phase 10), like mcp.example.com; empty "
        "leaves sign-in's Google Cloud parts out.",
        json_schema_extra={"group": "Sign-in (phase 10)"},
    )
    signin_redis_tier: Literal["BASIC", "STANDARD_HA"] = Field(
        default="BASIC",
        description="Memorystore tier of sign-in's store, 1 GB: BASIC (one node, about 36 USD a "
        "month in us-central1; a failure loses sign-ins in progress) or STANDARD_HA "
        "(a replica in another zone, about 47 USD a month). Google Cloud pricing "
        "page, checked 2026-12.",
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

    @model_validator(mode="after")
    def _check_rules(self) -> InfraConfig:
        """Placeholders first (an unedited example names its first one), then each
        setting's rules in declaration order, so a rule may rely on the settings declared
        above it (zone on region, the ranges on each other). Runs once pydantic has checked
        the types, choices and bounds.
        """
        fields = type(self).model_fields
        for name in fields:
            value = getattr(self, name)
            if isinstance(value, str) and value in PLACEHOLDERS:
                raise Invalid(f"is still the example value {value!r}: set your own", name)
        for i, net in enumerate(self.authorized_networks):
            if net.cidr in PLACEHOLDERS:
                raise Invalid(
                    f"is still the example value {net.cidr!r}: set the address you run kubectl "
                    "from (curl -4 -s https://ifconfig.me, then add /32)",
                    f"authorized_networks[{i}].cidr",
                )
        for name, field in fields.items():
            for rule in rules_of(field):
                try:
                    rule.check(getattr(self, name), self)
                except Invalid as exc:
                    raise Invalid(exc.message, exc.setting or name) from None
        return self


def _placeholders() -> frozenset[str]:
    found: set[str] = set()
    for field in InfraConfig.model_fields.values():
        for example in field.examples or ():
            if isinstance(example, str):
                found.add(example)
            elif isinstance(example, list):
                # 203.0.113.10/32 is TEST-NET-3 (RFC 5737): documentation only, never yours.
                found.update(str(item["cidr"]) for item in example)
    return frozenset(found)


# Values from config.example.toml that a learner must replace: synth refuses them.
PLACEHOLDERS = _placeholders()
