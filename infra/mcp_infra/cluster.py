"""GKE Standard, zonal by default: the cluster, its node service account and its node pool.

The options of infra/config.toml's "Cluster options" group (regional, node
autoscaling, a maintenance exclusion, upgrade notifications, Secrets encrypted
with a Cloud KMS key) are off by default: each costs money or attention, and
settings.py says what it costs and what it protects.

Every security setting carries a comment saying why and, on the next line, its
source, in the manner of terraform-google-kubernetes-engine's `safer-cluster`.
Most come from GKE's hardening guide, whose recommendations the CIS GKE
Benchmark checks:
https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster
https://cloud.google.com/kubernetes-engine/docs/concepts/cis-benchmarks
"""

from __future__ import annotations

from typing import Any

from cdktn import ITerraformDependable
from cdktn_provider_google.artifact_registry_repository_iam_member import (
    ArtifactRegistryRepositoryIamMember,
)
from cdktn_provider_google.container_cluster import (
    ContainerCluster,
    ContainerClusterMaintenancePolicyMaintenanceExclusion,
    ContainerClusterMasterAuthorizedNetworksConfigCidrBlocks,
)
from cdktn_provider_google.container_node_pool import ContainerNodePool
from cdktn_provider_google.data_google_project import DataGoogleProject
from cdktn_provider_google.kms_crypto_key import KmsCryptoKey
from cdktn_provider_google.kms_crypto_key_iam_member import KmsCryptoKeyIamMember
from cdktn_provider_google.kms_key_ring import KmsKeyRing
from cdktn_provider_google.pubsub_topic import PubsubTopic
from cdktn_provider_google.service_account import ServiceAccount
from constructs import Construct

from .config import InfraConfig
from .iam import grant_project_roles
from .network import PODS_RANGE, SERVICES_RANGE, Network
from .registry import Registry

# The one predefined role Google recommends for a node service account: write logs
# and metrics, read its own resource metadata; nothing else in the project.
# https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#use_least_privilege_sa
NODE_ROLES = ("roles/container.defaultNodeServiceAccount",)
NODE_TAG = "mcp-gke-node"
# GKE metric packages the alerts and the dashboard read (see monitoring.py).
MONITORING_COMPONENTS = ("SYSTEM_COMPONENTS", "POD", "DEPLOYMENT", "HPA")
# What GKE publishes to the upgrade topic.
# https://cloud.google.com/kubernetes-engine/docs/concepts/cluster-notifications
UPGRADE_EVENTS = ("UPGRADE_AVAILABLE_EVENT", "UPGRADE_EVENT", "SECURITY_BULLETIN_EVENT")
# A new key version every 90 days: what CIS and NIST SP 800-57 suggest for a data key.
KEY_ROTATION = f"{90 * 24 * 3600}s"
# The Google APIs the options need, enabled only with them (services.py enables the rest).
OPTION_SERVICES = {
    "database_encryption": "cloudkms.googleapis.com",
    "upgrade_notifications": "pubsub.googleapis.com",
}


def option_services(cfg: InfraConfig) -> tuple[str, ...]:
    return tuple(api for option, api in OPTION_SERVICES.items() if getattr(cfg, option))


def location(cfg: InfraConfig) -> str:
    """A region makes GKE regional (three zones); a zone makes it zonal."""
    return cfg.region if cfg.regional else cfg.zone


def maintenance_policy(cfg: InfraConfig) -> dict[str, Any]:
    policy: dict[str, Any] = {"daily_maintenance_window": {"start_time": "03:00"}}
    if cfg.maintenance_exclusion_start:
        # https://cloud.google.com/kubernetes-engine/docs/concepts/maintenance-windows-and-exclusions
        policy["maintenance_exclusion"] = [
            ContainerClusterMaintenancePolicyMaintenanceExclusion(
                exclusion_name="config-toml",
                start_time=cfg.maintenance_exclusion_start,
                end_time=cfg.maintenance_exclusion_end,
                exclusion_options={"scope": cfg.maintenance_exclusion_scope},
            )
        ]
    return policy


def node_config(cfg: InfraConfig, service_account: str) -> dict[str, Any]:
    """The hardened node settings, shared by the node pool and the removed default pool."""
    return {
        "machine_type": cfg.machine_type,
        "disk_size_gb": cfg.disk_size_gb,
        "disk_type": "pd-balanced",
        # A minimal, read-only root file system that Google patches: less to attack on a node.
        # https://cloud.google.com/kubernetes-engine/docs/concepts/node-images
        "image_type": "COS_CONTAINERD",
        # Not the Compute Engine default account, which holds Editor on the whole project.
        # https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#use_least_privilege_sa
        "service_account": service_account,
        # Scopes are a legacy second lock; the account's IAM roles are what limit access.
        # https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#use_least_privilege_sa
        "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
        # A pod that asks the metadata server for credentials gets its own, never the node's.
        # https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#workload_identity
        "workload_metadata_config": {"mode": "GKE_METADATA"},
        "shielded_instance_config": {
            # Unsigned boot components (bootkits, rootkits) refuse to load.
            # https://cloud.google.com/kubernetes-engine/docs/how-to/shielded-gke-nodes
            "enable_secure_boot": True,
            # A boot sequence that differs from the known-good baseline is reported.
            # https://cloud.google.com/kubernetes-engine/docs/how-to/shielded-gke-nodes
            "enable_integrity_monitoring": True,
        },
        # The v0.1/v1beta1 endpoints answer without the Metadata-Flavor header (SSRF-prone).
        # https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#protect_node_metadata_default_for_112
        "metadata": {"disable-legacy-endpoints": "true"},
        "labels": dict(cfg.labels),
        "resource_labels": dict(cfg.labels),
        "tags": [NODE_TAG],
    }


