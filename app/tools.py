"""The MCP server and its two tools; each tool is visible only to tokens with its scope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastmcp import FastMCP
from fastmcp.server.auth import AuthProvider, require_scopes
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools import ToolResult
from mcp import types as mt

from app.metrics import TOOL_CALLS
from app.scopes import TOOL_SCOPES

INSTRUCTIONS = (
    "Reads the project's documents. get_public_info needs the public:read scope; "
    "get_confidential_info needs confidential:read."
)


class ToolCallMetrics(Middleware):
    """Count each tool call by tool and result (ok or error)."""

    async def on_call_tool(
        self,
        context: MiddlewareContext[mt.CallToolRequestParams],
        call_next: CallNext[mt.CallToolRequestParams, ToolResult],
    ) -> ToolResult:
        tool = context.message.name if context.message.name in TOOL_SCOPES else "other"
        try:
            result = await call_next(context)
        except Exception:
            TOOL_CALLS.labels(tool, "error").inc()
            raise
        TOOL_CALLS.labels(tool, "ok").inc()
        return result


def build_mcp(documents: Mapping[str, str], auth: AuthProvider | None) -> FastMCP[Any]:
    """Create the FastMCP server; `auth=None` only for the benchmark's no-auth baseline."""
    mcp: FastMCP[Any] = FastMCP("secure-mcp-server", instructions=INSTRUCTIONS, auth=auth)
    mcp.add_middleware(ToolCallMetrics())

    def guard(tool: str) -> Any:
        return require_scopes(TOOL_SCOPES[tool]) if auth is not None else None

    @mcp.tool(
        name="get_public_info",
        description="Return the project's public information document (markdown).",
        auth=guard("get_public_info"),
    )
    def get_public_info() -> str:
        return documents["public.md"]

    @mcp.tool(
        name="get_confidential_info",
        description="Return the project's confidential document (markdown).",
        auth=guard("get_confidential_info"),
    )
    def get_confidential_info() -> str:
        return documents["confidential.md"]

    return mcp
