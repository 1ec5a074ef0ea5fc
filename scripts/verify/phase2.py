"""Phase 2, tokens and scopes: each token sees and calls only what its scopes allow."""

from __future__ import annotations

import time

from app.catalog import TOOL_SCOPES

from .framework import CheckFailed, Context, check, declare_phase, last_lines
from .process import (
    EXPIRED,
    FORBIDDEN,
    UNAUTHORIZED,
    client,
    expect_error,
    expect_output,
    http_post,
    local_server,
    mint,
)

declare_phase(2, "02-auth.md")

AUTH = "docs/tutorial/02-auth.md; `make test` names the failing case"


@check(phase=2, title="a public:read token lists only get_public_info", hint=AUTH)
def public_token_lists_public_tool(ctx: Context) -> None:
    server = local_server(ctx)
    token = mint(ctx, server.key, "public:read")
    expect_output(client(ctx, f"{server.url}/mcp", token, "list"), ["get_public_info"], "list")


@check(phase=2, title="a public:read token reads the public document", hint=AUTH)
def public_token_calls_public_tool(ctx: Context) -> None:
    server = local_server(ctx)
    token = mint(ctx, server.key, "public:read")
    result = client(ctx, f"{server.url}/mcp", token, "call", "get_public_info")
    if result.returncode != 0 or not result.stdout.startswith("# "):
        raise CheckFailed(
            f"call get_public_info: exit {result.returncode}, {last_lines(result.stderr)}"
        )


@check(phase=2, title="a token with both scopes lists both tools", hint=AUTH)
def full_token_lists_both_tools(ctx: Context) -> None:
    server = local_server(ctx)
    token = mint(ctx, server.key, "public:read,confidential:read")
    expect_output(client(ctx, f"{server.url}/mcp", token, "list"), list(TOOL_SCOPES), "list")


@check(phase=2, title="a token with both scopes reads the confidential one", hint=AUTH)
def full_token_reads_confidential(ctx: Context) -> None:
    server = local_server(ctx)
    token = mint(ctx, server.key, "public:read,confidential:read")
    result = client(ctx, f"{server.url}/mcp", token, "call", "get_confidential_info")
    first = result.stdout.splitlines()[0] if result.stdout else ""
    if result.returncode != 0 or first != "# Secure MCP Server: confidential information":
        raise CheckFailed(f"call get_confidential_info: exit {result.returncode}, {first!r}")


@check(phase=2, title="a public:read token gets 403 for get_confidential_info", hint=AUTH)
def public_token_refused_confidential(ctx: Context) -> None:
    server = local_server(ctx)
    token = mint(ctx, server.key, "public:read")
    expect_error(
        client(ctx, f"{server.url}/mcp", token, "call", "get_confidential_info"),
        FORBIDDEN.format(scope=TOOL_SCOPES["get_confidential_info"]),
        "call get_confidential_info with public:read",
    )


@check(phase=2, title="no token gets 401", hint=AUTH)
def no_token_refused(ctx: Context) -> None:
    server = local_server(ctx)
    expect_error(client(ctx, f"{server.url}/mcp", "", "list"), UNAUTHORIZED, "list without a token")


@check(phase=2, title="an expired token gets 401", hint=AUTH)
def expired_token_refused(ctx: Context) -> None:
    server = local_server(ctx)
    token = mint(ctx, server.key, "public:read", expires_in=1)
    time.sleep(2.5)  # the verifier's server has no leeway
    expect_error(
        client(ctx, f"{server.url}/mcp", token, "list"), EXPIRED, "list with an expired token"
    )


@check(phase=2, title="a request from a foreign Origin gets 403", hint=AUTH)
def foreign_origin_refused(ctx: Context) -> None:
    server = local_server(ctx)
    token = mint(ctx, server.key, "public:read")
    headers = {"Origin": "https://evil.example", "Authorization": f"Bearer {token}"}
    status = http_post(f"{server.url}/mcp", b"{}", headers)
    if status != 403:
        raise CheckFailed(f"a request from Origin https://evil.example answered {status}")
