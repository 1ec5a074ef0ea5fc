"""Phase 10, sign-in (optional): the settings and policy checks, the stack's sign-in
resources, the chart's sign-in objects and refusals, the flow against a test provider,
and the public address."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

from .chart import helm_template, render_chart
from .files import load_yaml
from .framework import CheckFailed, Context, check, declare_phase, last_lines
from .infra import demo_toml, infra_config
from .process import http_get, local_server

declare_phase(10, "10-sign-in.md")

DOC = "docs/tutorial/10-sign-in.md"
CONFIG_URL = "https://idp.example/.well-known/openid-configuration"
SIGNIN = (
    "signin.enabled=true",
    "signin.clientId=123-abc.apps.googleusercontent.com",
    "signin.policy.rules[0].domains[0]=example.com",
    "signin.policy.rules[0].scopes[0]=public:read",
)


# Google's load balancer and health-check ranges, which the NetworkPolicy must admit.
LB_RANGES = ["35.191.0.0/16", "130.211.0.0/22"]
INTERNAL_PATHS = {"/metrics", "/health", "/ready"}
DEMO_HOST = "mcp.example.com"
GKE_SIGNIN = (
    *SIGNIN,
    "signin.redis.host=10.0.0.3",
    "signin.ingress.enabled=true",
    f"signin.ingress.host={DEMO_HOST}",
    f"server.publicUrl=https://{DEMO_HOST}",
    "signin.ingress.staticIpAddress=203.0.113.9",
)


def _start(ctx: Context, env: dict[str, str]) -> tuple[int, str]:
    """`python -m app` with these settings; (exit code, stderr) once it stops or is refused."""
    result = ctx.run(
        ctx.python,
        "-m",
        "app",
        env={"MCP_JWT_SECRET_KEY": "k" * 48, "MCP_PORT": "1", **env},
        check=False,
        timeout=60,
    )
    return result.returncode, result.stderr.strip()


@check(phase=10, title="a policy with an unknown scope stops the server", hint=f"{DOC} section 1")
def policy_with_unknown_scope_refused(ctx: Context) -> None:
    policy = ctx.scratch / "policy.yaml"
    policy.write_text("rules:\n  - domains: [example.com]\n    scopes: [admin]\n")
    code, stderr = _start(
        ctx,
        {
            "MCP_OIDC_CONFIG_URL": CONFIG_URL,
            "MCP_OIDC_CLIENT_ID": "verify",
            "MCP_OIDC_CLIENT_SECRET": "verify-secret",
            "MCP_SCOPE_POLICY_FILE": str(policy),
        },
    )
    if code != 2 or "MCP_SCOPE_POLICY_FILE" not in stderr or "admin" not in stderr:
        raise CheckFailed(f"expected exit 2 naming MCP_SCOPE_POLICY_FILE, got {code}: {stderr}")


@check(phase=10, title="sign-in without a client id is refused", hint=f"{DOC} section 7")
def signin_without_client_id_refused(ctx: Context) -> None:
    code, stderr = _start(ctx, {"MCP_OIDC_CONFIG_URL": CONFIG_URL})
    if code != 2 or "MCP_OIDC_CLIENT_ID" not in stderr:
        raise CheckFailed(f"expected exit 2 naming MCP_OIDC_CLIENT_ID, got {code}: {stderr}")


@check(
    phase=10,
    title="the chart refuses sign-in with two replicas and no shared store",
    hint=f"{DOC} section 7",
)
def chart_refuses_shared_nothing(ctx: Context) -> None:
    values = ctx.path("helm/mcp-server/values-dev.yaml")
    sets = [arg for item in SIGNIN for arg in ("--set", item)]
    result = helm_template(ctx, "--values", values, *sets, "--set", "replicaCount=2", check=False)
    if result.returncode == 0 or "signin.redis.host" not in result.stderr:
        raise CheckFailed(f"helm template did not refuse: {last_lines(result.stderr)}")


@check(phase=10, title="the chart renders the sign-in objects", hint=f"{DOC} section 7")
def chart_renders_signin(ctx: Context) -> None:
    values = ctx.path("helm/mcp-server/values-dev.yaml")
    sets = [arg for item in SIGNIN for arg in ("--set", item)]
    result = helm_template(ctx, "--values", values, *sets, "--set", "replicaCount=1")
    if "scope-policy" not in result.stdout or "MCP_SCOPE_POLICY_FILE" not in result.stdout:
        raise CheckFailed("the render has no scope-policy ConfigMap or MCP_SCOPE_POLICY_FILE")
    if "MCP_OIDC_CLIENT_SECRET_FILE" not in result.stdout:
        raise CheckFailed("the client secret is not read from a mounted file")


@check(
    phase=10,
    title="shared-key metadata names no authorization server; /register says make token",
    hint=f"{DOC} and docs/clients.md",
)
def shared_key_mode_is_honest(ctx: Context) -> None:
    server = local_server(ctx)
    status, body = http_get(f"{server.url}/.well-known/oauth-protected-resource/mcp")
    if status != 200 or "authorization_servers" in json.loads(body):
        raise CheckFailed(f"the metadata names an authorization server: {body[:200]}")
    request = urllib.request.Request(  # noqa: S310 (a loopback http URL)
        f"{server.url}/register", data=b"{}", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            raise CheckFailed(f"POST /register answered {response.status}, expected 400")
    except urllib.error.HTTPError as error:
        text = error.read().decode(errors="replace")
        if error.code != 400 or "make token" not in text:
            raise CheckFailed(f"POST /register answered {error.code}: {text[:200]}") from None


@check(
    phase=10,
    title="a person signs in through a test provider and sees what the policy grants",
    hint=f"{DOC} section 2; `.venv/bin/pytest tests/signin/test_signin_flow.py -q`",
)
def signin_flow_passes(ctx: Context) -> None:
    ctx.run(
        ctx.python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        "tests/signin/test_signin_flow.py", timeout=900,
    )  # fmt: skip


def _signin_synth(ctx: Context) -> dict[str, object]:
    """The stack synthesized into the scratch directory with signin_host set."""
    cfg = infra_config(ctx)
    host = cfg.signin_host or DEMO_HOST
    config = ctx.scratch / "infra-signin.toml"
    config.write_text(demo_toml(cfg) + f'signin_host = "{host}"\n')
    outdir = ctx.scratch / "cdktf.out-signin"
    env = {"MCP_INFRA_CONFIG": str(config), "CDKTF_OUTDIR": str(outdir)}
    ctx.run("make", "--no-print-directory", "synth", env=env, timeout=600)
    path = outdir / "stacks" / cfg.stack_name / "cdk.tf.json"
    if not path.is_file():
        raise CheckFailed(f"{path} was not written")
    text = path.read_text()
    for attribute in ("auth_string", "server_ca_certs", "secret_data"):
        if attribute in text:
            raise CheckFailed(f"the stack refers to {attribute}: a secret value would be in state")
    synthesized: dict[str, object] = json.loads(text)
    return synthesized


@check(
    phase=10,
    title="signin_host adds Memorystore (AUTH, TLS, the cluster's VPC), TLS 1.2+, Cloud Armor",
    hint=f"{DOC} section 4; `.venv/bin/pytest tests/infra/test_signin.py -q`",
)
def stack_has_signin_resources(ctx: Context) -> None:
    resources = _signin_synth(ctx)["resource"]
    assert isinstance(resources, dict)

    def only(rtype: str) -> dict[str, object]:
        found = list(resources.get(rtype, {}).values())
        if len(found) != 1:
            raise CheckFailed(f"expected one {rtype}, found {len(found)}")
        return dict(found[0])

    redis = only("google_redis_instance")
    if redis.get("auth_enabled") is not True:
        raise CheckFailed("Memorystore has AUTH off")
    if redis.get("transit_encryption_mode") != "SERVER_AUTHENTICATION":
        raise CheckFailed("Memorystore does not encrypt in transit")
    if "google_compute_network." not in str(redis.get("authorized_network")):
        raise CheckFailed("Memorystore is not on the stack's own VPC")
    if only("google_compute_ssl_policy").get("min_tls_version") not in {"TLS_1_2", "TLS_1_3"}:
        raise CheckFailed("the SSL policy accepts TLS older than 1.2")
    rules = only("google_compute_security_policy").get("rule", [])
    assert isinstance(rules, list)
    if not any(r.get("action") == "throttle" for r in rules):
        raise CheckFailed("the Cloud Armor policy has no rate limit")
    for rtype in ("google_compute_global_address", "google_compute_managed_ssl_certificate"):
        only(rtype)
    if any("secret_version" in rtype for rtype in resources):
        raise CheckFailed("the stack writes a secret version: its value would be in state")


@check(
    phase=10,
    title="the chart serves sign-in behind the load balancer, within the ArgoCD project",
    hint=f"{DOC} section 7; `.venv/bin/pytest tests/chart/test_ingress.py -q`",
)
def chart_renders_the_public_entry(ctx: Context) -> None:
    objects = render_chart(ctx, *[arg for item in GKE_SIGNIN for arg in ("--set", item)])
    by_kind: dict[str, list[dict[str, object]]] = {}
    for obj in objects:
        by_kind.setdefault(str(obj["kind"]), []).append(obj)
    project = load_yaml(ctx.path("argocd/project.yaml"))
    permitted = {e["kind"] for e in project["spec"]["namespaceResourceWhitelist"]}
    if set(by_kind) - permitted:
        raise CheckFailed(f"ArgoCD's project refuses {sorted(set(by_kind) - permitted)}")
    for kind in ("Ingress", "BackendConfig", "FrontendConfig"):
        if kind not in by_kind:
            raise CheckFailed(f"no {kind} rendered")
    ingress = json.dumps(by_kind["Ingress"][0])
    if any(f'"path": "{path}"' in ingress for path in INTERNAL_PATHS):
        raise CheckFailed("the Ingress makes /metrics, /health or /ready public")
    backend = json.dumps(by_kind["BackendConfig"][0])
    if '"requestPath": "/ready"' not in backend or "securityPolicy" not in backend:
        raise CheckFailed("the BackendConfig lacks the /ready health check or Cloud Armor")
    policy = json.dumps(by_kind["NetworkPolicy"][0])
    if not all(cidr in policy for cidr in LB_RANGES) or '"port": 6378' not in policy:
        raise CheckFailed("the NetworkPolicy does not admit the load balancer or reach Redis")
    deployment = json.dumps(by_kind["Deployment"][0])
    for name in ("MCP_REDIS_PASSWORD_FILE", "MCP_REDIS_CA_FILE", "MCP_FORWARDED_ALLOW_IPS"):
        if name not in deployment:
            raise CheckFailed(f"the pods get no {name}")


def _host() -> str:
    host = os.environ.get("HOST", "")
    if not host:
        raise CheckFailed("HOST is not set", hint=f"export HOST=<your public host> ({DOC})")
    return host


@check(
    phase=10,
    title="the public address serves the authorization server metadata",
    hint=f"{DOC} section 6",
    live=True,
)
def live_authorization_server(ctx: Context) -> None:
    host = _host()
    status, body = http_get(f"https://{host}/.well-known/oauth-authorization-server", timeout=15)
    issuer = json.loads(body).get("issuer", "") if status == 200 else ""
    if issuer.rstrip("/") != f"https://{host}":
        raise CheckFailed(f"expected issuer https://{host}/, got {status} {body[:200]}")
    status, _body = http_get(f"https://{host}/metrics", timeout=15)
    if status != 404:
        raise CheckFailed(f"https://{host}/metrics answered {status}: it must not be public")
