"""Sign-in's public entry on GKE: the Ingress routes exactly the server's public paths,
and the load balancer's BackendConfig and FrontendConfig say what phase 10 promises.

The public paths are read from the server itself, built in sign-in mode against
the real OpenID Connect test provider (tests/signin/conftest.py), so a route
FastMCP adds or renames shows up here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.routing import Route

from tests.chart.combinations import INGRESS, REDIS, SIGNIN
from tests.chart.rendering import Chart, Combo, parse_all
from tests.signin.conftest import oidc_provider  # the fixture, found by name

pytestmark = pytest.mark.chart

# Served by the server but never public: Prometheus scrapes and the kubelet probes.
INTERNAL = {"/metrics", "/health", "/ready"}
GKE_SIGNIN = Combo("ingress", ("values-gke.yaml",), (*SIGNIN, *REDIS, *INGRESS))


@pytest.fixture(scope="module")
def objects(chart: Chart) -> list[dict[str, Any]]:
    result = chart.template(chart.args(GKE_SIGNIN))
    assert result.returncode == 0, result.stderr
    return parse_all(result.stdout)


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind]
    return found


def _routes(app: Any) -> list[Route]:
    """The Starlette routes under the server's middleware (each keeps the next in `.app`)."""
    while not hasattr(app, "routes"):
        app = app.app
    return [r for r in app.routes if isinstance(r, Route)]


@pytest.fixture(scope="module")
def server_paths(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[set[str]]:
    provider: str = request.getfixturevalue(oidc_provider.__name__)
    from app.config import load
    from app.http_app import build_app
    from app.probes import Lifecycle

    policy = tmp_path_factory.mktemp("policy") / "policy.yaml"
    policy.write_text("rules: []\n")
    with pytest.MonkeyPatch.context() as env:
        for key, value in {
            "MCP_JWT_SECRET_KEY": "k" * 48,
            "MCP_OIDC_CONFIG_URL": f"{provider}/.well-known/openid-configuration",
            "MCP_OIDC_CLIENT_ID": "chart-test",
            "MCP_OIDC_CLIENT_SECRET": "chart-test-secret-0123456789",
            "MCP_SCOPE_POLICY_FILE": str(policy),
            "MCP_PUBLIC_URL": "https://mcp.example.com",
        }.items():
            env.setenv(key, value)
        yield {route.path for route in _routes(build_app(load(), Lifecycle()))}


def test_the_ingress_routes_exactly_the_servers_public_paths(
    objects: list[dict[str, Any]], server_paths: set[str]
) -> None:
    assert server_paths >= INTERNAL  # the server has them: the Ingress must leave them out
    (rule,) = one(objects, "Ingress")["spec"]["rules"]
    assert rule["host"] == "mcp.example.com"
    paths = rule["http"]["paths"]
    routed = [p["path"] for p in paths]
    assert sorted(routed) == sorted(server_paths - INTERNAL)
    assert not INTERNAL & set(routed)
    # Exact: /mcp routes /mcp, not /mcpanything or /metrics-like neighbours.
    assert {p["pathType"] for p in paths} == {"Exact"}
    assert {json.dumps(p["backend"]) for p in paths} == {
        json.dumps({"service": {"name": "mcp-server", "port": {"name": "http"}}})
    }


def test_the_ingress_uses_infras_address_certificate_and_frontend(
    objects: list[dict[str, Any]],
) -> None:
    annotations = one(objects, "Ingress")["metadata"]["annotations"]
    assert annotations["kubernetes.io/ingress.global-static-ip-name"] == "mcp-signin"
    assert annotations["ingress.gcp.kubernetes.io/pre-shared-cert"] == "mcp-signin"
    frontend = one(objects, "FrontendConfig")
    assert annotations["networking.gke.io/v1beta1.FrontendConfig"] == frontend["metadata"]["name"]
    assert frontend["spec"] == {
        "sslPolicy": "mcp-signin",
        "redirectToHttps": {"enabled": True, "responseCodeName": "MOVED_PERMANENTLY_DEFAULT"},
    }


def test_the_backend_checks_ready_drains_and_is_behind_cloud_armor(
    objects: list[dict[str, Any]],
) -> None:
    backend = one(objects, "BackendConfig")
    service = one(objects, "Service")
    annotations = service["metadata"]["annotations"]
    assert json.loads(annotations["cloud.google.com/backend-config"]) == {
        "default": backend["metadata"]["name"]
    }
    # Container-native load balancing: what the NetworkPolicy's ranges assume.
    assert json.loads(annotations["cloud.google.com/neg"]) == {"ingress": True}
    spec = backend["spec"]
    deployment = one(objects, "Deployment")["spec"]["template"]["spec"]
    port = deployment["containers"][0]["ports"][0]["containerPort"]
    assert spec["healthCheck"]["requestPath"] == "/ready"
    assert spec["healthCheck"]["port"] == port
    assert spec["healthCheck"]["type"] == "HTTP"
    env = {e["name"]: e.get("value") for e in deployment["containers"][0]["env"]}
    assert spec["connectionDraining"]["drainingTimeoutSec"] == int(
        env["MCP_SHUTDOWN_TIMEOUT_SECONDS"]
    )
    assert spec["timeoutSec"] > 0
    assert spec["securityPolicy"] == {"name": "mcp-signin"}


def test_no_load_balancer_objects_without_the_ingress(chart: Chart) -> None:
    combo = Combo("no-ingress", ("values-gke.yaml",), (*SIGNIN, *REDIS))
    result = chart.template(chart.args(combo))
    assert result.returncode == 0, result.stderr
    rendered = parse_all(result.stdout)
    kinds = {o["kind"] for o in rendered}
    assert not kinds & {"Ingress", "BackendConfig", "FrontendConfig"}
    assert "annotations" not in one(rendered, "Service")["metadata"]
