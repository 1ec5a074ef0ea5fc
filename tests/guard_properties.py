"""What the guard-chain property tests generate, and the promises they check on every answer.

Hypothesis varies what an attacker controls (route and path spelling, method,
content type, body encoding and escapes, batches, duplicate keys, nesting,
protocol and routing headers, Origin, the token) and every answer of the real
server process must keep these promises:

- no response is a 5xx;
- a token without confidential:read never receives the confidential document;
- a request that reaches a tool carries, on its one log line, exactly one
  authorization decision per tools/call it holds.

Used against shared-key mode (tests/integration/test_guard_properties.py) and
sign-in mode with the real OIDC test provider (tests/signin/test_signin_guard_properties.py).
"""

from __future__ import annotations

import json
import time
from itertools import count
from typing import Any

import httpx
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st

from app.config import BUNDLED_DOCUMENTS
from tests.server_process import ServerProcess

CONFIDENTIAL = (BUNDLED_DOCUMENTS / "confidential.md").read_text().strip().splitlines()[0]
TOOLS = ["get_public_info", "get_confidential_info", "no_such_tool"]
ACCEPT = "application/json, text/event-stream"
METHODS = ["tools/call", "tools/list", "ping", "initialize", "Tools/call", "tools/call "]

MCP_SPELLINGS = [
    "/mcp", "/%6Dcp", "/m%63p", "/mcp%0A", "/mcp%0D%0A", "/mcp%00", "/MCP", "/mcp/", "//mcp",
    "/mcp%2F", "/mcp%20", "/./mcp", "/mcp/..", "/%2e/mcp", "/mcp%09", "/mcp?x=%0A",
]  # fmt: skip
# Every other route either mode serves (and some it does not), spelled plainly or oddly.
OTHER_ROUTES = [
    "/register", "/token", "/authorize", "/consent", "/revoke", "/auth/callback",
    "/health", "/ready", "/metrics", "/.well-known/oauth-protected-resource",
    "/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server",
    "/register%0A", "/%72egister", "/token/", "/nowhere",
]  # fmt: skip
OAUTH_ROUTES = ["/register", "/token", "/authorize", "/consent"]
PATHS = st.one_of(st.sampled_from(MCP_SPELLINGS), st.sampled_from(OTHER_ROUTES))
HTTP_METHODS = st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE", "OPTIONS"])
CONTENT_TYPES = st.sampled_from(
    ["application/json", "application/json", "text/plain", "application/x-www-form-urlencoded",
     "multipart/form-data; boundary=x", "application/json; charset=utf-16", None]
)  # fmt: skip
ENCODINGS = st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-16", "utf-32", "utf-8-sig"])

