"""Refuse a tools/call the token lacks the scope for with HTTP 403 and a step-up challenge.

FastMCP hides such a tool from tools/list but answers a call to it with HTTP 200
"Unknown tool". The MCP authorization spec (runtime insufficient scope) asks for
403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope=...`, so
this layer judges every message of every POST before the transport sees it,
and hands the transport the very messages it judged (app.jsonrpc_body).
It sits on the MCP route after RequireToken, so the caller is authenticated.
"""

from __future__ import annotations

from typing import Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.shared.inbound import (
    MCP_METHOD_HEADER,
    MCP_NAME_HEADER,
    MCP_PROTOCOL_VERSION_HEADER,
    NAME_BEARING_METHODS,
    decode_header_value,
    find_duplicated_routing_header,
)
from mcp_types.jsonrpc import HEADER_MISMATCH, INVALID_REQUEST, PARSE_ERROR
from starlette.types import ASGIApp, Receive, Scope, Send

from app.asgi import DECISIONS_KEY, Refusal, read_body, replay
from app.catalog import TOOL_SCOPES
from app.challenges import challenge, describe_missing_scope
from app.jsonrpc_body import MAX_BODY_BYTES, BodyError, canonical, parse_off_loop
from app.metrics import count_decision

# JSON-RPC has no standard "forbidden" code; -32003 is the one MCP servers commonly use.
PERMISSION_DENIED = -32003
# JSON-RPC batches exist only in protocol 2025-03-26 (the version assumed when a
# client sends no MCP-Protocol-Version); from 2025-06-18 on a POST holds one
# message. Where they exist they are bounded, so one request is bounded work.
LAST_VERSION_WITH_BATCHES = "2025-03-26"
MAX_BATCH = 32


def _rpc_error(status: int, code: int, message: str, request_id: Any = None) -> Refusal:
    body = {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
    return Refusal(status, body)


def _header_mismatch(headers: list[tuple[str, str]], value: Any) -> str | None:
    """Why the 2026-07-28 routing headers disagree with the body, or None when they agree."""
    duplicated = find_duplicated_routing_header(headers)
    if duplicated is not None:
        return f"the {duplicated} header is sent more than once"
    named = dict(headers)
    if MCP_METHOD_HEADER not in named and MCP_NAME_HEADER not in named:
        return None
    if not isinstance(value, dict):
        return "routing headers need a single JSON-RPC message, not a batch"
    method = value.get("method")
    if named.get(MCP_METHOD_HEADER) != method:
        return f"the {MCP_METHOD_HEADER} header does not match the body's method"
    params = value.get("params")
    name_key = NAME_BEARING_METHODS.get(method) if isinstance(method, str) else None
    if (
        name_key is not None
        and isinstance(params, dict)
        and name_key in params
        and decode_header_value(named.get(MCP_NAME_HEADER)) != params[name_key]
    ):
        return f"the {MCP_NAME_HEADER} header does not match the body's {name_key!r}"
    return None


def _batch_refusal(headers: list[tuple[str, str]], value: Any) -> str | None:
    """Why this batch is refused, or None when `value` is no batch or an acceptable one."""
    if not isinstance(value, list):
        return None
    version = dict(headers).get(MCP_PROTOCOL_VERSION_HEADER, LAST_VERSION_WITH_BATCHES)
    if version > LAST_VERSION_WITH_BATCHES:  # ISO dates compare as strings
        return f"protocol {version[:20]} has no JSON-RPC batches: send one message per request"
    if len(value) > MAX_BATCH:
        return f"a batch holds at most {MAX_BATCH} messages"
    return None


def _tool_name(message: dict[str, Any]) -> str | None:
    params = message.get("params")
    name = params.get("name") if isinstance(params, dict) else None
    return name if isinstance(name, str) else None


class ScopeGate:
    """Per-tool authorization for every tools/call; each decision is counted and logged."""

    def __init__(self, app: ASGIApp, resource_metadata_url: str | None) -> None:
        self.app = app
        self.resource_metadata_url = resource_metadata_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        if scope["method"] != "POST" or not isinstance(user, AuthenticatedUser):
            await self.app(scope, receive, send)  # nothing to judge; RequireToken ran first
            return
        body = await read_body(receive, MAX_BODY_BYTES)
        try:
            if body is None:
                raise BodyError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
            value = await parse_off_loop(body)
        except BodyError as exc:
            await _rpc_error(exc.status, PARSE_ERROR, f"Parse error: {exc}")(scope, receive, send)
            return
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        refusal = _batch_refusal(headers, value)
        if refusal is not None:
            await _rpc_error(400, INVALID_REQUEST, refusal)(scope, receive, send)
            return
        mismatch = _header_mismatch(headers, value)
        if mismatch is not None:
            await _rpc_error(400, HEADER_MISMATCH, mismatch)(scope, receive, send)
            return

        granted = set(user.access_token.scopes)
        messages = value if isinstance(value, list) else [value]
        for message in messages:
            if not isinstance(message, dict) or message.get("method") != "tools/call":
                continue
            tool = _tool_name(message)
            needed = TOOL_SCOPES.get(tool or "")
            if needed is None:
                decision, reason = "allowed", "unknown_tool"  # FastMCP answers it
            elif needed in granted:
                decision, reason = "allowed", "scope_granted"
            else:
                decision, reason = "denied", "missing_scope"
            count_decision(decision, reason)
            # Logged on the request's own line by app.metrics.RequestMetrics.
            scope.setdefault(DECISIONS_KEY, []).append(
                {
                    "event": "authorization",
                    "subject": user.access_token.subject,
                    "scopes": sorted(granted),
                    "tool": tool,
                    "decision": decision,
                    "reason": reason,
                }
            )
            if needed is not None and decision == "denied":
                token = user.access_token
                description = describe_missing_scope(needed, token.subject, token.claims or {})
                deny = self._deny(message.get("id"), tool or "", needed, description)
                await deny(scope, receive, send)
                return
        await self.app(scope, replay(canonical(value), receive), send)

    def _deny(self, request_id: Any, tool: str, needed: str, description: str) -> Refusal:
        body = {
            "jsonrpc": "2.0",
            "id": request_id,
            "error": {
                "code": PERMISSION_DENIED,
                "message": f"Permission denied: {description} (tool '{tool}')",
                "data": {"tool": tool, "required_scope": needed},
            },
        }
        return challenge(
            403,
            "insufficient_scope",
            description,
            self.resource_metadata_url,
            scope=needed,
            body=body,
        )
