"""One JSON line per decision, and no token or key anywhere in the logs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

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


def _post(server: ServerProcess, token: str, body: bytes) -> httpx.Response:
    return httpx.post(
        server.url,
        content=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
        },
    )


def _calls(*tools: str) -> bytes:
    messages = [
        {"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {"name": tool}}
        for i, tool in enumerate(tools)
    ]
    return json.dumps(messages).encode()


def test_a_batch_is_one_line_with_its_decisions_aggregated(
    start_server: Callable[..., ServerProcess], token_for: Callable[..., str]
) -> None:
    server = start_server(MCP_RATE_LIMIT_PER_MINUTE="0")
    token = token_for("public:read", sub="batch-logs")
    mixed = _calls("no_such_tool", "get_public_info", "get_confidential_info")
    assert _post(server, token, mixed).status_code == 403
    _post(server, token, _calls(*["no_such_tool"] * 32))  # allowed by the gate, all 32
    server.stop()

    lines = [e for e in log_entries(server) if e.get("path") == "/mcp"]
    assert len(lines) == 2  # one request, one line, however many calls it holds
    denied, allowed = lines
    assert {
        "event": "authorization",
        "subject": "batch-logs",
        "tool": "get_confidential_info",
        "decision": "denied",
        "reason": "missing_scope",
    }.items() <= denied.items()
    assert denied["calls"] == [
        {"tool": "no_such_tool", "decision": "allowed", "reason": "unknown_tool"},
        {"tool": "get_public_info", "decision": "allowed", "reason": "scope_granted"},
        {"tool": "get_confidential_info", "decision": "denied", "reason": "missing_scope"},
    ]
    assert len(allowed["calls"]) == 32


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_a_lone_surrogate_never_costs_a_request_its_log_line(
    start_server: Callable[..., ServerProcess], token_for: Callable[..., str], log_format: str
) -> None:
    server = start_server(MCP_RATE_LIMIT_PER_MINUTE="0", MCP_LOG_FORMAT=log_format)
    named = b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get\\ud800"}}'
    assert _post(server, token_for("public:read"), named).status_code == 400
    # A signed claim can hold one too (its signer's choice): the call succeeds and is logged.
    odd_subject = token_for("public:read", sub="eve\ud800")
    assert _post(server, odd_subject, _calls("get_public_info")[1:-1]).status_code == 200
    server.stop()

    text = server.logs()
    assert "Logging error" not in text
    if log_format == "json":
        statuses = [e["status"] for e in log_entries(server) if e.get("path") == "/mcp"]
    else:
        statuses = [
            int(line.split("status=")[1].split()[0])
            for line in text.splitlines()
            if " request " in line and "path=/mcp " in line
        ]
    assert statuses == [400, 200]
    if log_format == "console":
        assert "subject=eve\\ud800" in text  # escaped, never written raw
