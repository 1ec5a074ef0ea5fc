"""mcp_tool_calls_total counts failed calls too, by tool, through FastMCP's real dispatch."""

from __future__ import annotations

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from prometheus_client import REGISTRY

from app.tools import build_mcp


def calls(tool: str, result: str) -> float:
    value = REGISTRY.get_sample_value("mcp_tool_calls_total", {"tool": tool, "result": result})
    return value or 0.0


async def test_ok_and_failed_calls_are_counted_by_tool() -> None:
    # In-memory client: the server's own dispatch and middleware, no HTTP (auth is
    # proven over HTTP in tests/integration).
    mcp = build_mcp({"public.md": "public", "confidential.md": "secret"}, auth=None)
    before = {
        key: calls(*key)
        for key in [("get_public_info", "ok"), ("get_public_info", "error"), ("other", "error")]
    }
    async with Client(mcp) as client:
        assert (await client.call_tool("get_public_info", {})).data == "public"
        with pytest.raises(ToolError, match="Unexpected keyword argument"):
            await client.call_tool("get_public_info", {"bogus": 1})
        with pytest.raises(ToolError, match="Unknown tool"):
            await client.call_tool("no_such_tool", {})
    assert calls("get_public_info", "ok") == before[("get_public_info", "ok")] + 1
    assert calls("get_public_info", "error") == before[("get_public_info", "error")] + 1
    assert calls("other", "error") == before[("other", "error")] + 1
