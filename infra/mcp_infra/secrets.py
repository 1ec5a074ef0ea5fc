"""Secret Manager: the container for the JWT signing key, never its value."""

from __future__ import annotations

from typing import Any

from cdktn import ITerraformDependable
from cdktn_provider_google.secret_manager_secret import (
    SecretManagerSecret,
    SecretManagerSecretReplicationUserManagedReplicas,
)
from constructs import Construct

from .config import InfraConfig


def replication(cfg: InfraConfig) -> dict[str, Any]:
    if cfg.signing_key_replication == "automatic":
        # Google picks the regions. Only for adopting a secret made with a plain
        # `gcloud secrets create`: replication cannot change without replacing it.
        return {"auto": {}}
    # Stored only in the cluster's region: the key stays where it is used.
    # https://cloud.google.com/secret-manager/docs/choosing-replication
    return {
        "user_managed": {
            "replicas": [SecretManagerSecretReplicationUserManagedReplicas(location=cfg.region)]
        }
    }


class SigningKeySecret(Construct):
    """The secret `mcp-jwt-signing-key` with no version.

    The key itself is added by `mcp-key create`, outside Terraform, so it
    is never in this code, the synthesized JSON or the Terraform state.
    """

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
        self.secret = SecretManagerSecret(
            self,
            "signing-key",
            project=cfg.project_id,
            secret_id=cfg.secret_id,
            labels=dict(cfg.labels),
            replication=replication(cfg),
            # Deleting the secret deletes every key version with it: Terraform refuses
            # until deletion_protection is turned off on purpose (see teardown).
            deletion_protection=cfg.deletion_protection,
            # A destroyed key version is only disabled for a day before it is gone, so a
            # mistaken `gcloud secrets versions destroy` can be undone (enable it) that day.
            # https://cloud.google.com/secret-manager/docs/delayed-destruction
            version_destroy_ttl=f"{86400}s",
            depends_on=depends_on,
        )
        if cfg.import_existing_secret:
            # Adopt a secret created by hand earlier; its versions are not touched.
            self.secret.import_from(f"projects/{cfg.project_id}/secrets/{cfg.secret_id}")
