"""The Google APIs the stack uses, enabled by Terraform so a plan shows them."""

from __future__ import annotations

from cdktn_provider_google.project_service import ProjectService
from constructs import Construct

# What each API is for; compute is needed too, for the VPC and the nodes.
SERVICES = (
    "compute.googleapis.com",  # VPC, subnet, router, NAT, node VMs
    "container.googleapis.com",  # GKE
    "artifactregistry.googleapis.com",  # the image repository
    "secretmanager.googleapis.com",  # the JWT signing key
    "iam.googleapis.com",  # service accounts and the workload identity pool
    "iamcredentials.googleapis.com",  # short-lived tokens for Workload Identity (Federation)
    "sts.googleapis.com",  # token exchange for GitHub's OIDC tokens
    "monitoring.googleapis.com",  # Managed Prometheus, the alert policies and the dashboard
    "binaryauthorization.googleapis.com",  # the admission policy and the pipeline's attestor
    "containeranalysis.googleapis.com",  # the attestor's note and the attestations on it
    "cloudkms.googleapis.com",  # the key that signs the attestations
)


class ProjectServices(Construct):
    """Enable each API; `self.enabled` is what the other constructs depend on."""

    def __init__(
        self, scope: Construct, id_: str, *, project_id: str, extra: tuple[str, ...] = ()
    ) -> None:
        super().__init__(scope, id_)
        self.enabled: list[ProjectService] = [
            ProjectService(
                self,
                service.split(".")[0],
                project=project_id,
                service=service,
                # Leave APIs on at destroy: turning one off breaks anything else in the
                # project that uses it, and re-enabling is slow.
                disable_on_destroy=False,
                disable_dependent_services=False,
            )
            # `extra`: the APIs of options that are on (cluster.option_services).
            for service in (*SERVICES, *extra)
        ]
