"""Binary Authorization: the cluster runs only images this pipeline built, scanned and attested.

The image workflow signs an attestation for the digest it pushed, with a Cloud
KMS key it may use but never read; the project's Binary Authorization policy
admits an image only when the attestor's public key verifies such an
attestation for that exact digest. GKE checks it at admission (the cluster's
`binary_authorization` is PROJECT_SINGLETON_POLICY_ENFORCE, see cluster.py).
https://cloud.google.com/binary-authorization/docs/creating-attestors-console
https://cloud.google.com/binary-authorization/docs/making-attestations

Why a KMS-signed attestation and not a keyless Sigstore signature: the project
policy that GKE enforces at admission verifies attestations of attestors (PKIX
or PGP keys). Sigstore signatures are checked only by continuous validation of
platform policies, which audits pods already running and blocks nothing.
https://cloud.google.com/binary-authorization/docs/cv-sigstore-check
"""

from __future__ import annotations

from cdktn import ITerraformDependable
from cdktn_provider_google.binary_authorization_attestor import (
    BinaryAuthorizationAttestor,
    BinaryAuthorizationAttestorAttestationAuthorityNotePublicKeys,
    BinaryAuthorizationAttestorAttestationAuthorityNotePublicKeysPkixPublicKey,
)
from cdktn_provider_google.binary_authorization_attestor_iam_member import (
    BinaryAuthorizationAttestorIamMember,
)
from cdktn_provider_google.binary_authorization_policy import (
    BinaryAuthorizationPolicy,
    BinaryAuthorizationPolicyAdmissionWhitelistPatterns,
)
from cdktn_provider_google.container_analysis_note import ContainerAnalysisNote
from cdktn_provider_google.container_analysis_note_iam_member import (
    ContainerAnalysisNoteIamMember,
)
from cdktn_provider_google.data_google_kms_crypto_key_version import (
    DataGoogleKmsCryptoKeyVersion,
)
from cdktn_provider_google.kms_crypto_key import KmsCryptoKey
from cdktn_provider_google.kms_crypto_key_iam_member import KmsCryptoKeyIamMember
from cdktn_provider_google.kms_key_ring import KmsKeyRing
from constructs import Construct

from .config import InfraConfig
from .iam import grant_project_roles

ATTESTOR_ID = "mcp-pipeline"
NOTE_ID = "mcp-pipeline-attestations"
KEY_ID = "attestor"
# ECDSA P-256: short signatures that `openssl dgst -verify` checks with the attestor's PEM.
KEY_ALGORITHM = "EC_SIGN_P256_SHA256"

# Third-party images the tutorial installs in other namespaces (ESO in phase 6, ArgoCD in
# phase 8). They come from their publishers' registries, so this pipeline never attests
# them: they are admitted by name. Mirroring them into the project's registry and attesting
# them there would close this gap (docs/tutorial/07-pipeline.md, "What the policy admits").
EXEMPT_IMAGES = (
    "oci.external-secrets.io/external-secrets/external-secrets:*",
    "ghcr.io/external-secrets/external-secrets:*",
    "quay.io/argoproj/argocd:*",
    "ghcr.io/dexidp/dex:*",
    "public.ecr.aws/docker/library/redis:*",
)

# What the image workflow's identity needs to attest, each on the one resource it acts on.
SIGNER_ROLES_ON_KEY = ("roles/cloudkms.signerVerifier",)
SIGNER_ROLES_ON_NOTE = (
    "roles/containeranalysis.notes.attacher",  # attach the attestation to the note
    # `attestations list --attestor` lists the note's occurrences: the verify step.
    "roles/containeranalysis.notes.occurrences.viewer",
)
SIGNER_ROLES_ON_ATTESTOR = ("roles/binaryauthorization.attestorsViewer",)
# Attestations are occurrences, which live in the project: creating one is a project-level
# permission; there is no narrower role.
SIGNER_PROJECT_ROLES = ("roles/containeranalysis.occurrences.editor",)


