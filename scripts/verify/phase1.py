"""Phase 1, the server: it starts, answers its endpoints, refuses a bad key, stops cleanly."""

from __future__ import annotations

import json

from app.catalog import TOOL_SCOPES

from .framework import CheckFailed, Context, check, declare_phase, last_lines
from .process import free_port, http_get, http_post, local_server, stop_process

declare_phase(1, "01-server.md")

RUN_SERVER = "run `make run` and read its output; docs/tutorial/01-server.md"


@check(phase=1, title="the server starts and /health answers ok", hint=RUN_SERVER)
def server_health(ctx: Context) -> None:
    server = local_server(ctx)
    status, body = http_get(f"{server.url}/health")
    if status != 200 or json.loads(body) != {"status": "ok"}:
        raise CheckFailed(f"GET /health answered {status} {body[:100]}")


@check(phase=1, title="/ready answers ready", hint=RUN_SERVER)
def server_ready(ctx: Context) -> None:
    server = local_server(ctx)
    status, body = http_get(f"{server.url}/ready")
    if status != 200 or json.loads(body) != {"status": "ready"}:
        raise CheckFailed(f"GET /ready answered {status} {body[:100]}")


@check(phase=1, title="RFC 9728 metadata names /mcp and both scopes", hint=RUN_SERVER)
def server_metadata(ctx: Context) -> None:
    server = local_server(ctx)
    for path in (
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ):
        status, body = http_get(f"{server.url}{path}")
        if status != 200:
            raise CheckFailed(f"GET {path} answered {status}")
        metadata = json.loads(body)
        if metadata.get("resource") != f"{server.url}/mcp":
            raise CheckFailed(f"{path} names the resource {metadata.get('resource')!r}")
        if sorted(metadata.get("scopes_supported", [])) != sorted(TOOL_SCOPES.values()):
            raise CheckFailed(f"{path} lists scopes {metadata.get('scopes_supported')}")


@check(phase=1, title="POST /mcp without a token gets 401", hint=RUN_SERVER)
def mcp_without_token_is_401(ctx: Context) -> None:
    server = local_server(ctx)
    status = http_post(f"{server.url}/mcp", b"{}", {"Content-Type": "application/json"})
    if status != 401:
        raise CheckFailed(f"POST /mcp without a token answered {status}")


@check(phase=1, title="/metrics serves the mcp_ metrics", hint=RUN_SERVER)
def server_metrics(ctx: Context) -> None:
    server = local_server(ctx)
    status, body = http_get(f"{server.url}/metrics")
    if status != 200 or "mcp_" not in body:
        raise CheckFailed(f"GET /metrics answered {status} without mcp_ metrics")


@check(phase=1, title="a too-short key fails at start with one line", hint=RUN_SERVER)
def bad_key_fails_fast(ctx: Context) -> None:
    env = {"MCP_JWT_SECRET_KEY": "short", "MCP_PORT": str(free_port())}
    result = ctx.run(ctx.python, "-m", "app", env=env, check=False, timeout=60)
    lines = result.stderr.strip().splitlines()
    if result.returncode != 2 or len(lines) != 1 or "MCP_JWT_SECRET_KEY" not in lines[0]:
        raise CheckFailed(
            f"with a 5-byte key: exit {result.returncode}, stderr {last_lines(result.stderr)!r}; "
            "expected exit 2 and one line naming MCP_JWT_SECRET_KEY"
        )


@check(phase=1, title="SIGTERM drains and exits 0", hint=RUN_SERVER)
def server_stops_cleanly(ctx: Context) -> None:
    server = local_server(ctx)
    ctx.cache.pop("server")
    code = stop_process(server.process)
    if code != 0:
        raise CheckFailed(f"after SIGTERM the server exited with {code}, not 0")
