"""GKE Standard, zonal: the cluster, its node service account and its node pool.

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
# https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#use_least_privilege_sa
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
        for role in NODE_ROLES:
            ProjectIamMember(
                self,
                f"node-{role.rsplit('/', 1)[-1]}",
                project=cfg.project_id,
                role=role,
                member=node_member,
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
