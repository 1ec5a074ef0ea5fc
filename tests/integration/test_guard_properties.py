"""A differential property test: generated requests against the real server process.

Hypothesis varies what an attacker controls (path spelling, body encoding and
escapes, batches, duplicate keys, nesting, protocol and routing headers,
Origin) and checks the promises that must hold for every one of them:

- no response is a 5xx;
- a token without confidential:read never receives the confidential document;
- a request that reaches a tool carries exactly one logged authorization
  decision per tools/call it holds.

Seeded (derandomize) and bounded (a few hundred examples, seconds), so it runs
in `make test` and fails the same way every time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.config import BUNDLED_DOCUMENTS
from tests.server_process import ServerProcess

CONFIDENTIAL = (BUNDLED_DOCUMENTS / "confidential.md").read_text().strip().splitlines()[0]
TOOLS = ["get_public_info", "get_confidential_info", "no_such_tool"]
ACCEPT = "application/json, text/event-stream"
METHODS = ["tools/call", "tools/list", "ping", "initialize", "Tools/call", "tools/call "]

PATHS = st.sampled_from(
    ["/mcp", "/%6Dcp", "/m%63p", "/mcp%0A", "/mcp%0D%0A", "/mcp%00", "/MCP", "/mcp/", "//mcp",
     "/mcp%2F", "/mcp%20", "/./mcp", "/mcp/..", "/%2e/mcp", "/mcp%09", "/mcp?x=%0A"]
)  # fmt: skip
ENCODINGS = st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-16", "utf-32", "utf-8-sig"])


def _escape_some(text: str, mask: list[bool]) -> str:
    """JSON text for `text` with the chosen characters written as \\uXXXX escapes."""
    return "".join(f"\\u{ord(ch):04x}" if mask[i % len(mask)] else ch for i, ch in enumerate(text))


@st.composite
def messages(draw: st.DrawFn) -> str:
    """One JSON-RPC message as JSON text, with escapes, duplicate keys or nesting drawn in."""
    method = draw(st.sampled_from(METHODS))
    tool = draw(st.sampled_from(TOOLS))
    mask = draw(st.lists(st.booleans(), min_size=1, max_size=6))
    depth = draw(st.sampled_from([0, 1, 10, 70, 3000]))
    arguments = "[" * depth + "]" * depth if depth else "{}"
    params = f'{{"name":"{_escape_some(tool, mask)}","arguments":{arguments}}}'
    members = [
        '"jsonrpc":"2.0"',
        f'"id":{draw(st.integers(0, 99))}',
        f'"method":"{_escape_some(method, mask)}"',
        f'"params":{params}',
    ]
    if draw(st.booleans()):  # a duplicate key, in front of or behind the real one
        decoy = '"method":"tools/list"' if method == "tools/call" else '"method":"tools/call"'
        members.insert(draw(st.integers(0, len(members))), decoy)
    return "{" + ",".join(members) + "}"


@st.composite
def bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    parts = draw(st.lists(messages(), min_size=1, max_size=3))
    text = parts[0] if len(parts) == 1 and draw(st.booleans()) else "[" + ",".join(parts) + "]"
    encoding = draw(ENCODINGS)
    return text.encode(encoding), text


@st.composite
def header_sets(draw: st.DrawFn) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    protocol = draw(st.sampled_from([None, "2025-11-25", "2026-07-28"]))
    if protocol:
        headers.append(("MCP-Protocol-Version", protocol))
        if protocol == "2026-07-28":
            for _ in range(draw(st.integers(0, 2))):
                headers.append(("Mcp-Method", draw(st.sampled_from(METHODS[:3]))))
            if draw(st.booleans()):
                headers.append(("Mcp-Name", draw(st.sampled_from(TOOLS))))
    allowed, evil = "http://localhost:3000", "https://evil.example"
    origins = draw(st.sampled_from([[], [allowed], [evil], [allowed, evil]]))
    headers.extend(("Origin", origin) for origin in origins)
    return headers


class LogReader:
    """The server's log lines written since the last read (the server runs unbuffered)."""

    def __init__(self, server: ServerProcess) -> None:
        self.file = server.log_path.open("rb")
        self.file.seek(0, 2)

    def request_entries(self) -> list[dict[str, Any]]:
        text = b""
        deadline = time.monotonic() + 30  # bounds a hang; a busy machine writes late
        while b'"message": "request"' not in text or not text.endswith(b"\n"):
            if time.monotonic() > deadline:
                raise AssertionError(f"the server wrote no request line: {text!r}")
            time.sleep(0.002)
            text += self.file.read()
        time.sleep(0.01)  # a batch's further decision lines follow at once
        text += self.file.read()
        return [json.loads(line) for line in text.splitlines() if line.startswith(b"{")]


@pytest.fixture(scope="module")
def target(start_server: Callable[..., ServerProcess]) -> Iterator[tuple[ServerProcess, LogReader]]:
    server = start_server(
        MCP_RATE_LIMIT_PER_MINUTE="0",
        MCP_AUTH_FAILURE_LIMIT_PER_MINUTE="0",
        PYTHONUNBUFFERED="1",
    )
    reader = LogReader(server)
    yield server, reader
    reader.file.close()


def _tool_calls(text: str) -> int:
    """How many tools/call messages the strict parser would find in `text` (0 if it refuses)."""
    try:
        value = json.loads(text, object_pairs_hook=_strict_pairs)
    except ValueError:
        return 0
    items = value if isinstance(value, list) else [value]
    return sum(1 for item in items if isinstance(item, dict) and item.get("method") == "tools/call")


def _strict_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len({key for key, _ in pairs}) != len(pairs):
        raise ValueError("duplicate keys")
    return dict(pairs)


def _tool_results(response: httpx.Response) -> int:
    try:
        value = response.json()
    except ValueError:
        return 0
    items = value if isinstance(value, list) else [value]
    return sum(
        1 for item in items if isinstance(item, dict) and "content" in (item.get("result") or {})
    )


@settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=PATHS,
    body=bodies(),
    headers=header_sets(),
    scopes=st.sampled_from([("public:read",), (), ("confidential:read",), None]),
)
def test_no_request_spelling_gets_past_the_guards(
    target: tuple[ServerProcess, LogReader],
    token_for: Callable[..., str],
    path: str,
    body: tuple[bytes, str],
    headers: list[tuple[str, str]],
    scopes: tuple[str, ...] | None,
) -> None:
    server, log = target
    raw, text = body
    request_headers = [("Content-Type", "application/json"), ("Accept", ACCEPT), *headers]
    if scopes is not None:
        request_headers.append(("Authorization", f"Bearer {token_for(*scopes, sub='prop')}"))
    response = httpx.post(f"{server.base_url}{path}", content=raw, headers=request_headers)
    entries = log.request_entries()

    assert response.status_code < 500, response.text
    if scopes is None or "confidential:read" not in scopes:
        assert CONFIDENTIAL not in response.text
    if _tool_results(response):
        decisions = [e for e in entries if e.get("event") == "authorization"]
        assert len(decisions) == _tool_calls(text), entries
