"""Refuse a tools/call the token lacks the scope for with HTTP 403 and a step-up challenge.

FastMCP hides such a tool from tools/list but answers a call to it with HTTP 200
"Unknown tool". The MCP authorization spec (runtime insufficient scope) asks for
403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope=...`, so
this middleware looks at each JSON-RPC message before FastMCP does. It runs
after authentication, so the verified AccessToken is already in the scope.
"""

from __future__ import annotations

import json
from typing import Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from starlette.types import ASGIApp, Receive, Scope, Send

from app.asgi import DECISIONS_KEY, read_body, replay, send_json
from app.metrics import count_decision
from app.scopes import TOOL_SCOPES

# JSON-RPC has no standard "forbidden" code; -32003 is the one MCP servers commonly use.
PERMISSION_DENIED = -32003


def _messages(body: bytes) -> list[dict[str, Any]]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return []  # not ours to judge: the MCP transport answers with a parse error
    items = parsed if isinstance(parsed, list) else [parsed]
    return [item for item in items if isinstance(item, dict)]


def _tool_name(message: dict[str, Any]) -> str | None:
    params = message.get("params")
    name = params.get("name") if isinstance(params, dict) else None
    return name if isinstance(name, str) else None


class ScopeGate:
    """Per-tool authorization for tools/call; each decision is counted and logged."""

    def __init__(self, app: ASGIApp, mcp_path: str, resource_metadata_url: str) -> None:
        self.app = app
        self.mcp_path = mcp_path
        self.resource_metadata_url = resource_metadata_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.mcp_path:
            await self.app(scope, receive, send)
            return
        user = scope.get("user")
        if not isinstance(user, AuthenticatedUser):
            # FastMCP answers 401 next; a rejected token was logged by the verifier.
            if b"authorization" not in dict(scope["headers"]):
                count_decision("denied", "missing_token")
                scope[DECISIONS_KEY] = [
                    {"event": "authentication", "decision": "denied", "reason": "missing_token"}
                ]
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            await self.app(scope, receive, send)
            return

        body = await read_body(receive)
        if body is None:
            await send_json(send, 413, {"error": "request body too large"})
            return
        granted = set(user.access_token.scopes)
        # Only tools/call needs a look inside; other bodies skip the JSON parse.
        # A backslash may hide the method behind a JSON escape ("tools\/call"), so parse then too.
        inspect = b"tools/call" in body or b"\\" in body
        for message in _messages(body) if inspect else []:
            if message.get("method") != "tools/call":
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
                await self._deny(send, message.get("id"), tool or "", needed)
                return
        await self.app(scope, replay(body, receive), send)

    async def _deny(self, send: Send, request_id: Any, tool: str, needed: str) -> None:
        description = f"Permission denied: tool '{tool}' requires the scope '{needed}'"
        challenge = (
            f'Bearer error="insufficient_scope", scope="{needed}", '
            f'resource_metadata="{self.resource_metadata_url}", '
            f'error_description="{description}"'
        )
        body = {
            "jsonrpc": "2.0",
            "id": request_id,
            "error": {
                "code": PERMISSION_DENIED,
                "message": description,
                "data": {"tool": tool, "required_scope": needed},
            },
        }
        await send_json(send, 403, body, [(b"www-authenticate", challenge.encode())])
