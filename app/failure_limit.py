"""Bound failed authentications per client address, before any token is verified.

Every request's authentication is tracked (app.auth.track_attempt); a request
whose bearer token the verifier refused spends one unit of its address's budget.
Once the budget is spent, requests from that address that carry credentials
get 429 with Retry-After without being verified, until the budget refills.
Requests without credentials (probes, metadata) are never held back.

The address is the TCP peer, or the client a trusted proxy names in
X-Forwarded-For (MCP_FORWARDED_ALLOW_IPS; uvicorn rewrites the peer before this
layer sees it). Behind an untrusted proxy or `kubectl port-forward` every client
shares the proxy's address, so the budget is per proxy there. The count is in
this process, or shared by replicas in Redis (app/shared_limits.py).
This layer wraps the whole app, so no path spelling can avoid it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send

from app.asgi import header, too_many_requests
from app.auth import track_attempt
from app.logs import SampledLog
from app.metrics import count_decision
from app.rate_limit import LocalLimiter

if TYPE_CHECKING:
    from app.shared_limits import Limiter

log = logging.getLogger("app.failure_limit")


class AuthFailureLimit:
    """429 for an address that sent more than `per_minute` refused tokens in the last minute."""

    def __init__(self, app: ASGIApp, per_minute: int, limiter: Limiter | None = None) -> None:
        self.app = app
        self.bucket = limiter or (LocalLimiter(per_minute) if per_minute > 0 else None)
        self._held_back = SampledLog(log, "request held back", "authentication")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        address = (scope.get("client") or ("unknown", 0))[0]
        carries_credentials = header(scope, "authorization") is not None
        if self.bucket is not None and carries_credentials:
            wait = await self.bucket.wait(address)
            if wait > 0:
                count_decision("denied", "too_many_failures")
                self._held_back.write("too_many_failures")
                response = too_many_requests(
                    "too_many_failures",
                    "too many refused tokens from this address; "
                    "retry in {seconds} s with a valid token",
                    wait,
                )
                await response(scope, receive, send)
                return
        attempt = track_attempt()
        await self.app(scope, receive, send)
        if self.bucket is not None and attempt.reason is not None:
            await self.bucket.take(address)
