"""Phase 10, sign-in (optional): the settings and policy checks, the chart's sign-in
objects and refusals, the flow against a test provider, and the public address."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

from .chart import helm_template
from .framework import CheckFailed, Context, check, declare_phase, last_lines
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


@check(phase=10, title="sign-in without a client id is refused", hint=f"{DOC} section 6")
def signin_without_client_id_refused(ctx: Context) -> None:
    code, stderr = _start(ctx, {"MCP_OIDC_CONFIG_URL": CONFIG_URL})
    if code != 2 or "MCP_OIDC_CLIENT_ID" not in stderr:
        raise CheckFailed(f"expected exit 2 naming MCP_OIDC_CLIENT_ID, got {code}: {stderr}")


@check(
    phase=10,
    title="the chart refuses sign-in with two replicas and no storage URL",
    hint=f"{DOC} section 4",
)
def chart_refuses_shared_nothing(ctx: Context) -> None:
    values = ctx.path("helm/mcp-server/values-dev.yaml")
    sets = [arg for item in SIGNIN for arg in ("--set", item)]
    result = helm_template(ctx, "--values", values, *sets, "--set", "replicaCount=2", check=False)
    if result.returncode == 0 or "signin.redis.host" not in result.stderr:
        raise CheckFailed(f"helm template did not refuse: {last_lines(result.stderr)}")


@check(phase=10, title="the chart renders the sign-in objects", hint=f"{DOC} section 6")
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


def _host() -> str:
    host = os.environ.get("HOST", "")
    if not host:
        raise CheckFailed("HOST is not set", hint=f"export HOST=<your public host> ({DOC})")
    return host


@check(
    phase=10,
    title="the public address serves the authorization server metadata",
    hint=f"{DOC} section 5",
    live=True,
)
def live_authorization_server(ctx: Context) -> None:
    host = _host()
    status, body = http_get(f"https://{host}/.well-known/oauth-authorization-server", timeout=15)
    issuer = json.loads(body).get("issuer", "") if status == 200 else ""
    if issuer.rstrip("/") != f"https://{host}":
        raise CheckFailed(f"expected issuer https://{host}/, got {status} {body[:200]}")
