"""Small ASGI helpers shared by the guards: how a header is read, how a refusal is sent.

Headers: every guard reads a request header with `header_values` or `header`,
and the first copy of a repeated header is the one that counts, as in
Starlette's `Headers.get`, which FastMCP's bearer authentication uses. The
headers a security decision rests on are never ambiguous anyway: a request
with more than one `Authorization` is refused at the door
(app.headers.OneAuthorization) and one with more than one `Origin` by
app.origin.OriginGuard, so no two layers can read different copies (an
ingress that keeps the last and a server that keeps the first would disagree
about who is calling). The one reader of the raw header list is
app.scope_gate: the MCP SDK's `find_duplicated_routing_header` needs every
copy, and a request repeating any routing header (MCP-Protocol-Version,
Mcp-Method, Mcp-Name) is refused there, so which copy it reads never decides.

Refusals: every guard answers with a `Refusal` (status, JSON body, extra
headers such as WWW-Authenticate or Retry-After).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope

# Where the scope gate leaves its authorization decisions for the request log
# line (app.metrics), so a tools/call costs one log line, not two.
DECISIONS_KEY = "app.authorization_decisions"


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None when it is larger than `limit`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive channel that yields `body` once, then hands over to the real one."""
    pending = True

    async def replaying_receive() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replaying_receive


def header_values(scope: Scope, name: str) -> list[str]:
    """Every value of the request header `name` (lowercase), in the order sent."""
    raw = name.encode("latin-1")
    return [value.decode("latin-1") for key, value in scope["headers"] if key == raw]


def header(scope: Scope, name: str) -> str | None:
    """The request header `name` (lowercase): its first copy, or None when absent."""
    values = header_values(scope, name)
    return values[0] if values else None


def error_body(error: str, description: str | None = None) -> dict[str, Any]:
    """The OAuth-style JSON error (RFC 6749 5.2) most refusals carry."""
    if description is None:
        return {"error": error}
    return {"error": error, "error_description": description}


class Refusal(JSONResponse):
    """A guard's answer: `status`, a JSON `body`, and any headers saying what to do next."""

    def __init__(
        self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(dict(body), status_code=status, headers=headers)


def too_many_requests(error: str, description: str, wait: float) -> Refusal:
    """429 with an OAuth-style JSON error; `description` ends in "retry in N s"."""
    seconds = math.ceil(wait)
    return Refusal(
        429,
        error_body(error, description.format(seconds=seconds)),
        {"Retry-After": str(max(1, seconds))},
    )
