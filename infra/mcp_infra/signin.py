"""Sign-in's Google Cloud parts (phase 10), present only when `signin_host` is set.

Memorystore holds the OAuth proxy's state shared by the replicas; the global
address, the Google-managed certificate, the SSL policy and the Cloud Armor
policy are what the chart's Ingress, FrontendConfig and BackendConfig name.
Three Secret Manager secrets are created without a version: the learner adds
the OAuth client secret, Memorystore's AUTH string and its server CA with
gcloud (docs/tutorial/10-sign-in.md), so no value ever enters the Terraform
state, although Memorystore exposes the last two as attributes.
"""

from __future__ import annotations

from cdktn import ITerraformDependable
from cdktn_provider_google.compute_global_address import ComputeGlobalAddress
from cdktn_provider_google.compute_managed_ssl_certificate import ComputeManagedSslCertificate
from cdktn_provider_google.compute_security_policy import (
    ComputeSecurityPolicy,
    ComputeSecurityPolicyRule,
    ComputeSecurityPolicyRuleMatch,
    ComputeSecurityPolicyRuleMatchConfig,
    ComputeSecurityPolicyRuleMatchExpr,
    ComputeSecurityPolicyRuleRateLimitOptions,
    ComputeSecurityPolicyRuleRateLimitOptionsRateLimitThreshold,
)
from cdktn_provider_google.compute_ssl_policy import ComputeSslPolicy
from cdktn_provider_google.redis_instance import RedisInstance
from cdktn_provider_google.secret_manager_secret import SecretManagerSecret
from cdktn_provider_google.secret_manager_secret_iam_member import SecretManagerSecretIamMember
from cdktn_provider_google.service_account import ServiceAccount
from constructs import Construct

from . import signin_names as names
from .config import InfraConfig
from .network import Network
from .secrets import replication

SERVICES = ("redis.googleapis.com",)  # Memorystore; compute (address, policies) is on already

# Requests per minute one client address may send to the OAuth endpoints. A
# sign-in is about six requests (authorize, consent twice, callback, token,
# and a registration the first time); 60 leaves room for a few retries and an
# office behind one NAT address, and stops scripted registration floods and
# code guessing long before they cost anything.
OAUTH_REQUESTS_PER_MINUTE = 60
LAST_RULE = 2147483647  # Cloud Armor's default rule has the lowest priority


def oauth_paths_expression() -> str:
    alternatives = "|".join(path.lstrip("/") for path in names.OAUTH_PATHS)
    return f"request.path.matches('^/({alternatives})$')"


