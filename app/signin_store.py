"""Sign-in's state in Redis, and a clear 503 when Redis does not answer.

The OAuth proxy keeps registered clients, flows in progress and the mapping
from its tokens to the upstream ones in MCP_OAUTH_STORAGE_URL. Without that
state, nothing of sign-in can be answered correctly, and failing open is not
an option (it would mean accepting tokens unchecked). So every store
operation that fails raises `StoreUnavailable`, counted in
`mcp_oauth_storage_errors_total`, and `StoreUnavailableAs503` turns it into
`503 {"error": "temporarily_unavailable", ...}` with Retry-After, on the OAuth
routes and for sign-in tokens on /mcp. Static tokens never touch the store and
keep working. redis_store's timeouts bound how long the answer takes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from contextvars import ContextVar
from typing import TypeVar

from key_value.aio.protocols import AsyncKeyValue
from key_value.aio.stores.redis import RedisStore
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.asgi import Refusal, error_body
from app.config import Settings
from app.logs import SampledLog
from app.metrics import OAUTH_STORAGE_ERRORS
from app.redis_store import async_client
from app.store_wrapper import StoreWrapper

log = logging.getLogger("app.signin_store")

RETRY_AFTER_SECONDS = 5
T = TypeVar("T")


class StoreUnavailable(Exception):
    """The sign-in store did not answer; the request gets 503."""


class _Failed:
    """Set when a store operation failed during the request (shared by copied contexts)."""

    seen = False


_failed_here: ContextVar[_Failed | None] = ContextVar("signin_store_failed", default=None)


class _FailLoudly(StoreWrapper):
    """Every failed store operation counted, logged (sampled) and raised as StoreUnavailable."""

    def __init__(self, key_value: AsyncKeyValue) -> None:
        super().__init__(key_value)
        self._warning = SampledLog(log, "sign-in store unreachable, answering 503", "redis")

    async def _run(self, operation: Awaitable[T]) -> T:
        # The wrapped store is Redis only, so any failure in it is the store's.
        try:
            return await operation
        except Exception as exc:
            OAUTH_STORAGE_ERRORS.inc()
            failed = _failed_here.get()
            if failed is not None:
                failed.seen = True
            self._warning.write(type(exc).__name__)
            raise StoreUnavailable(type(exc).__name__) from exc


def redis_state_store(settings: Settings, url: str) -> AsyncKeyValue:
    """Sign-in's Redis store, with the password, CA and timeouts of app.redis_store."""
    # The store reads values as text, as its own URL constructor sets the client up.
    return _FailLoudly(RedisStore(client=async_client(settings, url, decode_responses=True)))


class StoreUnavailableAs503:
    """A request the store failed gets a JSON 503, never a 500 or a misleading 401.

    The store failure may surface as the exception, or be swallowed on the way:
    FastMCP's proxy turns any error while loading a token into "no token"
    (which would be a 401 telling a signed-in client its token is bad). So the
    store marks the request (`_failed_here`) and an error answer of a marked
    request is replaced by the 503; a success is left alone.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        failed = _Failed()
        token = _failed_here.set(failed)
        state = {"started": False, "replaced": False}

        async def checking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
                if failed.seen and message["status"] >= 400:
                    state["replaced"] = True
                    await _unavailable(scope, receive, send)
                    return
            if not state["replaced"]:
                await send(message)

        try:
            await self.app(scope, receive, checking_send)
        except StoreUnavailable:
            if state["started"]:
                raise
            await _unavailable(scope, receive, send)
        finally:
            _failed_here.reset(token)


async def _unavailable(scope: Scope, receive: Receive, send: Send) -> None:
    response = Refusal(
        503,
        error_body(
            "temporarily_unavailable",
            "the sign-in store is unreachable; static tokens "
            f"still work; retry in {RETRY_AFTER_SECONDS} s",
        ),
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
    await response(scope, receive, send)
