"""Where the limits count: this process's memory, or Redis shared by every replica.

The limits (the per-subject rate limit, app/rate_limit.py, the per-address
refused-token limit, app/failure_limit.py, and in sign-in mode the per-address
client registration limit, app/signin_pages.py) ask a `Limiter` two questions:
`wait(key)`, how long until `key` may spend one unit (spending nothing), and
`take(key)`, spend one (0 when allowed, else the seconds until one is free,
which becomes Retry-After).

- Unset MCP_RATE_LIMIT_STORAGE_URL: `LocalLimiter` (app/rate_limit.py), the
  token bucket in this process (one replica; N replicas give a subject N
  budgets). It stays rather than `limits`' own memory storage, which has no
  bound on its keys and expires them with a sweep that makes one thread hop
  per key: a client with many addresses could grow it and its sweep at will,
  where the bucket keeps at most 10,000 keys at O(1) per request.
- Set: `SharedLimiter`, the `limits` library's moving window in Redis. Every
  replica counts in the same window, so a subject has one budget however many
  pods serve it. Moving rather than sliding-window-counter: it is exact (the
  N+1st request in any 60 s is refused, on whichever pod), its Retry-After is
  when the oldest counted request leaves the window, and its cost, one list of
  at most N timestamps per key, is small for budgets of tens to hundreds.

When Redis does not answer, the shared limits fail open: the request is
served, `mcp_limit_storage_errors_total` counts it and a sampled warning is
logged (docs/security.md says why). After a failure the store is left alone
for BACKOFF_SECONDS so that an unreachable Redis costs one timeout, not one
per request.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any, Protocol

from limits import RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from app.logs import SampledLog
from app.metrics import LIMIT_STORAGE_ERRORS

log = logging.getLogger("app.shared_limits")

BACKOFF_SECONDS = 1.0
CLEAN_SECONDS = 1.0
MAX_CLEAN_KEYS = 10_000
KEY_PREFIX = "mcp-limits"


class Limiter(Protocol):
    async def wait(self, key: str) -> float: ...

    async def take(self, key: str) -> float: ...


class SharedStore:
    """One Redis connection pool for every limit of the process, and whether it is answering."""

    def __init__(self, storage: RedisStorage) -> None:
        self.storage = storage
        self.strategy = MovingWindowRateLimiter(storage)
        # redis-py's errors (connection, timeout, auth, TLS) and the socket's own.
        self.errors: tuple[type[Exception], ...] = (RedisError, OSError, TimeoutError)
        self._down_until = 0.0
        self._warning = SampledLog(
            log, "limit store unreachable, serving without the limit", "limits"
        )

    def usable(self) -> bool:
        return time.monotonic() >= self._down_until

    def failed(self, reason: str) -> None:
        """Count one request served without its limit; stop asking for a moment."""
        LIMIT_STORAGE_ERRORS.inc()
        if reason != "backing_off":
            self._down_until = time.monotonic() + BACKOFF_SECONDS
        self._warning.write(reason)


class SharedLimiter:
    """`per_minute` per key in a moving window in Redis, failing open.

    `wait` (asked before every request with credentials, by the refused-token
    limit) is the one question that can skip Redis: a key whose shared window
    was empty is remembered as clean for CLEAN_SECONDS, and forgotten the
    moment this replica records a refusal for it (`take`). So the common case,
    an address that sends good tokens, costs one Redis read a second per
    replica instead of one per request, and the bound stays close to exact:
    once other replicas have spent an address's budget, a replica that
    remembered it clean lets through the refused tokens it has in flight (one,
    for a client that waits for each answer) before it asks Redis again, and
    good tokens from that address for at most CLEAN_SECONDS.
    """

    def __init__(self, store: SharedStore, per_minute: int, name: str) -> None:
        self.store = store
        self.item = RateLimitItemPerMinute(per_minute)
        self.name = name  # keeps the limits' keys apart in the one store
        self._clean: dict[str, float] = {}  # key -> until when its window is known empty

    @staticmethod
    def _key(key: str) -> str:
        # Subjects are e-mail addresses: Redis holds a digest, not the person.
        return hashlib.sha256(key.encode()).hexdigest()[:32]

    async def wait(self, key: str) -> float:
        now = time.monotonic()
        if self._clean.get(key, 0.0) > now:
            return 0.0
        self._clean.pop(key, None)
        if not self.store.usable():
            self.store.failed("backing_off")
            return 0.0
        try:
            stats = await self.store.strategy.get_window_stats(self.item, self.name, self._key(key))
        except self.store.errors as exc:
            self.store.failed(type(exc).__name__)
            return 0.0
        if stats.remaining >= self.item.amount:
            self._remember_clean(key, now)
            return 0.0
        return 0.0 if stats.remaining > 0 else max(stats.reset_time - time.time(), 0.001)

    async def take(self, key: str) -> float:
        self._clean.pop(key, None)
        if not self.store.usable():
            self.store.failed("backing_off")
            return 0.0
        try:
            if await self.store.strategy.hit(self.item, self.name, self._key(key)):
                return 0.0
            # When the oldest request counted leaves the shared window.
            stats = await self.store.strategy.get_window_stats(self.item, self.name, self._key(key))
        except self.store.errors as exc:
            self.store.failed(type(exc).__name__)
            return 0.0
        return max(stats.reset_time - time.time(), 0.001)

    def _remember_clean(self, key: str, now: float) -> None:
        self._clean[key] = now + CLEAN_SECONDS
        if len(self._clean) > MAX_CLEAN_KEYS:
            del self._clean[next(iter(self._clean))]  # the oldest entry


def shared_store(url: str, options: dict[str, Any]) -> SharedStore:
    """The limits' Redis storage through redis-py, with app.redis_store's options.

    Each call opens a connection pool: a process builds one (app.http_app.limiters)
    and every limit of it counts there.
    """
    return SharedStore(
        RedisStorage(f"async+{url}", implementation="redispy", key_prefix=KEY_PREFIX, **options)
    )
