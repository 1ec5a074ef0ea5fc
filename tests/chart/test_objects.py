"""Assertions on the rendered objects: what a careful operator would check by eye.

The file is long because it walks every object of every values combination
(tests/chart/rendering.py) once; the narrower concerns have their own files.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.chart.rendering import CHART, COMBOS, DIGEST, DOCUMENTS, JWKS_URL, Chart
from tests.helpers import ROOT

pytestmark = pytest.mark.chart

ALL = list(COMBOS)
GKE = [name for name in COMBOS if name.startswith("gke")]
ESO = [*GKE, "dev-fake", "dev-fake-rotation"]
ROTATION = ["gke-rotation", "dev-fake-rotation"]
SELECTOR = {"app.kubernetes.io/name": "mcp-server", "app.kubernetes.io/instance": "mcp-server"}
# Where the port and the pod's identity are defined, once.
VALUES: dict[str, Any] = YAML(typ="safe").load((CHART / "values.yaml").read_text())
PORT = VALUES["containerPort"]
GKE_VALUES: dict[str, Any] = YAML(typ="safe").load((CHART / "values-gke.yaml").read_text())
IDENTITY = VALUES["securityContext"]
# Combinations whose values replace the image's documents.
OWN_DOCUMENTS = [name for name in COMBOS if "documents" in " ".join(COMBOS[name].set_files)]


def container(chart: Chart, name: str) -> dict[str, Any]:
    containers = chart.render(name).pod_spec()["containers"]
    assert len(containers) == 1
    result: dict[str, Any] = containers[0]
    return result


def env(chart: Chart, name: str) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container(chart, name)["env"]}


def config_map(chart: Chart, name: str, cm_name: str) -> dict[str, Any]:
    found = [c for c in chart.render(name).all("ConfigMap") if c["metadata"]["name"] == cm_name]
    assert len(found) == 1, f"{name}: expected one ConfigMap {cm_name}"
    return found[0]


@pytest.mark.parametrize("name", ALL)
def test_recommended_labels_on_every_object(chart: Chart, name: str) -> None:
    for obj in chart.render(name).objects:
        labels = obj["metadata"]["labels"]
        for key in ("name", "instance", "version", "component", "part-of", "managed-by"):
            assert f"app.kubernetes.io/{key}" in labels, (obj["kind"], key)
        assert labels["app.kubernetes.io/version"] != "latest"


@pytest.mark.parametrize("name", ALL)
def test_selector_is_only_the_immutable_labels(chart: Chart, name: str) -> None:
    rendered = chart.render(name)
    assert rendered.one("Deployment")["spec"]["selector"] == {"matchLabels": SELECTOR}
    assert rendered.one("Service")["spec"]["selector"] == SELECTOR


@pytest.mark.parametrize("name", ALL)
def test_replicas_and_spread(chart: Chart, name: str) -> None:
    rendered = chart.render(name)
    deployment = rendered.one("Deployment")["spec"]
    if name == "gke-hpa":
        assert "replicas" not in deployment, "the HPA owns the replica count"
        hpa = rendered.one("HorizontalPodAutoscaler")["spec"]
        assert hpa["minReplicas"] == 2
        assert hpa["scaleTargetRef"]["name"] == rendered.one("Deployment")["metadata"]["name"]
    elif name == "single-replica":
        assert deployment["replicas"] == 1
    else:
        assert deployment["replicas"] == 2
    assert deployment["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    spread = {c["topologyKey"]: c for c in rendered.pod_spec()["topologySpreadConstraints"]}
    assert spread["kubernetes.io/hostname"]["whenUnsatisfiable"] == "DoNotSchedule"
    assert spread["kubernetes.io/hostname"]["maxSkew"] == 1
    assert spread["topology.kubernetes.io/zone"]["whenUnsatisfiable"] == "ScheduleAnyway"
    for constraint in spread.values():
        assert constraint["labelSelector"] == {"matchLabels": SELECTOR}


@pytest.mark.parametrize("name", ALL)
def test_probes_and_their_paths(chart: Chart, name: str) -> None:
    c = container(chart, name)
    assert c["ports"] == [{"name": "http", "containerPort": PORT, "protocol": "TCP"}]
    assert env(chart, name)["MCP_PORT"] == str(PORT)
    assert c["startupProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert c["resources"]["requests"].keys() == {"cpu", "memory"}
    assert c["resources"]["limits"].keys() == {"cpu", "memory"}


@pytest.mark.parametrize("name", ALL)
def test_restricted_security_context(chart: Chart, name: str) -> None:
    pod = chart.render(name).pod_spec()
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == IDENTITY["runAsUser"]
    assert pod["securityContext"]["runAsGroup"] == IDENTITY["runAsGroup"]
    assert pod["securityContext"]["fsGroup"] == IDENTITY["runAsGroup"]
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert not any(pod.get(k) for k in ("hostNetwork", "hostPID", "hostIPC"))
    for c in pod["containers"] + pod.get("initContainers", []):
        sc = c["securityContext"]
        assert sc["runAsNonRoot"] is True
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["privileged"] is False
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["capabilities"] == {"drop": ["ALL"]}
        assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    tmp = next(v for v in pod["volumes"] if v["name"] == "tmp")
    assert "emptyDir" in tmp
    mounts = {m["name"]: m for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["tmp"]["mountPath"] == "/tmp"
    assert mounts["signing-key"]["readOnly"] is True


@pytest.mark.parametrize("name", ALL)
def test_grace_period_fits_the_drain(chart: Chart, name: str) -> None:
    pod = chart.render(name).pod_spec()
    variables = env(chart, name)
    drain = int(variables["MCP_SHUTDOWN_DRAIN_SECONDS"])
    timeout = int(variables["MCP_SHUTDOWN_TIMEOUT_SECONDS"])
    # What matters is the relation: the kubelet must not kill the pod before
    # it has drained and let in-flight requests finish.
    assert drain > 0
    assert pod["terminationGracePeriodSeconds"] > drain + timeout


@pytest.mark.parametrize("name", ALL)
def test_key_is_a_mounted_file_from_the_contract_secret(chart: Chart, name: str) -> None:
    pod = chart.render(name).pod_spec()
    variables = env(chart, name)
    assert variables["MCP_JWT_SECRET_FILE"] == "/var/run/secrets/mcp/signing-key"
    assert "MCP_JWT_SECRET_KEY" not in variables, "the key never travels in an env var"
    volume = next(v for v in pod["volumes"] if v["name"] == "signing-key")["secret"]
    assert volume["secretName"] == VALUES["signingKey"]["secretName"]
    keys = [item["key"] for item in volume["items"]]
    if name in ROTATION:
        assert keys == ["signing-key", "previous-signing-key"]
        assert (
            variables["MCP_JWT_PREVIOUS_SECRET_FILE"] == "/var/run/secrets/mcp/previous-signing-key"
        )
    else:
        assert keys == ["signing-key"]
        assert "MCP_JWT_PREVIOUS_SECRET_FILE" not in variables


@pytest.mark.parametrize("name", ESO)
def test_external_secret_writes_the_secret_the_deployment_reads(chart: Chart, name: str) -> None:
    rendered = chart.render(name)
    spec = rendered.one("ExternalSecret")["spec"]
    volume = next(v for v in rendered.pod_spec()["volumes"] if v["name"] == "signing-key")
    assert spec["target"]["name"] == volume["secret"]["secretName"]
    assert {d["secretKey"] for d in spec["data"]} == {i["key"] for i in volume["secret"]["items"]}
    assert spec["secretStoreRef"] == {
        "kind": "SecretStore",
        "name": rendered.one("SecretStore")["metadata"]["name"],
    }
    # The CRD defaults, written out so ArgoCD compares equal objects.
    assert spec["refreshInterval"] == "1h"
    assert spec["target"]["creationPolicy"] == "Owner"
    assert spec["target"]["deletionPolicy"] == "Retain"
    for item in spec["data"]:
        ref = item["remoteRef"]
        assert ref["conversionStrategy"] == "Default"
        assert ref["decodingStrategy"] == "None"
        assert ref["metadataPolicy"] == "None"


@pytest.mark.parametrize("name", GKE)
def test_secret_store_uses_workload_identity_and_the_project(chart: Chart, name: str) -> None:
    rendered = chart.render(name)
    provider = rendered.one("SecretStore")["spec"]["provider"]
    assert list(provider) == ["gcpsm"]
    assert provider["gcpsm"]["projectID"] == chart.project
    identity = provider["gcpsm"]["auth"]["workloadIdentity"]
    ksa = rendered.one("ServiceAccount")["metadata"]["name"]
    assert identity["serviceAccountRef"] == {"name": ksa}
    assert rendered.pod_spec()["serviceAccountName"] == ksa == "mcp-server"
    # The names of infra/'s resources, as values-gke.yaml spells them
    # (tests/infra/test_defaults_agree.py holds those to infra's settings).
    gcp = GKE_VALUES["externalSecrets"]["gcpSecretManager"]
    assert identity["clusterName"] == gcp["clusterName"]
    assert identity["clusterLocation"] == gcp["clusterLocation"]
    remote = rendered.one("ExternalSecret")["spec"]["data"][0]["remoteRef"]
    assert (remote["key"], remote["version"]) == (gcp["secretId"], "latest")


def test_fake_provider_serves_the_given_key(chart: Chart) -> None:
    rendered = chart.render("dev-fake")
    fake = rendered.one("SecretStore")["spec"]["provider"]["fake"]["data"]
    remote = rendered.one("ExternalSecret")["spec"]["data"][0]["remoteRef"]
    assert [(d["key"], d["version"]) for d in fake] == [(remote["key"], remote["version"])]
    assert len(fake[0]["value"]) >= 32


@pytest.mark.parametrize("name", ALL)
def test_service_account_annotation_comes_from_values(chart: Chart, name: str) -> None:
    annotations = chart.render(name).one("ServiceAccount")["metadata"].get("annotations", {})
    if name in GKE:
        assert annotations == {"iam.gke.io/gcp-service-account": chart.gsa}
        assert chart.gsa == f"mcp-server@{chart.project}.iam.gserviceaccount.com"
    else:
        assert "iam.gke.io/gcp-service-account" not in annotations


def test_service_account_annotation_follows_a_different_value(chart: Chart) -> None:
    other = "someone-else@another-project.iam.gserviceaccount.com"
    text = chart.show_only(
        "serviceaccount.yaml", ["--set", f"serviceAccount.gcpServiceAccount={other}"]
    )
    assert f'iam.gke.io/gcp-service-account: "{other}"' in text


@pytest.mark.parametrize("name", ALL)
def test_pdb_only_when_more_than_one_replica(chart: Chart, name: str) -> None:
    rendered = chart.render(name)
    pdbs = rendered.all("PodDisruptionBudget")
    if name == "single-replica":
        assert pdbs == []
    else:
        assert len(pdbs) == 1
        assert pdbs[0]["spec"]["minAvailable"] == 1
        assert pdbs[0]["spec"]["selector"] == {"matchLabels": SELECTOR}


@pytest.mark.parametrize("name", ALL)
def test_image_is_pinned_never_latest(chart: Chart, name: str) -> None:
    c = container(chart, name)
    image = c["image"]
    assert not image.endswith(":latest")
    repository = f"us-central1-docker.pkg.dev/{chart.project}/mcp-prototype/mcp-server"
    if name == "gke-digest":
        assert image == f"{repository}@{DIGEST}"
    elif name in GKE:
        pinned = chart.gke_image
        assert pinned["repository"] == repository
        digest, tag = pinned["digest"], pinned["tag"]
        assert image == (f"{repository}@{digest}" if digest else f"{repository}:{tag}")
    else:
        assert image == "mcp-server:0.1.0"


def test_default_tag_is_the_chart_app_version(chart: Chart) -> None:
    meta = YAML(typ="safe").load((chart.chart / "Chart.yaml").read_text())
    assert container(chart, "default")["image"] == f"mcp-server:{meta['appVersion']}"


def test_one_combination_overrides_the_documents() -> None:
    """Else the ConfigMap tests below would run on no combination, and pass."""
    assert OWN_DOCUMENTS, "no combination sets its own documents"


@pytest.mark.parametrize("name", OWN_DOCUMENTS)
def test_documents_config_map_and_checksum(chart: Chart, name: str) -> None:
    rendered = chart.render(name)
    cm = config_map(chart, name, "mcp-server-documents")
    assert cm["data"] == {"public.md": DOCUMENTS[0], "confidential.md": DOCUMENTS[1]}
    pod = rendered.pod_spec()
    volume = next(v for v in pod["volumes"] if v["name"] == "documents")
    assert volume["configMap"]["name"] == cm["metadata"]["name"]
    mount = next(m for m in container(chart, name)["volumeMounts"] if m["name"] == "documents")
    assert mount["readOnly"] is True
    assert env(chart, name)["MCP_DOCUMENTS_DIR"] == mount["mountPath"] == "/etc/mcp/documents"
    annotations = rendered.one("Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert len(annotations["checksum/documents"]) == 64


@pytest.mark.parametrize("name", [n for n in ALL if n not in OWN_DOCUMENTS])
def test_the_image_documents_serve_unless_overridden(chart: Chart, name: str) -> None:
    """No ConfigMap, volume, mount, variable or checksum: the server reads its bundled files."""
    rendered = chart.render(name)
    names = [c["metadata"]["name"] for c in rendered.all("ConfigMap")]
    assert "mcp-server-documents" not in names
    assert "documents" not in {v["name"] for v in rendered.pod_spec()["volumes"]}
    assert "documents" not in {m["name"] for m in container(chart, name)["volumeMounts"]}
    assert "MCP_DOCUMENTS_DIR" not in env(chart, name)
    metadata = rendered.one("Deployment")["spec"]["template"]["metadata"]
    assert "checksum/documents" not in metadata.get("annotations", {})


def test_half_a_documents_override_is_refused(chart: Chart) -> None:
    """The server needs both files in MCP_DOCUMENTS_DIR, so one alone cannot render."""
    result = chart.template(["--set", "documents.public=only this"])
    assert result.returncode != 0
    assert "properties 'confidential' required, if 'public' exists" in result.stderr


def test_editing_a_document_changes_the_checksum(chart: Chart, tmp_path: Path) -> None:
    base = chart.render("dev-documents").one("Deployment")
    edited = tmp_path / "public.md"
    edited.write_text(DOCUMENTS[0] + "One more line.\n")
    # The last --set-file of a key wins over the combination's.
    args = [*chart.args(COMBOS["dev-documents"]), "--set-file", f"documents.public={edited}"]
    text = chart.show_only("deployment.yaml", args)
    key = "checksum/documents"
    before = base["spec"]["template"]["metadata"]["annotations"][key]
    assert f"{key}: {before}" not in text
    assert f"{key}: " in text


@pytest.mark.parametrize("name", ALL)
def test_network_policy(chart: Chart, name: str) -> None:
    policy = chart.render(name).one("NetworkPolicy")["spec"]
    assert policy["podSelector"] == {"matchLabels": SELECTOR}
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    # No in-cluster peer is admitted by default (port-forward is not subject to it),
    # only Managed Prometheus's collectors where a PodMonitoring asks them to scrape.
    collectors = {
        "ports": [{"port": "http", "protocol": "TCP"}],
        "from": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gmp-system"}},
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "collector"}},
            }
        ],
    }
    scraped = bool(chart.render(name).all("PodMonitoring"))
    assert policy["ingress"] == ([collectors] if scraped else [])
    dns, *others = policy["egress"]
    assert dns["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ]
    assert sorted((p["port"], p["protocol"]) for p in dns["ports"]) == [(53, "TCP"), (53, "UDP")]
    if name == "gke-rotation":  # a JWKS URL is configured: HTTPS out, nothing else
        assert others == [{"ports": [{"port": 443, "protocol": "TCP"}]}]
        assert env(chart, name)["MCP_JWT_JWKS_URL"] == JWKS_URL
    else:
        assert others == []


def test_network_policy_admits_only_the_listed_peers(chart: Chart) -> None:
    peer = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway"}}}
    listing = f"networkPolicy.ingressFrom=[{json.dumps(peer)}]"
    args = [*chart.args(COMBOS["gke"]), "--set-json", listing]
    policy = YAML(typ="safe").load(chart.show_only("networkpolicy.yaml", args))["spec"]
    listed = {"ports": [{"port": "http", "protocol": "TCP"}], "from": [peer]}
    assert policy["ingress"][0] == listed
    assert [rule["from"][0]["namespaceSelector"] for rule in policy["ingress"][1:]] == [
        {"matchLabels": {"kubernetes.io/metadata.name": "gmp-system"}}  # values-gke scrapes
    ]


@pytest.mark.parametrize("name", ALL)
def test_service_is_cluster_ip_to_the_named_port(chart: Chart, name: str) -> None:
    spec = chart.render(name).one("Service")["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["ports"] == [
        {"name": "http", "port": VALUES["service"]["port"], "targetPort": "http", "protocol": "TCP"}
    ]


@pytest.mark.parametrize("name", ALL)
def test_server_environment(chart: Chart, name: str) -> None:
    variables = env(chart, name)
    # Each variable has one owner: the image sets MCP_HOST, app/__main__.py
    # FASTMCP_LOG_ENABLED; the chart sets neither (test_one_source.py).
    assert "MCP_HOST" not in variables
    assert "FASTMCP_LOG_ENABLED" not in variables
    assert variables["MCP_PORT"] == str(PORT)
    # Issuer and audience are the server's defaults (app/tokens.py), which the
    # token CLIs mint with: the chart passes them only when a value sets them.
    assert "MCP_JWT_ISSUER" not in variables
    assert "MCP_JWT_AUDIENCE" not in variables
    assert variables["MCP_PUBLIC_URL"] == "http://127.0.0.1:18080"  # the port-forward's port
    # On GKE the trace link names the project the pods (and the key) live in: the
    # one values-gke.yaml names (the test's, or a fork's own after phase 6).
    expected = chart.project if name.startswith("gke") else None
    assert variables.get("MCP_GCP_PROJECT_ID") == expected
    assert variables["MCP_LOG_FORMAT"] == (
        "console" if name.startswith(("dev", "single")) else "json"
    )


def test_fake_provider_serves_both_keys_when_rotating(chart: Chart) -> None:
    rendered = chart.render("dev-fake-rotation")
    fake = {d["key"]: d for d in rendered.one("SecretStore")["spec"]["provider"]["fake"]["data"]}
    refs = {d["secretKey"]: d["remoteRef"] for d in rendered.one("ExternalSecret")["spec"]["data"]}
    assert set(refs) == {"signing-key", "previous-signing-key"}
    for ref in refs.values():
        assert fake[ref["key"]]["version"] == ref["version"]
    current = fake[refs["signing-key"]["key"]]["value"]
    previous = fake[refs["previous-signing-key"]["key"]]["value"]
    assert current != previous
    assert min(len(current), len(previous)) >= 32


def test_app_version_is_the_image_version(chart: Chart) -> None:
    """appVersion, the package version and the tag `make image` builds are one number."""
    meta = YAML(typ="safe").load((chart.chart / "Chart.yaml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["appVersion"] == project["version"]
