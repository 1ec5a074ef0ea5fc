"""The one stack: provider, remote state, the constructs, and the outputs.

Outputs are consumed by the later phases (see infra/README.md, "Outputs"):
the chart's values-gke.yaml, the ArgoCD Application and the GitHub workflow.
"""

from __future__ import annotations

from cdktn import App, GcsBackend, ITerraformDependable, TerraformOutput, TerraformStack
from cdktn_provider_google.provider import GoogleProvider
from constructs import Construct

from .binary_authorization import BinaryAuthorization
from .cluster import Cluster, option_services
from .config import InfraConfig
from .github_wif import GithubFederation
from .monitoring import Monitoring
from .network import Network
from .outputs import REPOSITORY_VARIABLES
from .plan_identity import PlanIdentity
from .registry import Registry
from .secrets import SigningKeySecret
from .services import ProjectServices
from .signin import SERVICES as SIGNIN_SERVICES
from .signin import SignIn
from .workload_identity import AppIdentity


class McpStack(TerraformStack):
    """Everything phase 5 creates in one Google Cloud project."""

    def __init__(self, scope: Construct, id_: str, *, config: InfraConfig) -> None:
        super().__init__(scope, id_)
        cfg = config
        GoogleProvider(
            self,
            "google",
            project=cfg.project_id,
            region=cfg.region,
            zone=cfg.zone,
            # Every resource that takes labels gets these: cost reports group by them.
            default_labels=dict(cfg.labels),
        )
        # State in a versioned GCS bucket the learner created first (see the tutorial).
        GcsBackend(self, bucket=cfg.state_bucket, prefix=cfg.state_prefix)

        services = ProjectServices(
            self,
            "services",
            project_id=cfg.project_id,
            extra=(*option_services(cfg), *(SIGNIN_SERVICES if cfg.signin_host else ())),
        )
        apis: list[ITerraformDependable] = list(services.enabled)
        network = Network(self, "network", config=cfg, depends_on=apis)
        registry = Registry(self, "registry", config=cfg, depends_on=apis)
        secret = SigningKeySecret(self, "secret", config=cfg, depends_on=apis)
        cluster = Cluster(
            self, "gke", config=cfg, network=network, registry=registry, depends_on=apis
        )
        app_identity = AppIdentity(
            self,
            "app-identity",
            config=cfg,
            secret=secret,
            cluster=cluster.cluster,
            depends_on=apis,
        )
        github = GithubFederation(self, "github", config=cfg, registry=registry, depends_on=apis)
        monitoring = Monitoring(self, "monitoring", config=cfg, depends_on=apis)
        binauthz = BinaryAuthorization(
            self,
            "binauthz",
            config=cfg,
            signer_email=github.service_account.email,
            depends_on=apis,
        )
        plan = PlanIdentity(
            self, "infra-plan", config=cfg, attestation_key_id=binauthz.key.id, depends_on=apis
        )
        signin = (
            SignIn(
                self,
                "signin",
                config=cfg,
                network=network,
                app_service_account=app_identity.service_account,
                depends_on=apis,
            )
            if cfg.signin_host
            else None
        )

        outputs = {
            "project_id": (cfg.project_id, "values-gke.yaml projectID"),
            "region": (cfg.region, "the registry's host name"),
            "registry_url": (
                f"{cfg.region}-docker.pkg.dev/{cfg.project_id}/{registry.repository.repository_id}",
                "values-gke.yaml image.repository is this + /mcp-server",
            ),
            "wif_provider": (github.provider.name, "google-github-actions/auth"),
            "ci_service_account": (github.service_account.email, "the image workflow's identity"),
            "app_service_account": (
                app_identity.service_account.email,
                "values-gke.yaml: iam.gke.io/gcp-service-account annotation of the KSA",
            ),
            "node_service_account": (cluster.node_service_account.email, "for audits"),
            "cluster_name": (cluster.cluster.name, "gcloud container clusters get-credentials"),
            "cluster_location": (cluster.cluster.location, "get-credentials --location"),
            "secret_id": (secret.secret.secret_id, "mcp-key and the ExternalSecret"),
            "workload_identity_pool": (cfg.workload_pool, "the cluster's Workload Identity pool"),
            "dashboard_id": (monitoring.dashboard.id, "docs/operations.md: Read the dashboard"),
            "attestor": (binauthz.attestor_name, "the image workflow signs for it"),
            "attestation_key_version": (binauthz.key_version_name, "the attestation's KMS key"),
            "plan_wif_provider": (plan.provider.name, "infra.yml: google-github-actions/auth"),
            "plan_service_account": (plan.service_account.email, "infra.yml's read-only identity"),
        }
        if signin is not None:
            outputs |= {
                "signin_address": (
                    signin.address.address,
                    "the DNS A record of signin_host (docs/tutorial/10-sign-in.md)",
                ),
                "signin_redis_host": (signin.redis.host, "values: signin.redis.host"),
                "signin_redis_instance": (
                    signin.redis.name,
                    "gcloud redis instances get-auth-string / describe (into the secrets)",
                ),
            }
        variable = {output: name for name, output in REPOSITORY_VARIABLES.items()}
        for name, (value, used_by) in outputs.items():
            if name in variable:
                used_by = f"repository variable {variable[name]}; {used_by}"
            TerraformOutput(self, name, value=value, description=f"Used by: {used_by}")


def build_app(config: InfraConfig, outdir: str | None = None) -> tuple[App, McpStack]:
    """The CDK Terrain app with the one stack; call `app.synth()` to write cdktf.out."""
    app = App(outdir=outdir) if outdir else App()
    stack = McpStack(app, config.stack_name, config=config)
    return app, stack