class BinaryAuthorization(Construct):
    """The signing key, the note and attestor that hold its public half, and the policy."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: InfraConfig,
        signer_email: str,
        depends_on: list[ITerraformDependable],
    ) -> None:
        super().__init__(scope, id_)
        cfg = config
        signer = f"serviceAccount:{signer_email}"

        # Key rings and keys can never be deleted (only their versions): the teardown of
        # phase 9 destroys the version; the name stays taken, hence the kms_key_ring setting.
        # https://cloud.google.com/kms/docs/resource-hierarchy#lifetime
        self.key_ring = KmsKeyRing(
            self,
            "key-ring",
            project=cfg.project_id,
            name=cfg.kms_key_ring,
            location=cfg.region,
            depends_on=depends_on,
        )
        self.key = KmsCryptoKey(
            self,
            "key",
            name=KEY_ID,
            key_ring=self.key_ring.id,
            purpose="ASYMMETRIC_SIGN",
            # The private half never leaves Cloud KMS; the pipeline asks KMS to sign.
            version_template={"algorithm": KEY_ALGORITHM, "protection_level": "SOFTWARE"},
            labels=dict(cfg.labels),
            # A destroyed version can be restored for 30 days (the default, written out).
            destroy_scheduled_duration=f"{30 * 86400}s",
        )
        # The key's first version, created with the key: its public half goes into the attestor.
        self.key_version = DataGoogleKmsCryptoKeyVersion(
            self, "key-version", crypto_key=self.key.id, version=1
        )

        # The note is where attestations (occurrences) are attached.
        self.note = ContainerAnalysisNote(
            self,
            "note",
            project=cfg.project_id,
            name=NOTE_ID,
            attestation_authority={
                "hint": {"human_readable_name": "Built, scanned and pushed by image.yml"}
            },
            depends_on=depends_on,
        )
        self.attestor = BinaryAuthorizationAttestor(
            self,
            "attestor",
            project=cfg.project_id,
            name=ATTESTOR_ID,
            description="The image workflow of this repository: the digest it pushed and scanned",
            attestation_authority_note={
                "note_reference": self.note.name,
                # (Struct classes, not dicts: a dict nested in a list loses its nested keys.)
                "public_keys": [
                    BinaryAuthorizationAttestorAttestationAuthorityNotePublicKeys(
                        # The id gcloud's sign-and-create writes into the attestation.
                        id=self.key_version.id,
                        pkix_public_key=(
                            BinaryAuthorizationAttestorAttestationAuthorityNotePublicKeysPkixPublicKey(
                                public_key_pem=self.key_version.public_key.get(0).pem,
                                signature_algorithm=self.key_version.public_key.get(0).algorithm,
                            )
                        ),
                    )
                ],
            },
            depends_on=depends_on,
        )

        # The signer: use the key (never read or export it), attach to the note, read the
        # attestor (sign-and-create reads its note; the verify step reads its public key).
        for role in SIGNER_ROLES_ON_KEY:
            KmsCryptoKeyIamMember(
                self, "signer-key", crypto_key_id=self.key.id, role=role, member=signer
            )
        for role in SIGNER_ROLES_ON_NOTE:
            ContainerAnalysisNoteIamMember(
                self,
                f"signer-note-{role.rsplit('.', 1)[-1]}",
                project=cfg.project_id,
                note=self.note.name,
                role=role,
                member=signer,
            )
        for role in SIGNER_ROLES_ON_ATTESTOR:
            BinaryAuthorizationAttestorIamMember(
                self,
                "signer-attestor",
                project=cfg.project_id,
                attestor=self.attestor.name,
                role=role,
                member=signer,
            )
        grant_project_roles(
            self, "signer", project=cfg.project_id, roles=SIGNER_PROJECT_ROLES, member=signer
        )

        # The project's one policy (it replaces the default ALWAYS_ALLOW policy).
        # https://cloud.google.com/binary-authorization/docs/policy-yaml-reference
        self.policy = BinaryAuthorizationPolicy(
            self,
            "policy",
            project=cfg.project_id,
            description="Only images this repository's image workflow attested (image.yml)",
            # Google's own system images (kube-system, GKE add-ons, Managed Prometheus) are
            # admitted from Google's allow-list, so the cluster itself keeps working.
            global_policy_evaluation_mode="ENABLE",
            admission_whitelist_patterns=[
                BinaryAuthorizationPolicyAdmissionWhitelistPatterns(name_pattern=pattern)
                for pattern in EXEMPT_IMAGES
            ],
            # Everything else needs this pipeline's attestation for its exact digest. A pod
            # with the break-glass annotation is admitted and logged (docs/tutorial/07).
            default_admission_rule={
                "evaluation_mode": "REQUIRE_ATTESTATION",
                "enforcement_mode": cfg.binauthz_enforcement_mode,
                "require_attestations_by": [self.attestor.name],
            },
            depends_on=depends_on,
        )

    @property
    def key_version_name(self) -> str:
        """projects/.../cryptoKeyVersions/1: what gcloud's sign-and-create --keyversion takes."""
        return self.key_version.name

    @property
    def attestor_name(self) -> str:
        """projects/<project>/attestors/<id> (the attestor's Terraform id): gcloud's --attestor."""
        return self.attestor.id
