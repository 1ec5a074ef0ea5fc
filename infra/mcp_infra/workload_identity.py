"""Workload Identity for the app: a Google service account that may read one secret."""

from __future__ import annotations

from cdktn import ITerraformDependable
from cdktn_provider_google.secret_manager_secret_iam_member import SecretManagerSecretIamMember
from cdktn_provider_google.service_account import ServiceAccount
from cdktn_provider_google.service_account_iam_member import ServiceAccountIamMember
from constructs import Construct

from .config import InfraConfig
from .secrets import SigningKeySecret


class AppIdentity(Construct):
    """The app's GSA, bound to the chart's KSA `mcp-prototype/mcp-server`.

    External Secrets Operator reads the signing key as this KSA; nothing else in
    the cluster, and no other secret, is reachable through it.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: InfraConfig,
        secret: SigningKeySecret,
        cluster: ITerraformDependable,
        depends_on: list[ITerraformDependable],
    ) -> None:
        super().__init__(scope, id_)
        cfg = config
        self.service_account = ServiceAccount(
            self,
            "app-sa",
            project=cfg.project_id,
            account_id=cfg.app_service_account_id,
            display_name="MCP server (reads the JWT signing key only)",
            depends_on=depends_on,
        )
        # Accessor on this one secret, not on the project: other secrets stay out of reach.
        SecretManagerSecretIamMember(
            self,
            "secret-accessor",
            project=cfg.project_id,
            secret_id=secret.secret.secret_id,
            role="roles/secretmanager.secretAccessor",
            member=f"serviceAccount:{self.service_account.email}",
        )
        # Only the chart's KSA in its namespace may act as this GSA, not every pod.
        # https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#workload_identity
        ServiceAccountIamMember(
            self,
            "workload-identity-user",
            service_account_id=self.service_account.name,
            role="roles/iam.workloadIdentityUser",
            member=cfg.ksa_member,
            # The identity pool PROJECT.svc.id.goog exists once the cluster does.
            depends_on=[cluster],
        )
