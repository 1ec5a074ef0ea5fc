"""A per-subject token bucket in front of /mcp, answering 429 with Retry-After.

The budget is per replica (state is in memory): with N replicas a subject gets
up to N times the budget. That bounds abuse of one pod without shared state.
"""

from __future__ import annotations

import math
import time

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from starlette.types import ASGIApp, Receive, Scope, Send

from app.asgi import send_json
from app.metrics import count_decision

MAX_TRACKED_SUBJECTS = 10_000


class TokenBucket:
    """`per_minute` requests per minute per key, with bursts up to `per_minute`."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, updated)

    def take(self, key: str, now: float | None = None) -> float:
        """Spend one token for `key`; return 0 if allowed, else seconds until one is free."""
        now = time.monotonic() if now is None else now
        tokens, updated = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - updated) * self.rate)
        if tokens >= 1:
            self._remember(key, tokens - 1, now)
            return 0.0
        self._remember(key, tokens, now)
        return (1 - tokens) / self.rate

    def _remember(self, key: str, tokens: float, now: float) -> None:
        if len(self._buckets) >= MAX_TRACKED_SUBJECTS and key not in self._buckets:
            # Forget subjects whose bucket has refilled: they would start full anyway.
            full_after = self.capacity / self.rate
            self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}
        self._buckets[key] = (tokens, now)


class RateLimit:
    """Apply a TokenBucket to authenticated requests to the MCP endpoint."""

    def __init__(self, app: ASGIApp, mcp_path: str, per_minute: int) -> None:
        self.app = app
        self.mcp_path = mcp_path
        self.bucket = TokenBucket(per_minute) if per_minute > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        if (
            self.bucket is not None
            and scope["type"] == "http"
            and scope["path"] == self.mcp_path
            and isinstance(user, AuthenticatedUser)
        ):
            wait = self.bucket.take(user.access_token.subject or user.access_token.client_id)
            if wait > 0:
                count_decision("denied", "rate_limited")
                retry_after = str(max(1, math.ceil(wait))).encode()
                await send_json(
                    send,
                    429,
                    {"error": "rate_limited", "error_description": "too many requests"},
                    [(b"retry-after", retry_after)],
                )
                return
        await self.app(scope, receive, send)
