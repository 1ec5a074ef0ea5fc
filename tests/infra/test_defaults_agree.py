"""infra/'s defaults are the names the chart and ArgoCD deploy with.

values-gke.yaml and the ArgoCD Application are plain files a learner edits, so
they spell the names out; settings.py owns them. A renamed default without the
matching edit there would deploy a workload Workload Identity does not bind,
or look for a secret or cluster that does not exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from infra.mcp_infra.settings import InfraConfig

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = {name: field.default for name, field in InfraConfig.model_fields.items()}


def load(relative: str) -> Any:
    return YAML(typ="safe").load((ROOT / relative).read_text(encoding="utf-8"))


def test_gke_values_name_the_stacks_resources() -> None:
    gke = load("helm/mcp-server/values-gke.yaml")
    secret_manager = gke["externalSecrets"]["gcpSecretManager"]
    # PROJECT_ID here; a fork's own project id after phase 6.
    project = secret_manager["projectID"]
    assert secret_manager["secretId"] == DEFAULTS["secret_id"]
    assert secret_manager["clusterName"] == DEFAULTS["cluster_name"]
    assert secret_manager["clusterLocation"] == DEFAULTS["zone"]
    assert gke["image"]["repository"] == (
        f"{DEFAULTS['region']}-docker.pkg.dev/{project}/{DEFAULTS['registry_id']}/mcp-server"
    )
    assert gke["serviceAccount"]["gcpServiceAccount"] == (
        f"{DEFAULTS['app_service_account_id']}@{project}.iam.gserviceaccount.com"
    )


def test_workload_identity_binds_the_service_account_the_chart_creates() -> None:
    """The KSA is the chart's full name: the release name, as it contains the chart's name."""
    chart = load("helm/mcp-server/Chart.yaml")
    values = load("helm/mcp-server/values.yaml")
    assert values["serviceAccount"]["name"] == ""
    assert values.get("fullnameOverride", "") == ""
    for name in ("application.yaml", "application-kind.yaml"):
        release = load(f"argocd/{name}")["spec"]["source"]["helm"]["releaseName"]
        assert chart["name"] in release, name
        assert release == DEFAULTS["k8s_service_account"], name


def test_argocd_deploys_into_the_namespace_workload_identity_trusts() -> None:
    for name in ("application.yaml", "application-kind.yaml"):
        application = load(f"argocd/{name}")
        assert application["spec"]["destination"]["namespace"] == DEFAULTS["k8s_namespace"], name


def test_the_charts_sign_in_defaults_name_infras_resources() -> None:
    """signin_host's resources (mcp_infra/signin.py) are what the chart's Ingress names."""
    from infra.mcp_infra import signin_names as names

    signin = load("helm/mcp-server/values.yaml")["signin"]
    ingress = signin["ingress"]
    for key in ("staticIpName", "preSharedCertificate", "sslPolicy", "securityPolicy"):
        assert ingress[key] == names.NAME, key
    assert signin["clientSecret"]["gcpSecretId"] == names.OAUTH_CLIENT_SECRET_ID
    assert signin["redis"]["gcpPasswordSecretId"] == names.REDIS_AUTH_SECRET_ID
    assert signin["redis"]["gcpCaSecretId"] == names.REDIS_CA_SECRET_ID
    assert signin["redis"]["port"] == names.REDIS_TLS_PORT
    assert signin["redis"]["tls"] is True
    assert signin["redis"]["auth"] is True
