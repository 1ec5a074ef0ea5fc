"""The ArgoCD Application and AppProject point at this chart and permit only what it renders."""

from __future__ import annotations

from typing import Any

import pytest

from tests.chart.rendering import CHART, NAMESPACE
from tests.helpers import ROOT

pytestmark = pytest.mark.chart

APPS = {"application": "values-gke.yaml", "application-kind": "values-dev.yaml"}
IN_CLUSTER = "https://kubernetes.default.svc"


@pytest.mark.parametrize(("stem", "values_file"), APPS.items())
def test_application_syncs_the_chart(
    argocd_objects: dict[str, dict[str, Any]], stem: str, values_file: str
) -> None:
    app = argocd_objects[stem]
    project = argocd_objects["project"]
    assert app["metadata"] == {
        "name": "mcp-server",
        "namespace": "argocd",
        "finalizers": ["resources-finalizer.argocd.argoproj.io"],
    }
    spec = app["spec"]
    assert spec["project"] == project["metadata"]["name"]
    source = spec["source"]
    assert source["targetRevision"] == "main"
    assert source["path"] == "helm/mcp-server"
    assert (ROOT / source["path"]) == CHART
    assert source["helm"]["valueFiles"] == [values_file]
    assert (CHART / values_file).is_file()
    assert source["helm"]["releaseName"] == "mcp-server"
    assert source["repoURL"] in project["spec"]["sourceRepos"]
    assert spec["destination"] == {"server": IN_CLUSTER, "namespace": NAMESPACE}
    sync = spec["syncPolicy"]
    assert sync["automated"] == {"prune": True, "selfHeal": True}
    assert "CreateNamespace=true" in sync["syncOptions"]
    labels = sync["managedNamespaceMetadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert sync["retry"]["limit"] > 0
    assert set(sync["retry"]["backoff"]) == {"duration", "factor", "maxDuration"}


def test_project_limits_repository_and_destination(
    argocd_objects: dict[str, dict[str, Any]],
) -> None:
    spec = argocd_objects["project"]["spec"]
    assert len(spec["sourceRepos"]) == 1
    assert "*" not in spec["sourceRepos"][0]
    assert spec["destinations"] == [{"server": IN_CLUSTER, "namespace": NAMESPACE}]
    # CreateNamespace=true needs Namespace; nothing else cluster-wide.
    assert spec["clusterResourceWhitelist"] == [{"group": "", "kind": "Namespace"}]


# The project's kinds against every values combination: test_combinations.py.
