"""A per-subject budget on the MCP route, answering 429 with Retry-After.

In memory (this module's token bucket) the budget is per replica: with N
replicas a subject gets up to N times the budget. With
MCP_RATE_LIMIT_STORAGE_URL it is counted in Redis, one budget across replicas
(app/shared_limits.py).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from starlette.types import ASGIApp, Receive, Scope, Send

from app.asgi import too_many_requests
from app.metrics import count_decision

if TYPE_CHECKING:
    from app.shared_limits import Limiter

MAX_TRACKED_KEYS = 10_000


class TokenBucket:
    """`per_minute` requests per minute per key, with bursts up to `per_minute`."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, updated)

    def _tokens(self, key: str, now: float) -> float:
        tokens, updated = self._buckets.get(key, (self.capacity, now))
        return min(self.capacity, tokens + (now - updated) * self.rate)

    def wait(self, key: str, now: float | None = None) -> float:
        """Seconds until `key` may spend a token (0 if it may now), spending nothing."""
        now = time.monotonic() if now is None else now
        tokens = self._tokens(key, now)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def take(self, key: str, now: float | None = None) -> float:
        """Spend one token for `key`; return 0 if allowed, else seconds until one is free."""
        now = time.monotonic() if now is None else now
        tokens = self._tokens(key, now)
        if tokens >= 1:
            self._remember(key, tokens - 1, now)
            return 0.0
        self._remember(key, tokens, now)
        return (1 - tokens) / self.rate

    def _remember(self, key: str, tokens: float, now: float) -> None:
        # Re-inserting keeps the dict ordered from least to most recently used, so
        # when it is full the key forgotten is the idlest (likely refilled anyway).
        self._buckets.pop(key, None)
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > MAX_TRACKED_KEYS:
            del self._buckets[next(iter(self._buckets))]


class LocalLimiter:
    """A TokenBucket behind the questions every limiter answers (app.shared_limits.Limiter)."""

    def __init__(self, per_minute: int) -> None:
        self.bucket = TokenBucket(per_minute)

    async def wait(self, key: str) -> float:
        return self.bucket.wait(key)

    async def take(self, key: str) -> float:
        return self.bucket.take(key)


class RateLimit:
    """Apply a limiter (default: an in-memory TokenBucket) to each request's subject."""

    def __init__(self, app: ASGIApp, per_minute: int, limiter: Limiter | None = None) -> None:
        self.app = app
        self.limiter = limiter or (LocalLimiter(per_minute) if per_minute > 0 else None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        if self.limiter is not None and isinstance(user, AuthenticatedUser):
            key = user.access_token.subject or user.access_token.client_id
            wait = await self.limiter.take(key)
            if wait > 0:
                count_decision("denied", "rate_limited")
                refusal = too_many_requests(
                    "rate_limited", "too many requests; retry in {seconds} s", wait
                )
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)
