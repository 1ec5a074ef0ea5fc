"""The VPC: one subnet with secondary ranges for pods and services, and Cloud NAT."""

from __future__ import annotations

from cdktn import ITerraformDependable
from cdktn_provider_google.compute_firewall import ComputeFirewall, ComputeFirewallDeny
from cdktn_provider_google.compute_network import ComputeNetwork
from cdktn_provider_google.compute_router import ComputeRouter
from cdktn_provider_google.compute_router_nat import ComputeRouterNat, ComputeRouterNatSubnetwork
from cdktn_provider_google.compute_subnetwork import (
    ComputeSubnetwork,
    ComputeSubnetworkSecondaryIpRange,
)
from constructs import Construct

from .config import InfraConfig

PODS_RANGE = "pods"
SERVICES_RANGE = "services"


class Network(Construct):
    """A custom-mode VPC for the cluster; private nodes reach the internet only via NAT."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: InfraConfig,
        depends_on: list[ITerraformDependable],
    ) -> None:
        super().__init__(scope, id_)
        cfg = config
        self.vpc = ComputeNetwork(
            self,
            "vpc",
            name=cfg.network_name,
            # Custom mode: no auto-created subnets in every region, only the one we declare.
            # https://cloud.google.com/vpc/docs/vpc#auto-mode-considerations
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            depends_on=depends_on,
        )
        self.subnet = ComputeSubnetwork(
            self,
            "subnet",
            name=f"{cfg.network_name}-{cfg.region}",
            network=self.vpc.id,
            region=cfg.region,
            ip_cidr_range=cfg.subnet_cidr,
            # VPC-native cluster: pods and services get their own alias ranges.
            secondary_ip_range=[
                ComputeSubnetworkSecondaryIpRange(
                    range_name=PODS_RANGE, ip_cidr_range=cfg.pods_cidr
                ),
                ComputeSubnetworkSecondaryIpRange(
                    range_name=SERVICES_RANGE, ip_cidr_range=cfg.services_cidr
                ),
            ],
            # Private nodes reach Google APIs (Artifact Registry, Secret Manager) with no public IP.
            # https://cloud.google.com/vpc/docs/private-google-access
            private_ip_google_access=True,
            # A record of who talked to the nodes, for incident review.
            # https://cloud.google.com/vpc/docs/flow-logs
            log_config={
                "aggregation_interval": "INTERVAL_10_MIN",
                "flow_sampling": 0.5,
                "metadata": "INCLUDE_ALL_METADATA",
            },
        )
        # VPC's implied deny is not logged; this one is. GKE adds the narrow allow rules it
        # needs (control plane to kubelets) above it, at higher priority.
        # https://cloud.google.com/firewall/docs/firewalls#default_firewall_rules
        self.deny_ingress = ComputeFirewall(
            self,
            "deny-all-ingress",
            name=f"{cfg.network_name}-deny-all-ingress",
            network=self.vpc.id,
            direction="INGRESS",
            priority=65534,
            source_ranges=["0.0.0.0/0"],
            deny=[ComputeFirewallDeny(protocol="all")],
            log_config={"metadata": "INCLUDE_ALL_METADATA"},
        )
        self.router = ComputeRouter(
            self,
            "router",
            name=f"{cfg.network_name}-router",
            network=self.vpc.id,
            region=cfg.region,
        )
        self.nat = ComputeRouterNat(
            self,
            "nat",
            name=f"{cfg.network_name}-nat",
            router=self.router.name,
            region=cfg.region,
            # Private nodes pull public images (External Secrets, ArgoCD); nothing connects in.
            # https://cloud.google.com/nat/docs/overview
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
            subnetwork=[
                ComputeRouterNatSubnetwork(
                    name=self.subnet.id, source_ip_ranges_to_nat=["ALL_IP_RANGES"]
                )
            ],
            # Log NAT errors (port exhaustion, drops) without logging every connection.
            log_config={"enable": True, "filter": "ERRORS_ONLY"},
        )
