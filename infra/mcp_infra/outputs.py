"""The GitHub repository variables the image workflow reads, and the stack output each is set from.

The one table: stack.py names each output's variable from it, the phase-7
checks and the workflow tests read it. Imports nothing from CDK Terrain.
"""

REPOSITORY_VARIABLES: dict[str, str] = {
    "GCP_PROJECT_ID": "project_id",
    "GCP_REGION": "region",
    "GCP_WIF_PROVIDER": "wif_provider",
    "GCP_CI_SERVICE_ACCOUNT": "ci_service_account",
    "GCP_REGISTRY": "registry_url",
    "GCP_ATTESTOR": "attestor",
    "GCP_ATTESTATION_KEY_VERSION": "attestation_key_version",
}

# The same for the infra workflow (.github/workflows/infra.yml), which plans the stack.
PLAN_VARIABLES: dict[str, str] = {
    "GCP_PROJECT_ID": "project_id",
    "GCP_PLAN_WIF_PROVIDER": "plan_wif_provider",
    "GCP_PLAN_SERVICE_ACCOUNT": "plan_service_account",
}
