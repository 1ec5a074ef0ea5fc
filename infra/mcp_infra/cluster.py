"""GKE Standard, zonal: the cluster, its node service account and its node pool.

Every security setting carries a one-line comment saying why, in the manner of
terraform-google-kubernetes-engine's `safer-cluster`.
"""

from __future__ import annotations

from typing import Any

from cdktn import ITerraformDependable
from cdktn_provider_google.artifact_registry_repository_iam_member import (
    ArtifactRegistryRepositoryIamMember,
)
from cdktn_provider_google.container_cluster import (
    ContainerCluster,
    ContainerClusterMasterAuthorizedNetworksConfigCidrBlocks,
)
from cdktn_provider_google.container_node_pool import ContainerNodePool
from cdktn_provider_google.project_iam_member import ProjectIamMember
from cdktn_provider_google.service_account import ServiceAccount
from constructs import Construct

from .config import InfraConfig
from .network import PODS_RANGE, SERVICES_RANGE, Network
from .registry import Registry

# The one predefined role Google recommends for a node service account: write logs
# and metrics, read its own resource metadata; nothing else in the project.
NODE_ROLES = ("roles/container.defaultNodeServiceAccount",)
NODE_TAG = "mcp-gke-node"
# GKE metric packages the alerts and the dashboard read (see monitoring.py).
MONITORING_COMPONENTS = ("SYSTEM_COMPONENTS", "POD", "DEPLOYMENT", "HPA")


def node_config(cfg: InfraConfig, service_account: str) -> dict[str, Any]:
    """The hardened node settings, shared by the node pool and the removed default pool."""
    return {
        "machine_type": cfg.machine_type,
        "disk_size_gb": cfg.disk_size_gb,
        "disk_type": "pd-balanced",
        # Container-Optimized OS: a minimal, read-only, auto-patched node image.
        "image_type": "COS_CONTAINERD",
        # A dedicated least-privilege account instead of the Compute default (Editor).
        "service_account": service_account,
        # Access is limited by the account's IAM roles, the way Google recommends.
        "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
        # Pods see the GKE metadata server, never the node's credentials.
        "workload_metadata_config": {"mode": "GKE_METADATA"},
        "shielded_instance_config": {
            # Only signed boot components run: no bootkits or rootkits.
            "enable_secure_boot": True,
            # Measured boot: a changed boot sequence is reported.
            "enable_integrity_monitoring": True,
        },
        # The legacy v0.1/v1beta1 metadata endpoints leak credentials more easily.
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
        for role in NODE_ROLES:
            ProjectIamMember(
                self,
                f"node-{role.rsplit('/', 1)[-1]}",
                project=cfg.project_id,
                role=role,
                member=node_member,
            )
        # Nodes pull the app image: read access to this one repository, not all of them.
        ArtifactRegistryRepositoryIamMember(
            self,
            "node-registry-reader",
            project=cfg.project_id,
            location=cfg.region,
            repository=registry.name,
            role="roles/artifactregistry.reader",
            member=node_member,
        )

        self.cluster = ContainerCluster(
            self,
            "cluster",
            name=cfg.cluster_name,
            project=cfg.project_id,
            # Zonal: one control plane, covered by GKE's free tier (the tutorial's shape).
            location=cfg.zone,
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
                # Nodes have internal IPs only: nothing on the internet reaches them.
                "enable_private_nodes": True,
                # The public endpoint stays, but only the authorized networks reach it.
                "enable_private_endpoint": False,
                "master_ipv4_cidr_block": cfg.master_cidr,
            },
            master_authorized_networks_config={
                # kubectl works only from the listed CIDRs.
                "cidr_blocks": [
                    ContainerClusterMasterAuthorizedNetworksConfigCidrBlocks(
                        cidr_block=net.cidr, display_name=net.name
                    )
                    for net in cfg.authorized_networks
                ],
                # Not from every Google Cloud IP, which includes other customers' VMs.
                "gcp_public_cidrs_access_enabled": False,
            },
            # Google patches the control plane and nodes on a tested cadence.
            release_channel={"channel": cfg.release_channel},
            # Dataplane V2 (eBPF/Cilium): enforces Kubernetes NetworkPolicy.
            datapath_provider="ADVANCED_DATAPATH",
            # The Calico add-on stays off: Dataplane V2 enforces NetworkPolicy itself.
            network_policy={"enabled": False},
            # Pods get Google credentials only through their Kubernetes service account.
            workload_identity_config={"workload_pool": cfg.workload_pool},
            # No client certificate: a long-lived admin credential nobody can revoke.
            master_auth={"client_certificate_config": {"issue_client_certificate": False}},
            # Legacy ABAC bypasses RBAC: off.
            enable_legacy_abac=False,
            # Shielded GKE nodes: nodes prove their identity before joining the cluster.
            enable_shielded_nodes=True,
            # Node-to-node pod traffic goes through the VPC, so flow logs see it.
            enable_intranode_visibility=True,
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
            maintenance_policy={"daily_maintenance_window": {"start_time": "03:00"}},
            # The removed default pool's settings differ from GKE's view of it afterwards;
            # ignoring them stops a perpetual diff that would recreate the cluster.
            lifecycle={"ignore_changes": ["node_config"]},
            depends_on=depends_on,
        )

        self.node_pool = ContainerNodePool(
            self,
            "nodes",
            name=f"{cfg.cluster_name}-nodes",
            project=cfg.project_id,
            location=cfg.zone,
            cluster=self.cluster.name,
            node_count=cfg.node_count,
            management={
                # Unhealthy nodes are recreated automatically.
                "auto_repair": True,
                # Nodes follow the control plane's patched version.
                "auto_upgrade": True,
            },
            # Upgrade one node at a time without taking one away first.
            upgrade_settings={"max_surge": 1, "max_unavailable": 0},
            node_config=node_config(cfg, self.node_service_account.email),
        )
