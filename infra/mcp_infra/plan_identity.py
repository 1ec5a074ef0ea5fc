"""The infra workflow's identity: read the project and the state to plan; change nothing.

`.github/workflows/infra.yml` synthesizes the stack and runs `terraform plan`
on every pull request and push that touches infra/. It signs in through its
own workload identity pool, which admits only that workflow of this
repository (by numeric ids), on main or in a pull request. The pool is apart
from the image pusher's (github_wif.py), whose provider admits main only, so
a pull request's token can never be exchanged for the pusher's account.

A plan refreshes every resource of the stack, so the account gets one
read-only role per kind of resource the stack manages. A module that adds a
new kind of resource adds its viewer role to PLAN_ROLES.
"""

from __future__ import annotations

from cdktn import ITerraformDependable
from cdktn_provider_google.kms_crypto_key_iam_member import KmsCryptoKeyIamMember
from cdktn_provider_google.storage_bucket_iam_member import StorageBucketIamMember
from constructs import Construct

from .config import InfraConfig
from .github_wif import github_identity
from .iam import grant_project_roles

WORKFLOW = ".github/workflows/infra.yml"

# Read-only, one role per kind of resource a plan refreshes (none can change anything).
PLAN_ROLES = (
    "roles/serviceusage.serviceUsageViewer",  # the enabled APIs
    "roles/compute.viewer",  # VPC, subnet, router, NAT, firewall
    "roles/container.clusterViewer",  # the cluster and its node pool (no Kubernetes objects)
    "roles/artifactregistry.reader",  # the repository's settings and cleanup policies
    "roles/secretmanager.viewer",  # the secret's metadata; never a version's value
    "roles/iam.serviceAccountViewer",  # the service accounts
    "roles/iam.workloadIdentityPoolViewer",  # the pools and providers
    "roles/monitoring.viewer",  # alert policies, channels, the dashboard, SLOs, uptime checks
    "roles/pubsub.viewer",  # the upgrade-notification topic (upgrade_notifications)
    "roles/redis.viewer",  # sign-in's Memorystore instance (signin_host)
    "roles/cloudkms.viewer",  # the key ring and key (not the public key: below)
    "roles/containeranalysis.notes.viewer",  # the attestor's note
    "roles/binaryauthorization.attestorsViewer",  # the attestor
    "roles/binaryauthorization.policyViewer",  # the policy
    # Every IAM policy the stack adds members to (project, service accounts, repository,
    # secret, key, note, attestor, state bucket): getIamPolicy only, and no data.
    "roles/iam.securityReviewer",
)
# The attestor's public key is read from the key version (a data source of the stack).
PLAN_ROLES_ON_KEY = ("roles/cloudkms.publicKeyViewer",)
# The state: read the objects; the plan runs with -lock=false, so it never writes a lock.
PLAN_ROLES_ON_STATE_BUCKET = ("roles/storage.objectViewer",)


def plan_attribute_condition(cfg: InfraConfig) -> str:
    """CEL admitting only the infra workflow of this repository, on main or a pull request.

    GitHub gives no OIDC token to a pull request from a fork, so a pull request here
    is one from a branch of this repository, by someone who may push to it.
    """
    repo = f"{cfg.github_owner}/{cfg.github_repository}"
    return (
        f"assertion.repository_id == '{cfg.github_repository_id}'"
        f" && assertion.repository_owner_id == '{cfg.github_owner_id}'"
        f" && (assertion.sub == '{cfg.github_subject}'"
        f" || assertion.sub == 'repo:{repo}:pull_request')"
        f" && assertion.job_workflow_ref.startsWith('{repo}/{WORKFLOW}@')"
    )


class PlanIdentity(Construct):
    """A pool, a provider and a read-only service account for `terraform plan` in CI."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: InfraConfig,
        attestation_key_id: str,
        depends_on: list[ITerraformDependable],
    ) -> None:
        super().__init__(scope, id_)
        cfg = config
        identity = github_identity(
            self,
            cfg,
            pool_id=cfg.plan_wif_pool_id,
            display_name="GitHub Actions: infra plan",
            description=f"{WORKFLOW} of {cfg.github_owner}/{cfg.github_repository} (read-only)",
            attribute_condition=plan_attribute_condition(cfg),
            account="plan-sa",
            account_id=cfg.plan_service_account_id,
            account_name="GitHub Actions: terraform plan of the mcp-prototype stack (read-only)",
            depends_on=depends_on,
        )
        self.pool, self.provider = identity.pool, identity.provider
        self.service_account = identity.service_account
        member = f"serviceAccount:{self.service_account.email}"
        grant_project_roles(self, "plan", project=cfg.project_id, roles=PLAN_ROLES, member=member)
        for role in PLAN_ROLES_ON_KEY:
            KmsCryptoKeyIamMember(
                self, "plan-key", crypto_key_id=attestation_key_id, role=role, member=member
            )
        for role in PLAN_ROLES_ON_STATE_BUCKET:
            StorageBucketIamMember(
                self, "plan-state", bucket=cfg.state_bucket, role=role, member=member
            )
