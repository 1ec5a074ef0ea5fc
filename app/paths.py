"""Refuse request paths no route can mean, before any route is matched.

Starlette matches routes with regular expressions whose `$` also matches
before a trailing newline, so "/mcp\\n" would reach the MCP route. No route
of this server contains a control character: such a path is 404, whatever
layer would otherwise look at it.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from app.asgi import Refusal, error_body

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RefuseControlCharacters:
    """404 for any HTTP request whose decoded path holds a control character."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _CONTROL.search(scope["path"]):
            await Refusal(404, error_body("not_found"))(scope, receive, send)
            return
        await self.app(scope, receive, send)
