"""mcp-client on the answers besides a plain JSON success: 429 and event streams."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mcp_cli.client import McpClient, McpError
from tests.helpers import StubHandler, loopback_server
from tests.server_process import ServerProcess, run_cli


def test_a_rate_limited_client_is_told_when_to_retry(
    tmp_path: Path, signing_key: str, token_for: Callable[..., str]
) -> None:
    # One request a minute: initialize passes, the next request of the handshake is 429.
    server = ServerProcess(
        tmp_path, {"MCP_JWT_SECRET_KEY": signing_key, "MCP_RATE_LIMIT_PER_MINUTE": "1"}
    )
    try:
        result = run_cli("mcp-client", server.url, "--token", token_for("public:read"), "list")
    finally:
        server.stop()
    assert result.returncode == 1
    match = re.fullmatch(r"error: 429 Too Many Requests: retry after (\d+) s\n", result.stderr)
    assert match, result.stderr
    assert 1 <= int(match[1]) <= 60


# This server answers JSON (json_response=True); other MCP servers answer each POST
# with an event stream. This loopback stand-in answers as they do.
STREAMS: dict[str, bytes] = {
    "/two-events": (
        b'event: message\ndata: {"jsonrpc": "2.0", "id": 0, "result": {"partial": true}}\n\n'
        b'event: message\ndata: {"jsonrpc": "2.0", "id": 1, "result": {"tools": []}}\n\n'
    ),
    "/no-data": b": keep-alive\n\n",
}


@pytest.fixture(scope="module")
def streaming_url() -> Iterator[str]:
    class Handler(StubHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.answer(STREAMS[self.path], "text/event-stream; charset=utf-8")

    with loopback_server(Handler) as base:
        yield base


def test_an_event_stream_answer_is_its_last_data_line(streaming_url: str) -> None:
    client = McpClient(f"{streaming_url}/two-events", token=None)
    assert client.request("tools/list") == {"tools": []}


def test_an_event_stream_without_data_is_an_empty_response(streaming_url: str) -> None:
    client = McpClient(f"{streaming_url}/no-data", token=None)
    with pytest.raises(McpError, match=r"^tools/list: empty response$"):
        client.request("tools/list")
