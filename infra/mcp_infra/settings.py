"""The settings of the Google Cloud stack: one pydantic model, each setting declared once.

A field holds the setting's type, default (none: required), rules and, in the
docstring under it, its description. A rule is a pydantic constraint (`text()`'s
pattern, `ge`/`le`, `Literal`) or a small validator beside the field; rules
across settings are in `_fit_together`. `json_schema_extra["allowed"]` words a
rule for the README's table and the error; `examples` holds the placeholder
config.example.toml shows for a required setting (synth refuses it). config.py
and settings_doc.py import nothing from CDK Terrain, and neither does this.
"""

from __future__ import annotations

import re
from datetime import datetime
from ipaddress import IPv4Network, ip_network
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)


def text(pattern: str, allowed: str) -> Any:
    """A string that is all `pattern` (ASCII: \\w is [A-Za-z0-9_]); else "is not <allowed>"."""
    return Field(pattern=rf"(?a)^(?:{pattern})\Z", json_schema_extra={"allowed": allowed})


def resource_name(low: int = 1, high: int = 40) -> Any:
    """GCP resource names (cluster, repository, network, pools): RFC 1035 labels."""
    return text(
        rf"(?=.{{{low},{high}}}\Z)[a-z](?:[a-z0-9-]*[a-z0-9])?",
        f"a name of {low}-{high} a-z, 0-9, '-', starting with a letter",
    )


SERVICE_ACCOUNT_ID = text(
    r"[a-z][a-z0-9-]{4,28}[a-z0-9]", "a service account id: 6-30 of a-z, 0-9, '-'"
)
DNS_LABEL = text(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", "a DNS label: 1-63 of a-z, 0-9, '-'")
# 203.0.113.0/24 is TEST-NET-3 (RFC 5737): documentation only, never anyone's address.
EXAMPLE_CIDR = "203.0.113.10/32"


def _network(value: str) -> IPv4Network:
    try:
        net = ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid CIDR ({exc})") from None
    if not isinstance(net, IPv4Network):
        raise ValueError(f"{value!r}: GKE takes IPv4 CIDRs only")
    return net


def _private(value: str) -> str:
    if not _network(value).is_private:
        raise ValueError(f"{value!r} must be a private (RFC 1918) IPv4 range")
    return value


def _narrow(value: str) -> str:
    """An allow-list entry: never the whole internet, nothing wider than /8."""
    if (prefix := _network(value).prefixlen) == 0:
        raise ValueError(f"{value!r} would open the control plane to the whole internet")
    if prefix < 8:
        raise ValueError(f"{value!r} is far too wide for an allow-list (use /8 or narrower)")
    return value


def _peering(value: str) -> str:
    if _network(value).prefixlen != 28:
        raise ValueError("must be a /28 (GKE's control-plane peering range)")
    return value


def _time_or_empty(value: str) -> str:
    try:
        if not value or datetime.fromisoformat(value).tzinfo is not None:
            return value
    except ValueError:
        pass
    raise ValueError(
        f"{value!r} is not an RFC 3339 time with its offset (like 2026-12-24T00:00:00Z)"
    )


def split_addresses(value: str) -> list[str]:
    return [address.strip() for address in value.split(",") if address.strip()]


def _addresses(value: str) -> str:
    # Plain addresses (no display names): one Monitoring e-mail channel each.
    for address in split_addresses(value):
        if not re.fullmatch(
            r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", address
        ):
            raise ValueError(
                f"{address!r} is not an e-mail address (like oncall@example.com; several "
                "separated by commas); leave it empty for no notification channel"
            )
    return value


def _labels(value: dict[str, str]) -> dict[str, str]:
    for key, item in value.items():
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,62}=[a-z0-9_-]{0,63}", f"{key}={item}"):
            raise ValueError(
                f"entry {key!r} = {item!r} is not a valid label (lowercase letters, "
                "digits, '_' and '-', key starting with a letter)"
            )
    return value


PrivateRange = Annotated[
    str,
    AfterValidator(_private),
    Field(json_schema_extra={"allowed": "private IPv4 CIDR; the four ranges are disjoint"}),
]


