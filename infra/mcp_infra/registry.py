"""Artifact Registry: the Docker repository the pipeline pushes the image to."""

from __future__ import annotations

from cdktn import ITerraformDependable
from cdktn_provider_google.artifact_registry_repository import (
    ArtifactRegistryRepository,
    ArtifactRegistryRepositoryCleanupPolicies,
)
from constructs import Construct

from .config import InfraConfig


class Registry(Construct):
    """One Docker repository with cleanup policies, so storage does not grow forever."""

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
        self.repository = ArtifactRegistryRepository(
            self,
            "docker",
            project=cfg.project_id,
            location=cfg.region,
            repository_id=cfg.registry_id,
            format="DOCKER",
            description="Images of the Secure MCP Server (pushed by GitHub Actions only)",
            labels=dict(cfg.labels),
            # A tag, once pushed, always names the same image: ArgoCD deploys what was
            # reviewed, and a stolen CI token cannot swap the image behind a tag.
            # https://cloud.google.com/artifact-registry/docs/docker/immutable-image-tags
            docker_config={"immutable_tags": True},
            # Policies really delete (no dry run), so old images do not pile up.
            # https://cloud.google.com/artifact-registry/docs/repositories/cleanup-policy
            cleanup_policy_dry_run=False,
            cleanup_policies=[
                # Keep the most recent versions so a rollback is always possible.
                ArtifactRegistryRepositoryCleanupPolicies(
                    id="keep-recent",
                    action="KEEP",
                    most_recent_versions={"keep_count": cfg.registry_keep_versions},
                ),
                # Untagged layers left by re-pushes cost storage and serve no one.
                ArtifactRegistryRepositoryCleanupPolicies(
                    id="delete-old-untagged",
                    action="DELETE",
                    condition={
                        "tag_state": "UNTAGGED",
                        "older_than": f"{cfg.registry_untagged_days * 86400}s",
                    },
                ),
                # Tagged images beyond the kept ones go too, once they are old enough (KEEP
                # wins over DELETE, so the most recent versions stay whatever their age).
                ArtifactRegistryRepositoryCleanupPolicies(
                    id="delete-old-tagged",
                    action="DELETE",
                    condition={
                        "tag_state": "TAGGED",
                        "older_than": f"{cfg.registry_tagged_days * 86400}s",
                    },
                ),
            ],
            depends_on=depends_on,
        )
        if cfg.import_existing_registry:
            # Adopt a repository created by hand in an earlier phase instead of failing
            # with "already exists": Terraform imports it on the next apply.
            self.repository.import_from(
                f"projects/{cfg.project_id}/locations/{cfg.region}/repositories/{cfg.registry_id}"
            )

    @property
    def name(self) -> str:
        """The repository's resource name, for repository-scoped IAM bindings."""
        return self.repository.name
