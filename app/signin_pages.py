"""What sign-in mode adds around the OAuth proxy's own routes and pages.

- RegistrationLimit: dynamic client registration is open to anyone (that is
  what lets any MCP client connect), so each client address may register only
  so many clients per minute (429 after that), counted where the other limits
  count: in this process, or in Redis shared by every replica
  (MCP_RATE_LIMIT_STORAGE_URL; app/shared_limits.py, failing open as they do).
- refusal_page: a person the scope policy grants nothing learns why at the end
  of the sign-in, and their client gets the OAuth error `access_denied`.
- consent_extras: the consent page names the scopes the client asks for.
- LOGO: the server's logo, inline, so no page loads anything from another site.
"""

from __future__ import annotations

import base64
import html
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.asgi import too_many_requests
from app.logs import SampledLog
from app.metrics import count_decision
from app.rate_limit import LocalLimiter

if TYPE_CHECKING:
    from app.shared_limits import Limiter

log = logging.getLogger("app.signin")

# A key on a dark square, inline (a data: URL, which the consent page's own
# Content-Security-Policy allows), so no page loads anything from another site.
_LOGO_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
    '<rect width="64" height="64" rx="12" fill="#1f2937"/>'
    '<circle cx="24" cy="32" r="10" fill="none" stroke="#fff" stroke-width="5"/>'
    '<path d="M34 32h18m-6 0v8" stroke="#fff" stroke-width="5"/></svg>'
)
LOGO = "data:image/svg+xml;base64," + base64.b64encode(_LOGO_SVG.encode()).decode("ascii")

# How long the refusal page stays before the browser goes back to the client.
REFUSAL_SECONDS = 15


def registration_limiter(per_minute: int, shared: Limiter | None) -> Limiter | None:
    """MCP_OAUTH_REGISTRATIONS_PER_MINUTE per address: None when 0, else `shared` (the
    process's Redis store, app.http_app.limiters) or, without one, this process's bucket."""
    if per_minute == 0:
        return None
    return shared or LocalLimiter(per_minute)


class RegistrationLimit:
    """429 for an address that registered more clients in the last minute than `limiter` allows."""

    def __init__(self, app: ASGIApp, limiter: Limiter | None) -> None:
        self.app = app
        self.limiter = limiter
        self._held_back = SampledLog(log, "registration held back", "registration")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.limiter is None or scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        address = (scope.get("client") or ("unknown", 0))[0]
        wait = await self.limiter.take(address)
        if wait > 0:
            count_decision("denied", "too_many_registrations")
            self._held_back.write("too_many_registrations")
            response = too_many_requests(
                "too_many_registrations",
                "too many clients registered from this address; "
                "retry in {seconds} s, or reuse the client already registered",
                wait,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def client_redirect(redirect_uri: str, params: dict[str, str]) -> str:
    """The client's redirect URI with `params` added to its query (RFC 6749 4.1.2.1)."""
    parts = urlsplit(redirect_uri)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))


def refusal_page(account: str, description: str, back_to: str) -> HTMLResponse:
    """403: who signed in, that the policy does not list them, and the way back."""
    back = html.escape(back_to, quote=True)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="{REFUSAL_SECONDS};url={back}">
<title>Access denied</title>
</head>
<body>
<h1>Access denied</h1>
<p>You signed in as <strong>{html.escape(account)}</strong>.</p>
<p>{html.escape(description)}</p>
<p>Ask the server's administrator to add this account to the scope policy,
or sign in with another account.</p>
<p><a href="{back}">Return to the application</a> (it is told: access denied).</p>
</body>
</html>
"""
    return HTMLResponse(
        page,
        status_code=403,
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; form-action 'none'",
            "Referrer-Policy": "no-referrer",
        },
    )


def consent_extras(scopes: list[str]) -> str:
    """The block the consent page shows above its buttons: what the client will get."""
    if scopes:
        asked = ", ".join(html.escape(s) for s in scopes)
        gets = (
            f"It asks for the scopes: <strong>{asked}</strong>. It gets those of them that "
            "this server's policy grants the account you sign in with, and no others."
        )
    else:
        gets = (
            "It asks for no scope in particular: it gets every scope this server's policy "
            "grants the account you sign in with."
        )
    return f'<div class="info-box"><p>{gets}</p></div>'
