"""Refuse browser requests to /mcp from origins outside the allow-list (MCP transport rules).

Browsers always send `Origin` on cross-site requests; without this check a page
on any site could drive a server on localhost (DNS rebinding). Requests without
`Origin` come from CLIs and agents, not browsers, and pass.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from app.asgi import send_json
from app.metrics import count_decision

log = logging.getLogger("app.origin")


def _split(origin: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(origin)
        return parts.scheme, (parts.hostname or "").lower(), parts.port
    except ValueError:
        return None


class OriginGuard:
    """403 for a foreign `Origin`; an allowed origin without a port allows any port."""

    def __init__(self, app: ASGIApp, mcp_path: str, allowed_origins: Iterable[str]) -> None:
        self.app = app
        self.mcp_path = mcp_path
        self.allowed = [parts for o in allowed_origins if (parts := _split(o))]

    def _is_allowed(self, origin: str) -> bool:
        parts = _split(origin)
        if parts is None:
            return False
        scheme, host, port = parts
        return any(
            scheme == a_scheme and host == a_host and (a_port is None or port == a_port)
            for a_scheme, a_host, a_port in self.allowed
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self.mcp_path:
            origin = Headers(scope=scope).get("origin")
            if origin is not None and not self._is_allowed(origin):
                count_decision("denied", "origin_not_allowed")
                log.warning(
                    "origin refused",
                    extra={"event": "origin", "origin": origin[:200], "decision": "denied"},
                )
                await send_json(
                    send,
                    403,
                    {"error": "origin_not_allowed", "error_description": "Origin not allowed"},
                )
                return
        await self.app(scope, receive, send)
