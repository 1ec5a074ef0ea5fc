"""Workload Identity Federation for GitHub Actions: keyless, one repository, one branch."""

from __future__ import annotations

from dataclasses import dataclass

from cdktn import ITerraformDependable
from cdktn_provider_google.artifact_registry_repository_iam_member import (
    ArtifactRegistryRepositoryIamMember,
)
from cdktn_provider_google.iam_workload_identity_pool import IamWorkloadIdentityPool
from cdktn_provider_google.iam_workload_identity_pool_provider import (
    IamWorkloadIdentityPoolProvider,
)
from cdktn_provider_google.service_account import ServiceAccount
from cdktn_provider_google.service_account_iam_member import ServiceAccountIamMember
from constructs import Construct

from .config import InfraConfig
from .registry import Registry

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"

# Claims of GitHub's OIDC token copied into Google attributes (for conditions and
# principalSet members, and so audit logs show which run acted).
ATTRIBUTE_MAPPING = {
    "google.subject": "assertion.sub",
    "attribute.repository": "assertion.repository",
    "attribute.repository_id": "assertion.repository_id",
    "attribute.repository_owner_id": "assertion.repository_owner_id",
    "attribute.ref": "assertion.ref",
    "attribute.actor": "assertion.actor",
}


@dataclass(frozen=True)
class GithubIdentity:
    """A pool, its GitHub OIDC provider, and the service account the pool may act as."""

    pool: IamWorkloadIdentityPool
    provider: IamWorkloadIdentityPoolProvider
    service_account: ServiceAccount


def github_identity(
    scope: Construct,
    cfg: InfraConfig,
    *,
    pool_id: str,
    display_name: str,
    description: str,
    attribute_condition: str,
    account: str,
    account_id: str,
    account_name: str,
    depends_on: list[ITerraformDependable],
) -> GithubIdentity:
    """A workload identity pool with one GitHub OIDC provider admitting what the condition
    says, and a service account (construct id `account`) that only the pool's identities
    from this repository (by id) may impersonate."""
    pool = IamWorkloadIdentityPool(
        scope,
        "pool",
        project=cfg.project_id,
        workload_identity_pool_id=pool_id,
        display_name=display_name,
        description=description,
        depends_on=depends_on,
    )
    provider = IamWorkloadIdentityPoolProvider(
        scope,
        "provider",
        project=cfg.project_id,
        workload_identity_pool_id=pool.workload_identity_pool_id,
        workload_identity_pool_provider_id=cfg.wif_provider_id,
        display_name="GitHub OIDC",
        attribute_mapping=ATTRIBUTE_MAPPING,
        # Without a condition any GitHub repository could exchange tokens here; numeric ids,
        # unlike names, are never reused after a rename or deletion.
        # https://cloud.google.com/iam/docs/best-practices-for-using-workload-identity-federation
        attribute_condition=attribute_condition,
        oidc={"issuer_uri": GITHUB_ISSUER},
    )
    service_account = ServiceAccount(
        scope,
        account,
        project=cfg.project_id,
        account_id=account_id,
        display_name=account_name,
        depends_on=depends_on,
    )
    # Only identities from this repository (by id) may impersonate the account; the
    # pool's condition narrows them further (branch, workflow).
    # https://cloud.google.com/iam/docs/workload-identity-federation#conditions
    ServiceAccountIamMember(
        scope,
        "wif-user",
        service_account_id=service_account.name,
        role="roles/iam.workloadIdentityUser",
        member=(
            f"principalSet://iam.googleapis.com/{pool.name}"
            f"/attribute.repository_id/{cfg.github_repository_id}"
        ),
    )
    return GithubIdentity(pool, provider, service_account)


class GithubFederation(Construct):
    """A pool and an OIDC provider that admit only the configured repository's branch.

    The CI service account may push to the one Artifact Registry repository and do
    nothing else; GitHub never holds a service-account key.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: InfraConfig,
        registry: Registry,
        depends_on: list[ITerraformDependable],
    ) -> None:
        super().__init__(scope, id_)
        cfg = config
        identity = github_identity(
            self,
            cfg,
            pool_id=cfg.wif_pool_id,
            display_name="GitHub Actions",
            description=f"CI of {cfg.github_owner}/{cfg.github_repository}",
            attribute_condition=cfg.wif_attribute_condition,
            account="ci-sa",
            account_id=cfg.ci_service_account_id,
            account_name="GitHub Actions: push images to the mcp-prototype repository only",
            depends_on=depends_on,
        )
        self.pool, self.provider = identity.pool, identity.provider
        self.service_account = identity.service_account
        # Writer on this one repository: the pipeline can push images and nothing more.
        ArtifactRegistryRepositoryIamMember(
            self,
            "registry-writer",
            project=cfg.project_id,
            location=cfg.region,
            repository=registry.name,
            role="roles/artifactregistry.writer",
            member=f"serviceAccount:{self.service_account.email}",
        )
