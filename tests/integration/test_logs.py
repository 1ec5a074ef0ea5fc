"""One JSON line per decision, and no token or key anywhere in the logs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from tests.server_process import ServerProcess


def log_entries(server: ServerProcess) -> list[dict[str, Any]]:
    lines = [line for line in server.logs().splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line must be JSON


def call(server: ServerProcess, token: str, tool: str) -> httpx.Response:
    return httpx.post(
        server.url,
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool}},
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json, text/event-stream",
        },
    )


def test_each_decision_is_logged_and_no_secret_is(
    start_server: Callable[..., ServerProcess],
    token_for: Callable[..., str],
    signing_key: str,
) -> None:
    server = start_server(MCP_RATE_LIMIT_PER_MINUTE="0")
    public = token_for("public:read", sub="logs-public")
    full = token_for("public:read", "confidential:read", sub="logs-full")
    assert call(server, public, "get_confidential_info").status_code == 403
    assert call(server, full, "get_confidential_info").status_code == 200
    assert call(server, "forged." + public.split(".", 1)[1], "get_public_info").status_code == 401
    httpx.post(f"{server.url}?access_token={public}", json={})
    server.stop()

    entries = log_entries(server)
    decisions = [e for e in entries if e.get("event") == "authorization"]
    assert {
        "subject": "logs-public",
        "scopes": ["public:read"],
        "tool": "get_confidential_info",
        "decision": "denied",
        "reason": "missing_scope",
    }.items() <= decisions[0].items()
    assert {
        "subject": "logs-full",
        "scopes": ["confidential:read", "public:read"],
        "tool": "get_confidential_info",
        "decision": "allowed",
        "reason": "scope_granted",
    }.items() <= decisions[1].items()
    rejected = [e for e in entries if e.get("event") == "authentication"]
    assert {e["reason"] for e in rejected} >= {"malformed", "missing_token"}

    text = server.logs()
    for secret in (signing_key, public, full, public.split(".")[2], full.split(".")[2]):
        assert secret not in text
    assert "access_token" not in text  # the query string is never logged