class SignIn(Construct):
    """Memorystore, address, certificate, SSL and Cloud Armor policies, secrets, grants."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: InfraConfig,
        network: Network,
        app_service_account: ServiceAccount,
        depends_on: list[ITerraformDependable],
    ) -> None:
        super().__init__(scope, id_)
        cfg = config
        self.redis = RedisInstance(
            self,
            "redis",
            name=names.NAME,
            display_name="MCP sign-in state (OAuth proxy)",
            region=cfg.region,
            # The cluster's zone: no cross-zone hop for a basic instance.
            location_id=cfg.zone,
            tier=cfg.signin_redis_tier,
            memory_size_gb=1,
            redis_version="REDIS_7_2",
            # The cluster's own VPC, not `default` (which many projects lack).
            # Direct peering, Memorystore for Redis' default: peered routes carry
            # the subnet's secondary ranges, so VPC-native pods reach it.
            authorized_network=network.vpc.id,
            connect_mode="DIRECT_PEERING",
            # Clients must present the AUTH string: network reach alone is not
            # enough to replay or overwrite stored sign-in state.
            auth_enabled=True,
            # TLS on port 6378, the server verified against Memorystore's CA.
            transit_encryption_mode="SERVER_AUTHENTICATION",
            # It holds sign-ins in progress and issued tokens only, which a new
            # sign-in recreates: removing sign-in (signin_host = "") must not stop
            # at a protection flag and leave it billed.
            deletion_protection=False,
            depends_on=depends_on,
        )
        self.address = ComputeGlobalAddress(
            self,
            "address",
            name=names.NAME,
            description=f"The Ingress of {cfg.signin_host}",
            address_type="EXTERNAL",
            ip_version="IPV4",
            depends_on=depends_on,
        )
        # Terraform's certificate, not the chart's ManagedCertificate: it starts
        # provisioning at apply, while DNS propagates and before ArgoCD syncs, and
        # an Ingress that ArgoCD prunes or re-creates never takes the certificate
        # with it (re-issuing counts against the CA's limits). The Ingress names it
        # with ingress.gcp.kubernetes.io/pre-shared-cert.
        self.certificate = ComputeManagedSslCertificate(
            self,
            "certificate",
            name=names.NAME,
            managed={"domains": [cfg.signin_host]},
            depends_on=depends_on,
        )
        # TLS 1.2 or newer with forward-secret AEAD ciphers only (the load
        # balancer's default still accepts TLS 1.0).
        self.ssl_policy = ComputeSslPolicy(
            self,
            "ssl-policy",
            name=names.NAME,
            profile="MODERN",
            min_tls_version="TLS_1_2",
            depends_on=depends_on,
        )
        self.security_policy = ComputeSecurityPolicy(
            self,
            "security-policy",
            name=names.NAME,
            description="MCP sign-in: per-client rate limit on the OAuth endpoints",
            rule=[
                ComputeSecurityPolicyRule(
                    priority=1000,
                    description=(
                        f"At most {OAUTH_REQUESTS_PER_MINUTE} OAuth requests a minute "
                        "per client address; more get 429"
                    ),
                    action="throttle",
                    match=ComputeSecurityPolicyRuleMatch(
                        expr=ComputeSecurityPolicyRuleMatchExpr(expression=oauth_paths_expression())
                    ),
                    rate_limit_options=ComputeSecurityPolicyRuleRateLimitOptions(
                        conform_action="allow",
                        exceed_action="deny(429)",
                        enforce_on_key="IP",
                        rate_limit_threshold=(
                            ComputeSecurityPolicyRuleRateLimitOptionsRateLimitThreshold(
                                count=OAUTH_REQUESTS_PER_MINUTE, interval_sec=60
                            )
                        ),
                    ),
                ),
                # Cloud Armor requires a default rule; the app's own checks do the rest.
                ComputeSecurityPolicyRule(
                    priority=LAST_RULE,
                    description="Everything else reaches the Ingress's public paths",
                    action="allow",
                    match=ComputeSecurityPolicyRuleMatch(
                        versioned_expr="SRC_IPS_V1",
                        config=ComputeSecurityPolicyRuleMatchConfig(src_ip_ranges=["*"]),
                    ),
                ),
            ],
            depends_on=depends_on,
        )
        member = f"serviceAccount:{app_service_account.email}"
        self.secrets: dict[str, SecretManagerSecret] = {}
        for secret_id, what in (
            (names.OAUTH_CLIENT_SECRET_ID, "the OAuth client secret of the identity provider"),
            (names.REDIS_AUTH_SECRET_ID, "Memorystore's AUTH string"),
            (names.REDIS_CA_SECRET_ID, "Memorystore's server CA certificates (PEM)"),
        ):
            secret = SecretManagerSecret(
                self,
                secret_id,
                project=cfg.project_id,
                secret_id=secret_id,
                labels=dict(cfg.labels),
                replication=replication(cfg),
                # Every value can be fetched again (the provider's console,
                # gcloud redis instances): removing sign-in deletes them too.
                deletion_protection=False,
                annotations={"holds": what},
                depends_on=depends_on,
            )
            self.secrets[secret_id] = secret
            # External Secrets reads each as the app's GSA: this secret only.
            SecretManagerSecretIamMember(
                self,
                f"{secret_id}-accessor",
                project=cfg.project_id,
                secret_id=secret.secret_id,
                role="roles/secretmanager.secretAccessor",
                member=member,
            )
