"""A repeated MCP-Protocol-Version is refused, whichever copy comes first.

The scope gate reads the protocol version (which decides whether a JSON-RPC
batch is allowed) from the raw header list, where the last copy wins, while
Starlette's readers (and so the transport) take the first. That can never
decide anything only because a request that repeats a routing header is 400
before the transport sees it: this is the test of that, for single messages
and batches, old version first and new version first.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.app.test_scope_gate import PUBLIC, send, tool_call

OLD, NEW = b"2025-03-26", b"2025-06-18"  # batches allowed / not allowed


@pytest.mark.parametrize("versions", [(OLD, NEW), (NEW, OLD)], ids=["old-first", "new-first"])
@pytest.mark.parametrize(
    "value", [tool_call(PUBLIC), [tool_call(PUBLIC, 1), tool_call(PUBLIC, 2)]], ids=["one", "batch"]
)
async def test_a_repeated_protocol_version_is_400_whichever_copy_comes_first(
    value: Any, versions: tuple[bytes, bytes]
) -> None:
    headers = [(b"mcp-protocol-version", version) for version in versions]
    answer, downstream, _ = await send(value, headers=headers)
    assert answer.status == 400
    assert downstream.calls == []