class Cluster(Construct):
    """The cluster with its default pool removed, and one separate, hardened pool."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: InfraConfig,
        network: Network,
        registry: Registry,
        depends_on: list[ITerraformDependable],
    ) -> None:
        super().__init__(scope, id_)
        cfg = config

        self.node_service_account = ServiceAccount(
            self,
            "node-sa",
            project=cfg.project_id,
            account_id=cfg.node_service_account_id,
            display_name="GKE nodes of the MCP prototype (logs, metrics, image pulls)",
            depends_on=depends_on,
        )
        node_member = f"serviceAccount:{self.node_service_account.email}"
        grant_project_roles(
            self, "node", project=cfg.project_id, roles=NODE_ROLES, member=node_member
        )
        # Nodes pull the app image: read access to this one repository, not all of them.
        # https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#use_least_privilege_sa
        ArtifactRegistryRepositoryIamMember(
            self,
            "node-registry-reader",
            project=cfg.project_id,
            location=cfg.region,
            repository=registry.name,
            role="roles/artifactregistry.reader",
            member=node_member,
        )

        cluster_options = self._options(cfg)
        self.cluster = ContainerCluster(
            self,
            "cluster",
            name=cfg.cluster_name,
            project=cfg.project_id,
            # Zonal (the default): one control plane, covered by GKE's free tier.
            # Regional: replicated over three zones, billed (see `regional` in settings.py).
            location=location(cfg),
            network=network.vpc.id,
            subnetwork=network.subnet.id,
            # Node pools are managed separately, so the default pool is removed at once.
            remove_default_node_pool=True,
            initial_node_count=1,
            # The transient default pool is hardened as well, in case it lingers.
            node_config=node_config(cfg, self.node_service_account.email),
            # terraform destroy must be a decision: flip this off first (see teardown).
            deletion_protection=cfg.deletion_protection,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy={
                "cluster_secondary_range_name": PODS_RANGE,
                "services_secondary_range_name": SERVICES_RANGE,
            },
            private_cluster_config={
                # Nodes have internal IPs only: nothing on the internet can connect to them.
                # https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#restrict_network_access_to_the_control_plane_and_nodes
                "enable_private_nodes": True,
                # Public endpoint kept (no VPN for a learner), reachable only as configured below.
                # https://cloud.google.com/kubernetes-engine/docs/how-to/authorized-networks
                "enable_private_endpoint": False,
                "master_ipv4_cidr_block": cfg.master_cidr,
            },
            master_authorized_networks_config={
                # The API server is reachable only from the learner's own addresses.
                # https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#restrict_network_access_to_the_control_plane_and_nodes
                "cidr_blocks": [
                    ContainerClusterMasterAuthorizedNetworksConfigCidrBlocks(
                        cidr_block=net.cidr, display_name=net.name
                    )
                    for net in cfg.authorized_networks
                ],
                # Google Cloud's public IPs include every other customer's VMs.
                # https://cloud.google.com/kubernetes-engine/docs/how-to/authorized-networks
                "gcp_public_cidrs_access_enabled": False,
            },
            # Security patches arrive without anyone having to remember to upgrade.
            # https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#upgrade_your_infrastructure_in_a_timely_fashion_default_2019-11-11
            release_channel={"channel": cfg.release_channel},
            # Enforces the chart's NetworkPolicy (eBPF), with no add-on to run and patch.
            # https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#restrict_with_network_policy
            datapath_provider="ADVANCED_DATAPATH",
            # Calico must stay off: Dataplane V2 enforces NetworkPolicy by itself.
            # https://cloud.google.com/kubernetes-engine/docs/concepts/dataplane-v2
            network_policy={"enabled": False},
            # Google credentials per Kubernetes service account, not one key for all pods.
            # https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#workload_identity
            workload_identity_config={"workload_pool": cfg.workload_pool},
            # A client certificate is a long-lived admin credential that cannot be revoked.
            # https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#restrict_authn_methods
            master_auth={"client_certificate_config": {"issue_client_certificate": False}},
            # ABAC grants would bypass RBAC, the only authorization this cluster should have.
            # https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#leave_abac_disabled_default_for_110
            enable_legacy_abac=False,
            # A node must prove its identity (vTPM) to join: a stolen bootstrap token is not enough.
            # https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#shielded_nodes
            enable_shielded_nodes=True,
            # Pod-to-pod traffic on one node goes through the VPC, so flow logs record it too.
            # https://cloud.google.com/kubernetes-engine/docs/how-to/intranode-visibility
            enable_intranode_visibility=True,
            # Only images the project's policy admits run (binary_authorization.py).
            binary_authorization={"evaluation_mode": "PROJECT_SINGLETON_POLICY_ENFORCE"},
            # Logs and metrics from system components and workloads, for audits.
            logging_service="logging.googleapis.com/kubernetes",
            monitoring_service="monitoring.googleapis.com/kubernetes",
            monitoring_config={
                # Managed Service for Prometheus collects what the chart's PodMonitoring
                # names; the alerts and dashboard (monitoring.py) query it with PromQL.
                "managed_prometheus": {"enabled": True},
                # System metrics (restart counts) plus GKE's managed kube state metrics
                # for pods, Deployments and HPAs (ready replicas): no exporter to install.
                "enable_components": list(MONITORING_COMPONENTS),
            },
            resource_labels=dict(cfg.labels),
            maintenance_policy=maintenance_policy(cfg),
            **cluster_options,
            # The removed default pool's settings differ from GKE's view of it afterwards;
            # ignoring them stops a perpetual diff that would recreate the cluster.
            lifecycle={"ignore_changes": ["node_config"]},
            depends_on=[*depends_on, *self.option_dependencies],
        )

        self.node_pool = ContainerNodePool(
            self,
            "nodes",
            name=f"{cfg.cluster_name}-nodes",
            project=cfg.project_id,
            location=location(cfg),
            cluster=self.cluster.name,
            **node_count(cfg),
            management={
                # A broken node is replaced without a human noticing it first.
                # https://cloud.google.com/kubernetes-engine/docs/how-to/node-auto-repair
                "auto_repair": True,
                # Nodes get the patched versions the release channel delivers.
                # https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#upgrade_your_infrastructure_in_a_timely_fashion_default_2019-11-11
                "auto_upgrade": True,
            },
            # Upgrade one node at a time without taking one away first.
            upgrade_settings={"max_surge": 1, "max_unavailable": 0},
            node_config=node_config(cfg, self.node_service_account.email),
        )

    def _options(self, cfg: InfraConfig) -> dict[str, Any]:
        """The cluster arguments (and their resources) of the options that are on."""
        options: dict[str, Any] = {}
        self.option_dependencies: list[ITerraformDependable] = []
        self.upgrade_topic: PubsubTopic | None = None
        if cfg.upgrade_notifications:
            self.upgrade_topic = PubsubTopic(
                self,
                "upgrade-topic",
                project=cfg.project_id,
                name=f"{cfg.cluster_name}-upgrades",
                labels=dict(cfg.labels),
            )
            options["notification_config"] = {
                "pubsub": {
                    "enabled": True,
                    "topic": self.upgrade_topic.id,
                    "filter": {"event_type": list(UPGRADE_EVENTS)},
                }
            }
        self.secrets_key: KmsCryptoKey | None = None
        if cfg.database_encryption:
            ring = KmsKeyRing(
                self,
                "secrets-key-ring",
                project=cfg.project_id,
                name=f"{cfg.cluster_name}-secrets",
                # The key must be in the cluster's region (a zonal cluster: its zone's region).
                location=cfg.region,
            )
            self.secrets_key = KmsCryptoKey(
                self,
                "secrets-key",
                name="etcd-secrets",
                key_ring=ring.id,
                purpose="ENCRYPT_DECRYPT",
                rotation_period=KEY_ROTATION,
                labels=dict(cfg.labels),
                # Destroying the key would make every Secret in etcd unreadable.
                lifecycle={"prevent_destroy": True},
            )
            project = DataGoogleProject(self, "project", project_id=cfg.project_id)
            # GKE's service agent encrypts and decrypts with this key, and nothing else.
            # https://cloud.google.com/kubernetes-engine/docs/how-to/encrypting-secrets
            grant = KmsCryptoKeyIamMember(
                self,
                "secrets-key-gke-agent",
                crypto_key_id=self.secrets_key.id,
                role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
                member=(
                    f"serviceAccount:service-{project.number}"
                    "@container-engine-robot.iam.gserviceaccount.com"
                ),
            )
            # The cluster is created encrypted: the grant must exist before it.
            self.option_dependencies.append(grant)
            # Secrets in etcd encrypted with a key the learner controls (envelope encryption).
            # https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#secret_management
            options["database_encryption"] = {
                "state": "ENCRYPTED",
                "key_name": self.secrets_key.id,
            }
        return options


def node_count(cfg: InfraConfig) -> dict[str, Any]:
    """A fixed node_count, or autoscaling between the bounds (per zone when regional)."""
    if not cfg.max_nodes:
        return {"node_count": cfg.node_count}
    return {
        "initial_node_count": cfg.node_count,
        # https://cloud.google.com/kubernetes-engine/docs/concepts/cluster-autoscaler
        "autoscaling": {"min_node_count": cfg.min_nodes, "max_node_count": cfg.max_nodes},
    }
