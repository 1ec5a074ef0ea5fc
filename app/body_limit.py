"""Bound every request body, on every route, before any handler reads a byte of it.

The outermost guard after the request metrics. It reads the body itself and
hands the application a replay, so no handler (ours, FastMCP's OAuth routes,
Starlette's form parser) ever holds more than MAX_BODY_BYTES of one request:

- a Content-Length above the limit is refused at once, unread (413);
- a body that grows past the limit as it streams in (chunked, or a lying
  Content-Length) is refused at the first byte too many (413);
- a body that stops arriving is cut off: each piece must come within the
  body timeout (MCP_REQUEST_BODY_TIMEOUT_SECONDS) and the whole body within
  BODY_DEADLINE_FACTOR times that (408).

Reading a body before the token is checked means anyone can make the server
hold up to 1 MiB per connection; the bodies held at once are bounded too
(MAX_BUFFERED_BYTES per process): past it, a request is 503 with Retry-After
instead of growing the process towards its memory limit.

Refusals carry `Connection: close`: uvicorn then closes the connection instead
of reading (or waiting for) the rest. uvicorn pauses reading the socket while
a request's unread body exceeds its 64 KiB high-water mark, so what the client
keeps sending stays in the kernel's buffers, not in this process.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

from app.asgi import Refusal, error_body, header, replay

# MCP messages here are a few KiB (tool calls, OAuth registrations and forms);
# 1 MiB leaves room for any real client and bounds 100 requests in flight to
# 100 MiB, within the chart's memory limit.
MAX_BODY_BYTES = 1024 * 1024
BODY_DEADLINE_FACTOR = 6
# Bodies held at once, per process: 64 concurrent full-size bodies, a quarter
# of the chart's 256Mi limit (each is held a few times over while parsed).
MAX_BUFFERED_BYTES = 64 * MAX_BODY_BYTES


class _TooLarge(Exception):
    pass


class _ClientGone(Exception):
    pass


class _Busy(Exception):
    pass


def _refusal(status: int, error: str, description: str) -> Refusal:
    return Refusal(status, error_body(error, description), {"Connection": "close"})


def _declared_length(scope: Scope) -> int | None:
    value = header(scope, "content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None  # uvicorn's parser refuses such a request before it gets here


class BoundedBody:
    """413 for a body over `max_bytes`, 408 for one that stops arriving; the app gets a replay."""

    def __init__(
        self,
        app: ASGIApp,
        timeout_seconds: float,
        max_bytes: int = MAX_BODY_BYTES,
        max_buffered: int = MAX_BUFFERED_BYTES,
    ) -> None:
        self.app = app
        self.timeout = timeout_seconds
        self.max_bytes = max_bytes
        self.max_buffered = max_buffered
        self.buffered = 0  # body bytes held right now by requests in flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held = [0]  # what this request adds to self.buffered, given back when it ends
        try:
            body = await self._read_or_refuse(scope, receive, send, held)
            if body is not None:
                await self.app(scope, replay(body, receive), send)
        finally:
            self.buffered -= held[0]

    async def _read_or_refuse(
        self, scope: Scope, receive: Receive, send: Send, held: list[int]
    ) -> bytes | None:
        """The whole body, or None once a refusal has been sent."""
        declared = _declared_length(scope)
        try:
            if declared is not None and declared > self.max_bytes:
                raise _TooLarge
            return await self._read(receive, held)
        except _TooLarge:
            refusal = _refusal(
                413, "request_too_large", f"the request body is larger than {self.max_bytes} bytes"
            )
        except TimeoutError:
            refusal = _refusal(
                408,
                "request_timeout",
                f"the request body did not arrive in time (each part within {self.timeout:g} s)",
            )
        except _ClientGone:
            # Nobody reads this answer (uvicorn drops it); it gives the log line a status.
            refusal = _refusal(
                400, "incomplete_request", "the client disconnected before its body arrived"
            )
        except _Busy:
            refusal = _refusal(
                503,
                "server_busy",
                "the server holds as many request bodies as it may; retry shortly",
            )
            refusal.headers["Retry-After"] = "1"
        await refusal(scope, receive, send)
        return None

    async def _read(self, receive: Receive, held: list[int]) -> bytes:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout * BODY_DEADLINE_FACTOR
        chunks: list[bytes] = []
        size = 0
        while True:
            wait = min(self.timeout, deadline - loop.time())
            if wait <= 0:
                raise TimeoutError
            message = await asyncio.wait_for(receive(), wait)
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise _TooLarge
            if self.buffered + len(chunk) > self.max_buffered:
                raise _Busy
            self.buffered += len(chunk)
            held[0] += len(chunk)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
