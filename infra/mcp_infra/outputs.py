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
}