PROPERTY_SETTINGS = settings(
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


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
    request_id = draw(st.sampled_from(["1", "42", "7", "1e400", '"\\ud800"', "-0.5", '"x"']))
    members = [
        '"jsonrpc":"2.0"',
        f'"id":{request_id}',
        f'"method":"{_escape_some(method, mask)}"',
        f'"params":{params}',
    ]
    if draw(st.booleans()):  # a duplicate key, in front of or behind the real one
        decoy = '"method":"tools/list"' if method == "tools/call" else '"method":"tools/call"'
        members.insert(draw(st.integers(0, len(members))), decoy)
    return "{" + ",".join(members) + "}"


@st.composite
def oauth_bodies(draw: st.DrawFn) -> str:
    """What an OAuth route might be sent: registrations, forms, and nesting in either."""
    depth = draw(st.sampled_from([0, 70, 5000]))
    nested = "[" * depth + "]" * depth if depth else '"public:read"'
    return draw(
        st.sampled_from(
            [
                f'{{"redirect_uris":["http://127.0.0.1:5/cb"],"scope":{nested}}}',
                f"grant_type=authorization_code&code={nested}&scope=public:read",
                f'{{"client_id":"x","token":{nested},"token":"dup"}}',
                "scope=public%3Aread%20confidential%3Aread&action=approve",
            ]
        )
    )


@st.composite
def rpc_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    parts = draw(st.lists(messages(), min_size=1, max_size=3))
    text = parts[0] if len(parts) == 1 and draw(st.booleans()) else "[" + ",".join(parts) + "]"
    return text.encode(draw(ENCODINGS)), text


@st.composite
def any_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    if draw(st.booleans()):
        return draw(rpc_bodies())
    text = draw(oauth_bodies())
    return text.encode(draw(ENCODINGS)), text


Request = tuple[str, str, tuple[bytes, str], list[tuple[str, str]]]


@st.composite
def requests(draw: st.DrawFn) -> Request:
    """A quarter each: well-formed tool calls (so the decision promise is tested),
    fuzz aimed at the MCP route, bodies for the OAuth routes, anything anywhere."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        tool = draw(st.sampled_from(TOOLS))
        mask = draw(st.lists(st.booleans(), min_size=1, max_size=6))
        request_id = draw(st.sampled_from(["1", "7", "1e400", '"\\ud800"']))
        text = (
            f'{{"jsonrpc":"2.0","id":{request_id},"method":"tools/call",'
            f'"params":{{"name":"{_escape_some(tool, mask)}","arguments":{{}}}}}}'
        )
        path = draw(st.sampled_from(["/mcp", "/%6Dcp", "/m%63p"]))
        origin = draw(st.sampled_from([[], [("Origin", "http://localhost:3000")]]))
        return "POST", path, (text.encode(), text), [("Content-Type", "application/json"), *origin]
    if kind == 1:
        path = draw(st.sampled_from(MCP_SPELLINGS))
        headers = [("Content-Type", "application/json"), *draw(header_sets())]
        return "POST", path, draw(rpc_bodies()), headers
    headers = draw(header_sets())
    content_type = draw(CONTENT_TYPES)
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    if kind == 2:
        text = draw(oauth_bodies())
        return "POST", draw(st.sampled_from(OAUTH_ROUTES)), (text.encode(), text), headers
    return draw(HTTP_METHODS), draw(PATHS), draw(any_bodies()), headers


@st.composite
def header_sets(draw: st.DrawFn) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    protocol = draw(st.sampled_from([None, "2025-03-26", "2025-11-25", "2026-07-28"]))
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
    """Finds the one log line of a request by the User-Agent it was sent with (unbuffered)."""

    def __init__(self, server: ServerProcess) -> None:
        self.file = server.log_path.open("rb")
        self.file.seek(0, 2)
        self.seen: dict[str, dict[str, Any]] = {}
        self.pending = b""
        self._agents = count()

    def next_agent(self) -> str:
        return f"property-{next(self._agents)}"

    def entry(self, agent: str) -> dict[str, Any]:
        deadline = time.monotonic() + 10
        while agent not in self.seen:
            if time.monotonic() > deadline:
                raise AssertionError(f"the server wrote no request line for {agent}")
            self.pending += self.file.read()
            *lines, self.pending = self.pending.split(b"\n")
            for line in lines:
                if line.startswith(b"{"):
                    entry = json.loads(line)
                    key = entry.get("httpRequest", {}).get("userAgent")
                    if key is not None:
                        assert key not in self.seen, f"a second line for one request: {entry}"
                        self.seen[key] = entry
            time.sleep(0.002)
        return self.seen[agent]


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


def _decisions(entry: dict[str, Any]) -> int:
    if entry.get("event") != "authorization":
        return 0
    return len(entry["calls"]) if "calls" in entry else 1


def check_guarded(
    server: ServerProcess,
    log: LogReader,
    request: Request,
    token: str | None,
    may_read_confidential: bool,
) -> None:
    """Send one generated request and check every promise on its answer and its log line."""
    method, path, (raw, text), headers = request
    agent = log.next_agent()
    request_headers = [("Accept", ACCEPT), ("User-Agent", agent), *headers]
    if token is not None:
        request_headers.append(("Authorization", f"Bearer {token}"))
    response = httpx.request(
        method, f"{server.base_url}{path}", content=raw, headers=request_headers, timeout=30
    )

    event(f"status {response.status_code}")  # --hypothesis-show-statistics: what was reached
    assert response.status_code < 500, response.text
    if not may_read_confidential:
        assert CONFIDENTIAL not in response.text
    if _tool_results(response):
        event("reached a tool")
        assert _decisions(log.entry(agent)) == _tool_calls(text), log.entry(agent)
