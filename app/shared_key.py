"""Honest OAuth metadata when tokens are minted with the shared key (no authorization server).

RFC 9728 lets protected-resource metadata name no authorization server, and
that is the truth here: tokens come from `make token`, not from an OAuth flow.
The metadata still tells clients the resource and its scopes.

OAuth-capable clients (MCP Inspector, the TypeScript and Python SDKs, FastMCP,
mcp-remote) try an OAuth flow on a 401 or a 403 whatever the metadata says:
with no authorization server named (or none served) they fall back to the MCP
server's own origin and POST /register there. Measured with each of them: a
404 there ends in "Registration failed: 404" and the person never learns what
to do; an OAuth error whose error_description says it is shown by every one.
So /register, /authorize and /token answer with that error, and nothing here
claims to be an authorization server (/.well-known/oauth-authorization-server
stays 404).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from fastmcp.server.auth import RemoteAuthProvider, TokenVerifier
from mcp.server.auth.routes import build_resource_metadata_url, cors_middleware
from pydantic import AnyHttpUrl
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.asgi import Refusal, error_body
from app.catalog import ALL_SCOPES

FALLBACK_PATHS = ("/register", "/authorize", "/token")


def no_sign_in_description(scopes: list[str]) -> str:
    """What to do instead of signing in, for a client that asked for `scopes`."""
    wanted = [scope for scope in scopes if scope in ALL_SCOPES] or [ALL_SCOPES[-1]]
    return (
        "This server does not sign people in: it takes a bearer token minted with its "
        f"signing key. Mint one with `make token SCOPES={','.join(sorted(wanted))}` (on GKE: "
        f"`mcp-key --project PROJECT token --sub NAME --scopes "
        f"{','.join(sorted(wanted))}`) and send it as the header Authorization: Bearer <token>."
    )


async def _requested_scopes(request: Request) -> list[str]:
    """The scopes the client asked for (registration body, query or form), if any."""
    scope: Any = request.query_params.get("scope")
    if scope is None and request.method == "POST":
        raw = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                body = json.loads(raw)
            except ValueError:
                body = {}
            scope = body.get("scope") if isinstance(body, dict) else None
        else:
            scope = (await request.form()).get("scope")
    return scope.split() if isinstance(scope, str) else []


async def _no_sign_in(request: Request) -> Refusal:
    # RFC 6749/7591 error shape: every client measured shows error_description.
    error = "unsupported_grant_type" if request.url.path == "/token" else "access_denied"
    description = no_sign_in_description(await _requested_scopes(request))
    return Refusal(400, error_body(error, description))


class SharedKeyAuthProvider(RemoteAuthProvider):
    """RFC 9728 metadata with no authorization server, and OAuth fallbacks that say why."""

    def __init__(self, token_verifier: TokenVerifier, base_url: str, resource_name: str) -> None:
        super().__init__(
            token_verifier=token_verifier,
            authorization_servers=[],
            base_url=base_url,
            scopes_supported=list(ALL_SCOPES),
            resource_name=resource_name,
        )

    def get_routes(self, mcp_path: str | None = None) -> list[Route]:
        self.set_mcp_path(mcp_path)
        routes = [
            Route(path, endpoint=_no_sign_in, methods=["GET", "POST"]) for path in FALLBACK_PATHS
        ]
        if self.base_url is None or not mcp_path:
            return routes
        # The resource is the MCP endpoint under this server's public base URL.
        resource_url = AnyHttpUrl(f"{str(self.base_url).rstrip('/')}/{mcp_path.lstrip('/')}")
        # The SDK's metadata model insists on an authorization server, so it is written here.
        metadata = {
            "resource": str(resource_url),
            "scopes_supported": list(ALL_SCOPES),
            "bearer_methods_supported": ["header"],
            "resource_name": self.resource_name,
        }

        def serve(_: Request) -> JSONResponse:
            return JSONResponse(metadata, headers={"Cache-Control": "public, max-age=3600"})

        path = urlparse(str(build_resource_metadata_url(resource_url))).path
        routes.append(
            Route(
                path,
                endpoint=cors_middleware(serve, ["GET", "OPTIONS"]),
                methods=["GET", "OPTIONS"],
            )
        )
        return routes
