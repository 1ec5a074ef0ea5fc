"""Small ASGI helpers shared by the layers on the MCP route."""

from __future__ import annotations

import math

from starlette.responses import JSONResponse
from starlette.types import Message, Receive

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


def too_many_requests(error: str, description: str, wait: float) -> JSONResponse:
    """429 with an OAuth-style JSON error; `description` ends in "retry in N s"."""
    seconds = math.ceil(wait)
    return JSONResponse(
        {"error": error, "error_description": description.format(seconds=seconds)},
        status_code=429,
        headers={"Retry-After": str(max(1, seconds))},
    )
