"""The MCP server and its tools, one per app/catalog.py entry, each visible only with its scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastmcp import FastMCP
from fastmcp.server.auth import AuthProvider, require_scopes
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools import ToolResult
from mcp import types as mt

from app.catalog import INSTRUCTIONS, TOOL_SCOPES, TOOLS, Tool
from app.metrics import count_tool_call


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
            count_tool_call(tool, "error")
            raise
        count_tool_call(tool, "ok")
        return result


def _reader(text: str) -> Callable[[], Awaitable[str]]:
    # async: a plain def would hop to a worker thread on every call for a
    # function that only returns a string already in memory.
    async def read() -> str:
        return text

    return read


def build_mcp(documents: Mapping[str, str], auth: AuthProvider | None) -> FastMCP[Any]:
    """Create the FastMCP server with one tool per catalog entry, each behind its scope."""
    mcp: FastMCP[Any] = FastMCP(
        "secure-mcp-server",
        instructions=INSTRUCTIONS,
        auth=auth,
        # Its middleware inlines $ref in listed schemas; ours have none (the
        # tools take no arguments and return text), yet it sat in every call's chain.
        dereference_schemas=False,
    )
    mcp.add_middleware(ToolCallMetrics())
    tool: Tool
    for tool in TOOLS:
        mcp.tool(
            _reader(documents[tool.document]),
            name=tool.name,
            description=tool.description,
            auth=require_scopes(tool.scope) if auth is not None else None,
        )
    return mcp
