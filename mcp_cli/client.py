"""Talk to the MCP server over Streamable HTTP with a bearer token.

Does the real MCP handshake (initialize, then notifications/initialized) and
then lists the tools the token may see, or calls one and prints its text.
Standard library only: the server's package is not needed to talk to it.

Exit codes: 0 when the server answered (a token whose scopes grant no tool
lists nothing, says so on stderr, and still exits 0); 1 on any refusal or error.

Examples:
  mcp-client http://127.0.0.1:8080/mcp --token "$TOKEN" list
  mcp-client http://127.0.0.1:8080/mcp --token "$TOKEN" call get_public_info
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

PROTOCOL_VERSION = "2025-11-25"
CLIENT_INFO = {"name": "mcp-client", "version": "1.0"}
NO_TOOLS = (
    "note: this token sees no tools: its scopes grant none. Mint one with a tool's scope, "
    "e.g. make token SCOPES=public:read"
)


class McpError(Exception):
    """A refused or failed request, described in one line."""


def _challenge_field(challenge: str, field: str) -> str | None:
    marker = f'{field}="'
    start = challenge.find(marker)
    if start < 0:
        return None
    start += len(marker)
    return challenge[start : challenge.find('"', start)]


def _describe_refusal(error: urllib.error.HTTPError) -> str:
    challenge = error.headers.get("WWW-Authenticate", "")
    # The server says why in the challenge (RFC 6750 error_description); show its words.
    reason = _challenge_field(challenge, "error_description")
    if error.code == 401:
        return f"401 Unauthorized: {reason or 'the token is missing, invalid or expired'}"
    if error.code == 403 and "insufficient_scope" in challenge:
        reason = reason or f"the call needs the scope {_challenge_field(challenge, 'scope')}"
        return f"403 Forbidden: insufficient_scope, {reason}"
    if error.code == 429:
        return f"429 Too Many Requests: retry after {error.headers.get('Retry-After')} s"
    body = error.read().decode(errors="replace")[:200]
    return f"{error.code} {error.reason}: {body}"


def _parse_body(content_type: str, raw: bytes) -> dict[str, Any] | None:
    if not raw:
        return None
    if content_type.startswith("text/event-stream"):
        data = [line[5:].strip() for line in raw.decode().splitlines() if line.startswith("data:")]
        return json.loads(data[-1]) if data else None
    parsed: dict[str, Any] = json.loads(raw)
    return parsed


class McpClient:
    """One MCP session over HTTP POSTs: `initialize()`, then `list_tools()` / `call_tool()`."""

    def __init__(self, url: str, token: str | None, timeout: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise McpError(f"{url} is not an http(s) URL")
        self.url = url
        self.token = token
        self.timeout = timeout
        self.session_id: str | None = None
        self._next_id = 0

    def _post(self, message: dict[str, Any]) -> dict[str, Any] | None:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": PROTOCOL_VERSION,
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.session_id:
            headers["Mcp-Session-Id"] = self.session_id
        # The URL scheme is checked in __init__: only http(s) reaches urllib.
        request = urllib.request.Request(  # noqa: S310
            self.url, data=json.dumps(message).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                self.session_id = response.headers.get("Mcp-Session-Id") or self.session_id
                return _parse_body(response.headers.get("Content-Type", ""), response.read())
        except urllib.error.HTTPError as exc:
            raise McpError(_describe_refusal(exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise McpError(f"cannot reach {self.url}: {reason}") from None

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._next_id += 1
        reply = self._post(
            {"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params or {}}
        )
        if reply is None:
            raise McpError(f"{method}: empty response")
        if "error" in reply:
            raise McpError(f"{method}: {reply['error'].get('message', reply['error'])}")
        result: dict[str, Any] = reply["result"]
        return result

    def initialize(self) -> dict[str, Any]:
        result = self.request(
            "initialize",
            {"protocolVersion": PROTOCOL_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO},
        )
        self._post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return result

    def list_tools(self) -> list[dict[str, Any]]:
        tools: list[dict[str, Any]] = self.request("tools/list")["tools"]
        return tools

    def call_tool(self, name: str, arguments: dict[str, Any] | None = None) -> str:
        result = self.request("tools/call", {"name": name, "arguments": arguments or {}})
        text = "\n".join(
            item["text"] for item in result.get("content", []) if item.get("type") == "text"
        )
        if result.get("isError"):
            raise McpError(f"tool {name} failed: {text}")
        return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcp-client", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url", help="the MCP endpoint, e.g. http://127.0.0.1:8080/mcp")
    parser.add_argument(
        "--token", default=os.environ.get("MCP_TOKEN"), help="bearer token (default: $MCP_TOKEN)"
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("list", help="print the names of the tools this token may use (default)")
    call = commands.add_parser("call", help="call a tool and print its text")
    call.add_argument("tool", help="tool name, e.g. get_public_info")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    try:
        client = McpClient(args.url, args.token)
        client.initialize()
        if args.command == "call":
            print(client.call_tool(args.tool))
        else:
            tools = client.list_tools()
            for tool in tools:
                print(tool["name"])
            if not tools:
                # Not an error (the server answered), but an empty list reads as one.
                print(NO_TOOLS, file=sys.stderr)
    except McpError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader (e.g. `| head -1`) has enough; that is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