class Table(BaseModel):
    """A table of config.toml: typed as TOML is, no unknown keys, no example values."""

    # strict: TOML has real types, so "3" for a number or 1 for true is a mistake to name.
    # python-re: the name patterns use lookaheads (no 'google' in a project id, ...).
    # Descriptions are the docstrings under the fields.
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        regex_engine="python-re",
        use_attribute_docstrings=True,
    )

    @field_validator("*", mode="before")
    @classmethod
    def _not_the_example(cls, value: Any, info: ValidationInfo) -> Any:
        """Checked before the rules, so an unedited example names its first placeholder."""
        field = cls.model_fields[str(info.field_name)]
        if any(type(value) is type(ex) and value == ex for ex in field.examples or ()):
            raise ValueError(f"is still the example value {value!r}: {field.description}")
        return value


class AuthorizedNetwork(Table):
    """One CIDR allowed to reach the GKE control plane (kubectl)."""

    cidr: Annotated[str, AfterValidator(_narrow)] = Field(examples=[EXAMPLE_CIDR])
    """The address you run kubectl from: `curl -4 -s https://ifconfig.me`, then add /32."""
    name: str = Field(min_length=1, max_length=100)
    """Whose address it is."""


class InfraConfig(Table):
    """Everything the stack needs; built by `config.load_config` / `config.from_mapping`."""

    project_id: Annotated[
        str,
        text(
            r"(?!.*google)[a-z][a-z0-9-]{4,28}[a-z0-9]",
            "a Google Cloud project id: 6-30 of a-z, 0-9, '-', starting with a letter, no 'google'",
        ),
    ] = Field(examples=["your-project-id"])
    """Your Google Cloud project: `gcloud config get-value project`."""
    region: Annotated[
        str, text(r"[a-z]+-[a-z]+[0-9]+", "a Google Cloud region, like us-central1")
    ] = "us-central1"
    """Region of the subnet, registry, secret and NAT."""
    zone: str = Field(default="us-central1-a", json_schema_extra={"allowed": "a zone of `region`"})
    """Zone of the (zonal) cluster and its nodes."""

    state_bucket: Annotated[
        str,
        text(
            r"(?!goog)(?!.*google)[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]",
            "a Cloud Storage bucket name: 3-63 of a-z, 0-9, '-', '_' (no dots), not starting "
            "with 'goog' or containing 'google'",
        ),
    ] = Field(examples=["your-state-bucket"])
    """The GCS bucket for Terraform state, created once by hand (see the tutorial, "Bootstrap the
    state bucket"). Suggested: `<project_id>-tfstate`."""
    state_prefix: Annotated[str, text(r"[\w.-][\w./-]{0,199}", "a relative object path")] = (
        "mcp-prototype/infra"
    )
    """Folder of the state objects in the bucket."""
    stack_name: Annotated[str, DNS_LABEL] = "mcp-prototype"
    """The stack's name: its folder is `infra/cdktf.out/stacks/<stack_name>`."""

    github_owner: Annotated[
        # GitHub: 1-39 alphanumerics or single hyphens, not at either end.
        str,
        text(r"(?=.{1,39}\Z)[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*", "a GitHub user or organization name"),
    ] = Field(examples=["your-github-user"])
    """The GitHub user or organization owning the repository whose Actions may push images (your
    fork)."""
    github_repository: Annotated[
        str,
        text(
            r"(?!\.\.?\Z)[\w.-]{1,100}",
            "a repository name: 1-100 of letters, digits, '.', '-', '_'",
        ),
    ] = Field(examples=["your-repository"])
    """That repository's name (the part after owner/)."""
    github_repository_id: int = Field(gt=0, examples=[0])
    """The repository's numeric id, which GitHub never reuses: `gh api repos/OWNER/REPO --jq '.id,
    .owner.id'`."""
    github_owner_id: int = Field(gt=0, examples=[0])
    """The owner's numeric id (the second number printed by the command above)."""
    github_branch: Annotated[
        str,
        text(
            r"(?!/|refs/)(?!.*\.\.)[\w./-]{1,200}", "a branch name like main, without refs/heads/"
        ),
    ] = "main"
    """The only branch whose workflow runs may push images."""

    authorized_networks: list[AuthorizedNetwork] = Field(
        json_schema_extra={"allowed": "1 or more IPv4 CIDRs, /8 or narrower"},
        min_length=1,
        examples=[[{"cidr": EXAMPLE_CIDR, "name": "my workstation"}]],
    )
    """Who may reach the cluster's control plane (kubectl): your public address as a /32, `curl -4
    -s https://ifconfig.me` (IPv4: -4). Never 0.0.0.0/0."""

    cluster_name: Annotated[str, resource_name()] = "mcp-prototype"
    """The GKE cluster."""
    node_count: int = Field(default=3, ge=1, le=10)
    """Nodes in the node pool."""
    machine_type: Annotated[
        str, text(r"[a-z0-9]+-[a-z0-9-]+", "a machine type, like e2-standard-2")
    ] = "e2-standard-2"
    """Compute Engine machine type of the nodes."""
    disk_size_gb: int = Field(default=50, ge=20, le=500)
    """Boot disk of each node, in GB."""
    release_channel: Literal["RAPID", "REGULAR", "STABLE"] = "REGULAR"
    """GKE release channel: how soon the cluster gets new versions."""
    deletion_protection: bool = True
    """Refuse to destroy the cluster and the secret: set false, synth and apply before
    destroying."""

    regional: bool = False
    """Protects against a zone outage: the control plane and nodes spread over three zones of
    `region` (control plane SLA 99.95% instead of 99.5%). Costs: GKE's free tier covers one zonal
    cluster, so the management fee ($0.10 an hour, about $73 a month) is billed, and node_count and
    the autoscaling bounds count per zone: three times the nodes. false keeps the cluster in
    `zone`."""
    min_nodes: int = Field(default=1, ge=0, le=50)
    """Autoscaling's lower bound (per zone when regional); used only when max_nodes is set."""
    max_nodes: int = Field(
        default=0, json_schema_extra={"allowed": "0 (off), or node_count-50"}, ge=0, le=50
    )
    """Autoscaling's upper bound (per zone when regional); 0 keeps node_count nodes. Protects: pods
    that do not fit (a surge, an HPA scaling out, a lost node) get a new node within minutes. Costs:
    up to max_nodes VMs while they are needed."""
    maintenance_exclusion_start: Annotated[str, AfterValidator(_time_or_empty)] = Field(
        default="", json_schema_extra={"allowed": "an RFC 3339 time, or empty"}
    )
    """Start of a window in which GKE does not upgrade the cluster (a launch, a demo), RFC 3339 like
    2026-12-24T00:00:00Z; empty for none. Costs nothing; security patches wait until it ends."""
    maintenance_exclusion_end: Annotated[str, AfterValidator(_time_or_empty)] = Field(
        default="", json_schema_extra={"allowed": "an RFC 3339 time after the start, or empty"}
    )
    """End of that window (GKE allows at most 30 days for NO_UPGRADES; the other scopes up to the
    version's end of support)."""
    maintenance_exclusion_scope: Literal[
        "NO_UPGRADES", "NO_MINOR_UPGRADES", "NO_MINOR_OR_NODE_UPGRADES"
    ] = "NO_MINOR_UPGRADES"
    """What the window holds back: NO_UPGRADES (everything, even patches), NO_MINOR_UPGRADES or
    NO_MINOR_OR_NODE_UPGRADES."""
    upgrade_notifications: bool = False
    """GKE publishes available and started upgrades and security bulletins to a Pub/Sub topic
    `<cluster_name>-upgrades` (subscribe to it to hear before nodes drain). Costs: a handful of
    messages a month, inside Pub/Sub's free 10 GiB."""
    database_encryption: bool = False
    """Encrypt Kubernetes Secrets in etcd with a Cloud KMS key of yours (key ring
    `<cluster_name>-secrets` in `region`, rotated every 90 days): revoking the key or reading its
    audit log is yours. Costs: $0.06 a month per key version (one more every rotation). Key rings
    can never be deleted: a destroyed stack leaves the ring."""

    network_name: Annotated[str, resource_name()] = "mcp-prototype"
    """The VPC (its subnet, router and NAT are named after it)."""
    subnet_cidr: PrivateRange = "10.10.0.0/20"
    """The nodes' subnet."""
    pods_cidr: PrivateRange = "10.20.0.0/14"
    """Secondary range of the pods."""
    services_cidr: PrivateRange = "10.24.0.0/20"
    """Secondary range of the Services."""
    master_cidr: Annotated[PrivateRange, AfterValidator(_peering)] = Field(
        default="172.16.0.32/28",
        json_schema_extra={"allowed": "private IPv4 CIDR, /28; the four ranges are disjoint"},
    )
    """The control plane's range, peered into the VPC."""

    registry_id: Annotated[str, resource_name()] = "mcp-prototype"
    """The Artifact Registry Docker repository the pipeline pushes to."""
    registry_keep_versions: int = Field(default=10, ge=1, le=100)
    """Most recent image versions the cleanup policy always keeps (for rollbacks)."""
    registry_untagged_days: int = Field(default=7, ge=1, le=365)
    """Untagged images are deleted after this many days."""
    registry_tagged_days: int = Field(default=30, ge=1, le=3650)
    """Tagged images beyond the most recent `registry_keep_versions` are deleted after this many
    days (a rollback target older than that is rebuilt by the pipeline)."""
    import_existing_registry: bool = False
    """Adopt a repository made by hand in an earlier phase: Terraform imports it on the next apply
    instead of failing with "already exists"."""

    secret_id: Annotated[
        str, text(r"[\w-]{1,255}", "a secret id: 1-255 of A-Z, a-z, 0-9, '_', '-'")
    ] = "mcp-jwt-signing-key"  # noqa: S105 (the secret's name, not its value)
    """The Secret Manager secret holding the JWT signing key (never its value)."""
    signing_key_replication: Literal["user-managed", "automatic"] = "user-managed"
    """user-managed keeps the key in `region` only. A secret made with a plain `gcloud secrets
    create` has automatic replication, which cannot change in place: set automatic to adopt one
    without replacing it."""
    import_existing_secret: bool = False
    """Adopt a secret made by hand in an earlier phase; its versions are not touched."""

    k8s_namespace: Annotated[str, DNS_LABEL] = "mcp-prototype"
    """The app's Kubernetes namespace (Workload Identity binds its service account there)."""
    k8s_service_account: Annotated[str, DNS_LABEL] = "mcp-server"
    """The chart's Kubernetes service account, the only one that may act as the app's Google service
    account."""
    app_service_account_id: Annotated[str, SERVICE_ACCOUNT_ID] = "mcp-server"
    """The app's Google service account (reads the signing key only)."""
    ci_service_account_id: Annotated[str, SERVICE_ACCOUNT_ID] = "mcp-ci-pusher"
    """The pipeline's Google service account (pushes images only)."""
    node_service_account_id: Annotated[str, SERVICE_ACCOUNT_ID] = "mcp-gke-nodes"
    """The nodes' Google service account (logs, metrics, image pulls)."""
    wif_pool_id: Annotated[str, resource_name(4, 32)] = "github-actions"
    """Workload identity pool for GitHub Actions. A deleted pool keeps its id for 30 days: pick
    another to re-apply sooner."""
    wif_provider_id: Annotated[str, resource_name(4, 32)] = "github"
    """The pool's OIDC provider for GitHub."""

    kms_key_ring: Annotated[
        str, text(r"[\w-]{1,63}", "a key ring name: 1-63 of A-Z, a-z, 0-9, '_', '-'")
    ] = "mcp-binauthz"
    """The Cloud KMS key ring holding the key that signs the pipeline's attestations. Key rings and
    keys can never be deleted: after a teardown, pick a new name to apply again."""
    binauthz_enforcement_mode: Literal["ENFORCED_BLOCK_AND_AUDIT_LOG", "DRYRUN_AUDIT_LOG_ONLY"] = (
        "ENFORCED_BLOCK_AND_AUDIT_LOG"
    )
    """What the cluster does with an image the pipeline did not attest: refuse it, or only log that
    it would (DRYRUN, for phase 6's hand-pushed image; see the tutorial)."""
    plan_service_account_id: Annotated[str, SERVICE_ACCOUNT_ID] = "mcp-infra-plan"
    """The infra workflow's Google service account (reads the project to plan; changes nothing)."""
    plan_wif_pool_id: Annotated[str, resource_name(4, 32)] = "github-plan"
    """Workload identity pool of the infra workflow, apart from the image pusher's so a pull request
    can never reach the pusher. Deleted pools keep their id for 30 days."""

    alert_email: Annotated[str, AfterValidator(_addresses)] = Field(
        default="", json_schema_extra={"allowed": "addresses separated by commas, or empty"}
    )
    """Where the alert policies (mcp_infra/monitoring.py) send e-mail: the on-call address, or
    several separated by commas (one channel each). Empty means no notification channel: alerts
    reach nobody (incidents only open in the console), and synth warns."""
    labels: Annotated[dict[str, str], AfterValidator(_labels)] = Field(
        json_schema_extra={"allowed": "at least one; a-z, 0-9, '_', '-'"},
        min_length=1,
        default_factory=lambda: {"app": "mcp-server", "env": "prototype", "managed-by": "cdktn"},
    )
    """Labels on every resource that takes them: cost reports and GKE find resources by them."""

    signin_host: Annotated[
        str,
        # A DNS name of at least two labels, as a certificate and an Ingress rule take it.
        text(
            r"(?=.{0,253}\Z)(?:(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})?",
            "a host name like mcp.example.com (no scheme, port or path), or empty to leave "
            "sign-in out",
        ),
    ] = ""
    """The public host name of sign-in (phase 10), like mcp.example.com; empty leaves sign-in's
    Google Cloud parts out."""
    signin_redis_tier: Literal["BASIC", "STANDARD_HA"] = "BASIC"
    """Memorystore tier of sign-in's store, 1 GB: BASIC (one node, about 36 USD a month in
    us-central1; a failure loses sign-ins in progress) or STANDARD_HA (a replica in another zone,
    about 47 USD a month). Google Cloud pricing page, checked 2026-12."""

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
    def _fit_together(self) -> Self:
        """The rules across settings, once each setting has passed its own."""
        if not re.fullmatch(rf"{re.escape(self.region)}-[a-z]", self.zone):
            raise ValueError(
                f"zone {self.zone!r} is not in region {self.region!r} (like {self.region}-a)"
            )
        ranges = ("subnet_cidr", "pods_cidr", "services_cidr", "master_cidr")
        for i, name in enumerate(ranges):
            for other in ranges[:i]:
                net, earlier = _network(getattr(self, name)), _network(getattr(self, other))
                if net.overlaps(earlier):
                    raise ValueError(f"{name} {net} overlaps {other} {earlier}")
        if self.max_nodes and not self.min_nodes <= self.node_count <= self.max_nodes:
            raise ValueError(
                f"max_nodes must be 0 (no autoscaling) or at least node_count ({self.node_count}), "
                f"which must be at least min_nodes ({self.min_nodes}); got {self.max_nodes}"
            )
        start, end = self.maintenance_exclusion_start, self.maintenance_exclusion_end
        if bool(start) != bool(end):
            raise ValueError(
                "maintenance_exclusion_end and maintenance_exclusion_start must be set together "
                "(or both left empty)"
            )
        if start and datetime.fromisoformat(end) <= datetime.fromisoformat(start):
            raise ValueError(
                f"maintenance_exclusion_end {end!r} must be later than "
                f"maintenance_exclusion_start {start!r}"
            )
        return self


# A description is one line of the README's table and of an error: join the docstring's lines.
for _field in (*InfraConfig.model_fields.values(), *AuthorizedNetwork.model_fields.values()):
    _field.description = " ".join((_field.description or "").split())
