"""The strict JSON rule (app.jsonrpc_body) for the routes around the MCP route.

FastMCP's OAuth handlers (/register, /token, /revoke, ...) and the shared-key
fallbacks parse JSON bodies their own ways: Python's json module raises
RecursionError on deep nesting (a 500 and a traceback), pydantic has other
limits. Each route other than the MCP route is wrapped in this guard, so its
handler sees only a body the one parser accepts: anything else is a 400 with
an OAuth-style JSON error (the MCP route answers in JSON-RPC, app.scope_gate).

Every body is judged except forms (application/x-www-form-urlencoded and
multipart/form-data, which Starlette's form parser reads, bounded by
app.body_limit) and empty ones: a handler that reads a body reads JSON or a
form, whatever Content-Type the client claims (/register ignores it).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from app.asgi import Refusal, error_body, header, read_body, replay
from app.jsonrpc_body import MAX_BODY_BYTES, BodyError, parse_off_loop

FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


class StrictJsonBody:
    """400 with an OAuth-style error for a body the strict parser refuses; a replay otherwise."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        media_type = (header(scope, "content-type") or "").split(";")[0].strip().lower()
        if media_type in FORMS:
            await self.app(scope, receive, send)
            return
        body = await read_body(receive, MAX_BODY_BYTES)
        try:
            if body is None:  # app.body_limit already refused it; kept for direct use
                raise BodyError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
            if body.strip():
                await parse_off_loop(body)
        except BodyError as exc:
            error = error_body("invalid_request", f"the request body: {exc}")
            await Refusal(exc.status, error)(scope, receive, send)
            return
        await self.app(scope, replay(body, receive), send)
