"""Sign-in mode in the chart: its objects per values combination, and the settings it refuses.

The combinations are listed here (not in rendering.COMBOS) so the shared
object-count table stays as it is; each one is rendered, linted and validated
the same way: helm lint --strict, kubernetes-validate --strict for GKE's
versions, and the ExternalSecret CRD schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.chart.combinations import INGRESS, REDIS
from tests.chart.rendering import K8S_VERSIONS, Chart, Combo, parse_all
from tests.chart.test_validators import CRD_GROUPS, run_crd_validator, run_kubernetes_validate

pytestmark = pytest.mark.chart

POLICY = (
    "signin.policy.rules[0].domains[0]=example.com",
    "signin.policy.rules[0].scopes[0]=public:read",
)
SIGNIN = ("signin.enabled=true", "signin.clientId=123-abc.apps.googleusercontent.com", *POLICY)

COMBOS = {
    c.name: c
    for c in (
        # One local replica: no shared storage needed, the Secret made with kubectl.
        Combo("signin-dev", ("values-dev.yaml",), ("replicaCount=1", *SIGNIN)),
        # GKE: two replicas sharing Memorystore, the client secret from Secret
        # Manager, an Ingress with a Google-managed certificate.
        Combo("signin-gke", ("values-gke.yaml",), (*SIGNIN, *REDIS, *INGRESS)),
        # GKE with the HPA and a TLS Secret of one's own instead.
        Combo(
            "signin-gke-hpa-tls",
            ("values-gke.yaml",),
            (
                *SIGNIN,
                *REDIS,
                *INGRESS,
                "autoscaling.enabled=true",
                "signin.ingress.preSharedCertificate=",
                "signin.ingress.tlsSecretName=mcp-tls",
            ),
        ),
    )
}
# The policy, the client secret's and the store's ExternalSecrets, the load balancer's objects.
GKE_EXTRA = ["ConfigMap", "ExternalSecret", "ExternalSecret", "Ingress"]
GKE_EXTRA += ["BackendConfig", "FrontendConfig"]
EXPECTED_EXTRA_KINDS = {
    "signin-dev": ["ConfigMap"],
    "signin-gke": [*GKE_EXTRA],
    "signin-gke-hpa-tls": [*GKE_EXTRA],
}
BASE = {"signin-dev": "single-replica", "signin-gke": "gke", "signin-gke-hpa-tls": "gke-hpa"}


def _render(chart: Chart, name: str) -> list[dict[str, Any]]:
    result = chart.template(chart.args(COMBOS[name]))
    assert result.returncode == 0, result.stderr
    return parse_all(result.stdout)


def _one(objects: list[dict[str, Any]], kind: str, suffix: str = "") -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"].endswith(suffix)]
    assert len(found) == 1, f"expected one {kind} *{suffix}, got {len(found)}"
    return found[0]


@pytest.mark.parametrize("name", list(COMBOS))
def test_sign_in_adds_exactly_its_objects(chart: Chart, name: str) -> None:
    base = sorted(o["kind"] for o in chart.render(BASE[name]).objects)
    kinds = sorted(o["kind"] for o in _render(chart, name))
    assert kinds == sorted(base + EXPECTED_EXTRA_KINDS[name])


def test_sign_in_is_off_by_default(chart: Chart) -> None:
    env = chart.render("gke").pod_spec()["containers"][0]["env"]
    assert not [e for e in env if e["name"].startswith(("MCP_OIDC", "MCP_SCOPE", "MCP_OAUTH"))]


@pytest.mark.parametrize("name", list(COMBOS))
def test_the_server_gets_the_sign_in_settings_as_files(chart: Chart, name: str) -> None:
    objects = _render(chart, name)
    pod = _one(objects, "Deployment")["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["MCP_OIDC_CONFIG_URL"] == (
        "https://accounts.google.com/.well-known/openid-configuration"
    )
    assert env["MCP_OIDC_CLIENT_ID"] == "123-abc.apps.googleusercontent.com"
    # The secret is a mounted file, never an environment value.
    assert "MCP_OIDC_CLIENT_SECRET" not in env
    assert env["MCP_OIDC_CLIENT_SECRET_FILE"] == "/var/run/secrets/mcp-oauth/client-secret"
    assert env["MCP_SCOPE_POLICY_FILE"] == "/etc/mcp/policy/policy.yaml"
    store = None if name == "signin-dev" else "rediss://10.0.0.3:6378/0"
    assert env.get("MCP_OAUTH_STORAGE_URL") == store
    # The rate limits are counted in the same store, shared by the replicas.
    assert env.get("MCP_RATE_LIMIT_STORAGE_URL") == store
    if store:
        # The AUTH string and the CA are files from the Secret, never in the URL.
        assert env["MCP_REDIS_PASSWORD_FILE"] == "/var/run/secrets/mcp-redis/password"
        assert env["MCP_REDIS_CA_FILE"] == "/var/run/secrets/mcp-redis/ca.crt"
        assert not [e for e in env if "PASSWORD" in e and not e.endswith("_FILE")]
        assert "@" not in store
        redis = pod_volume(pod, "redis")
        assert redis["secret"]["secretName"] == "mcp-redis"
        assert [i["key"] for i in redis["secret"]["items"]] == ["password", "ca.crt"]
    mounts = {m["mountPath"]: m for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["/var/run/secrets/mcp-oauth"]["readOnly"] is True
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["oauth-client-secret"]["secret"]["secretName"] == "mcp-oauth-client-secret"
    policy = _one(objects, "ConfigMap", "-scope-policy")
    assert volumes["scope-policy"]["configMap"]["name"] == policy["metadata"]["name"]


def pod_volume(pod: dict[str, Any], name: str) -> dict[str, Any]:
    volume: dict[str, Any]
    (volume,) = [v for v in pod["volumes"] if v["name"] == name]
    return volume


def test_the_policy_reaches_the_server_as_written(chart: Chart) -> None:
    from ruamel.yaml import YAML

    policy = _one(_render(chart, "signin-dev"), "ConfigMap", "-scope-policy")
    assert YAML(typ="safe").load(policy["data"]["policy.yaml"]) == {
        "rules": [{"domains": ["example.com"], "scopes": ["public:read"]}]
    }


def test_the_client_secret_comes_from_secret_manager_on_gke(chart: Chart) -> None:
    objects = _render(chart, "signin-gke")
    external = _one(objects, "ExternalSecret", "-oauth-client")
    assert external["spec"]["target"]["name"] == "mcp-oauth-client-secret"
    assert external["spec"]["data"][0]["secretKey"] == "client-secret"
    assert external["spec"]["data"][0]["remoteRef"]["key"] == "mcp-oauth-client-secret"
    store = _one(objects, "SecretStore")
    assert external["spec"]["secretStoreRef"]["name"] == store["metadata"]["name"]


def test_the_store_credentials_come_from_secret_manager_on_gke(chart: Chart) -> None:
    objects = _render(chart, "signin-gke")
    external = _one(objects, "ExternalSecret", "-redis")
    spec = external["spec"]
    assert spec["target"] == {
        "name": "mcp-redis",
        "creationPolicy": "Owner",
        "deletionPolicy": "Retain",
    }
    assert {d["secretKey"]: d["remoteRef"]["key"] for d in spec["data"]} == {
        "password": "mcp-redis-auth",
        "ca.crt": "mcp-redis-ca",
    }
    # Defaults the CRD would add are written out: ArgoCD sees no drift.
    for item in spec["data"]:
        assert item["remoteRef"]["conversionStrategy"] == "Default"
        assert item["remoteRef"]["decodingStrategy"] == "None"
        assert item["remoteRef"]["metadataPolicy"] == "None"
    assert spec["refreshPolicy"] == "Periodic"


@pytest.mark.parametrize(
    ("values", "sets", "message"),
    [
        pytest.param(
            ("values-dev.yaml",),
            SIGNIN,
            "signin.enabled with 2 replicas needs signin.redis.host",
            id="two replicas, no storage",
        ),
        pytest.param(
            ("values-gke.yaml",),
            (*SIGNIN, "replicaCount=1", "autoscaling.enabled=true"),
            "signin.enabled with 2 replicas needs signin.redis.host",
            id="autoscaling, no storage",
        ),
        pytest.param(
            ("values-dev.yaml",),
            ("signin.enabled=true", "replicaCount=1"),
            "signin.clientId is required",
            id="no client id",
        ),
        pytest.param(
            ("values-gke.yaml",),
            (*SIGNIN, *REDIS, "signin.ingress.enabled=true", "signin.ingress.host=mcp.example.com"),
            "server.publicUrl must be https://mcp.example.com",
            id="ingress without the public url",
        ),
        pytest.param(
            ("values-gke.yaml",),
            (*SIGNIN, *REDIS, *INGRESS, "signin.ingress.staticIpAddress="),
            "signin.ingress.staticIpAddress is required",
            id="ingress without the address to trust",
        ),
        pytest.param(
            ("values-gke.yaml",),
            (*SIGNIN, *REDIS, *INGRESS, "signin.ingress.preSharedCertificate="),
            "signin.ingress needs a certificate",
            id="ingress without a certificate",
        ),
        pytest.param(
            ("values-gke.yaml",),
            (*SIGNIN, *REDIS, *INGRESS, "terminationGracePeriodSeconds=45"),
            "+ signin.ingress.preStopSleepSeconds (50)",
            id="grace period shorter than preStop and drain",
        ),
        pytest.param(
            ("values-dev.yaml",),
            (*SIGNIN, "signin.redis.host=redis://10.0.0.3:6379"),
            "at '/signin/redis/host'",
            id="a URL where the host goes",
        ),
        pytest.param(
            ("values-dev.yaml",),
            ("replicaCount=1", *SIGNIN, "signin.policy.rules[0].scopes[1]=admin"),
            "at '/signin/policy/rules/0/scopes/1'",
            id="policy with an unknown scope",
        ),
    ],
)
def test_the_chart_refuses_sign_in_that_cannot_work(
    chart: Chart, values: tuple[str, ...], sets: tuple[str, ...], message: str
) -> None:
    result = chart.template(chart.args(Combo("refused", values, sets)))
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize("name", list(COMBOS))
def test_helm_lint_strict(chart: Chart, name: str) -> None:
    result = chart.helm_run("lint", "--strict", *chart.args(COMBOS[name]))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("version", K8S_VERSIONS[-1:])
def test_kubernetes_validate_strict(chart: Chart, version: str, tmp_path: Path) -> None:
    rendered = {name: _render(chart, name) for name in COMBOS}
    result = run_kubernetes_validate(rendered, version, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_external_secret_passes_its_crd_schema(chart: Chart) -> None:
    objects = [o for o in _render(chart, "signin-gke") if o["apiVersion"].startswith(CRD_GROUPS)]
    result = run_crd_validator(objects)
    assert result.returncode == 0, result.stdout + result.stderr
