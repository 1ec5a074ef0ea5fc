"""Refuse browser requests from origins outside the allow-list (MCP transport rules).

Browsers always send `Origin` on cross-site requests; without this check a page
on any site could drive a server on localhost (DNS rebinding). Requests without
`Origin` come from CLIs and agents, not browsers, and pass. A request with more
than one `Origin` header is refused: readers of the first and of the last copy
would disagree about who sent it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from app.asgi import Refusal, error_body, header_values
from app.metrics import count_decision

log = logging.getLogger("app.origin")


def _split(origin: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(origin)
        return parts.scheme, (parts.hostname or "").lower(), parts.port
    except ValueError:
        return None


class OriginGuard:
    """403 for a foreign or repeated `Origin`; an allowed origin without a port allows any port."""

    def __init__(self, app: ASGIApp, allowed_origins: Iterable[str]) -> None:
        self.app = app
        self.allowed = [parts for o in allowed_origins if (parts := _split(o))]

    def is_allowed(self, origin: str) -> bool:
        parts = _split(origin)
        if parts is None:
            return False
        scheme, host, port = parts
        return any(
            scheme == a_scheme and host == a_host and (a_port is None or port == a_port)
            for a_scheme, a_host, a_port in self.allowed
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origins = header_values(scope, "origin")
        if origins:
            origin = origins[0]
            if len(origins) > 1 or not self.is_allowed(origin):
                count_decision("denied", "origin_not_allowed")
                log.warning(
                    "origin refused",
                    extra={
                        "event": "origin",
                        "origin": origin[:200],
                        "origin_headers": len(origins),
                        "decision": "denied",
                    },
                )
                description = (
                    "send one Origin header"
                    if len(origins) > 1
                    else "this origin may not call the server; allowed: MCP_ALLOWED_ORIGINS"
                )
                refusal = Refusal(403, error_body("origin_not_allowed", description))
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)
