"""Refuse a request that carries more than one `Authorization` header.

RFC 9110 allows a repeated header only for list-valued fields, and
`Authorization` is not one; RFC 6750 calls a request that "uses more than one
method for including an access token" invalid_request (400). Which copy
counts is otherwise up to each reader: Starlette (and so FastMCP's bearer
authentication) takes the first, a proxy in front may take the last, and a
request could then be authenticated as one caller and logged, limited or
judged as another. Refusing it leaves nothing to disagree about. This layer
wraps the whole app, ahead of the refused-token limit and authentication.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from app.asgi import header_values
from app.challenges import challenge
from app.metrics import count_decision

REASON = "repeated_authorization"


class OneAuthorization:
    """400 invalid_request (RFC 6750) for a request with two or more Authorization headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and len(header_values(scope, "authorization")) > 1:
            count_decision("denied", REASON)
            refusal = challenge(
                400, "invalid_request", "send one Authorization header, not several", None
            )
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)
