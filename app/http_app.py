"""Assemble the HTTP application: routes, the guards bound to the MCP route, and metrics.

Every request passes, outermost first: RequestMetrics -> BoundedBody (the
whole body read, at most 1 MiB, in time; 413/408) -> RefuseControlCharacters
-> AuthFailureLimit -> FastMCP's bearer authentication (verifies the token once)
-> the router. The guards are bound to the MCP route itself, so whatever path
spelling the router dispatches to it passes them, in this order:
OriginGuard -> RequireToken (401) -> RateLimit -> ScopeGate (403) -> FastMCP's
RequireAuth -> the MCP transport (stateless JSON). Every other route is bound
to StrictJsonBody (the same strict JSON rule, 400). No guard compares paths.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastmcp.server.auth import AuthProvider, RemoteAuthProvider
from mcp.server.auth.routes import build_resource_metadata_url
from pydantic import AnyHttpUrl
from starlette.routing import Route
from starlette.types import ASGIApp

from app.auth import JWTVerifier
from app.body_limit import BoundedBody
from app.catalog import ALL_SCOPES
from app.challenges import RequireToken
from app.config import Config, Settings
from app.failure_limit import AuthFailureLimit
from app.json_routes import StrictJsonBody
from app.metrics import RequestMetrics, metrics_endpoint
from app.origin import OriginGuard
from app.paths import RefuseControlCharacters
from app.probes import Lifecycle, probe_routes
from app.rate_limit import RateLimit
from app.scope_gate import ScopeGate
from app.shared_key import SharedKeyAuthProvider
from app.tools import build_mcp

if TYPE_CHECKING:
    from app.shared_limits import Limiter

MCP_PATH = "/mcp"
WELL_KNOWN = "/.well-known/oauth-protected-resource"


def _auth_provider(config: Config) -> AuthProvider:
    settings = config.settings
    verifier = JWTVerifier(
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        leeway_seconds=settings.jwt_leeway_seconds,
        max_lifetime_seconds=settings.jwt_max_token_lifetime_seconds,
        jwks_url=settings.jwt_jwks_url,
        key_ring=config.keys,
        denylist=config.denylist,
    )
    if config.signin is not None:
        # Sign-in mode: the server is the authorization server (static tokens still work).
        from app.signin import build_signin_provider

        return build_signin_provider(config, verifier)
    # Advertise an authorization server only when one exists: a named one, or the
    # issuer of OIDC tokens. Shared-key tokens come from `make token`, so the
    # metadata names none and OAuth attempts are told what to do instead
    # (app/shared_key.py says what each real client does otherwise).
    issuer_is_url = settings.jwt_issuer.startswith(("https://", "http://"))
    authorization_server = settings.authorization_server or (
        settings.jwt_issuer if issuer_is_url else None
    )
    if authorization_server is None:
        return SharedKeyAuthProvider(verifier, settings.base_url, "Secure MCP Server")
    return RemoteAuthProvider(
        token_verifier=verifier,
        authorization_servers=[AnyHttpUrl(authorization_server)],
        base_url=settings.base_url,
        scopes_supported=list(ALL_SCOPES),
        resource_name="Secure MCP Server",
    )


def _bind_to_route(routes: list[Any], path: str, guard: Callable[[ASGIApp], ASGIApp]) -> None:
    """Wrap what the router calls for `path`: the guards run for every request routed there."""
    route = next(r for r in routes if isinstance(r, Route) and r.path == path)
    route.app = guard(route.app)


def build_app(config: Config, lifecycle: Lifecycle) -> ASGIApp:
    """The server's ASGI app, every guard in place."""
    if config.settings.redis_urls:
        from app.redis_store import warn_if_unreachable  # imports the Redis client

        for setting, url in config.settings.redis_urls.items():
            warn_if_unreachable(config.settings, setting, url)
    return assemble(config, lifecycle, _auth_provider(config))


def _shared_limiters(settings: Settings) -> tuple[Limiter | None, Limiter | None]:
    """The (rate, refused-token) limiters in Redis; (None, None) counts in this process."""
    url = settings.rate_limit_storage_url
    if url is None:
        return None, None
    from app.redis_store import client_options  # imported only when Redis is used
    from app.shared_limits import SharedLimiter, shared_store

    store = shared_store(url, client_options(settings, url))
    rate, refused = settings.rate_limit_per_minute, settings.auth_failure_limit_per_minute
    return (
        SharedLimiter(store, rate, "subject") if rate > 0 else None,
        SharedLimiter(store, refused, "refused") if refused > 0 else None,
    )


def assemble(config: Config, lifecycle: Lifecycle, provider: AuthProvider | None) -> ASGIApp:
    """The app around `provider`; None (no auth at all) is only for benchmarks/."""
    settings = config.settings
    mcp = build_mcp(config.documents, provider)
    rate_limiter, refused_limiter = _shared_limiters(settings)

    scrape = metrics_endpoint(config.keys.refresh, config.denylist.ids)
    for path, endpoint in {**probe_routes(lifecycle), "/metrics": scrape}.items():
        mcp.custom_route(path, methods=["GET"], include_in_schema=False)(endpoint)

    http_app = mcp.http_app(
        path=MCP_PATH,
        stateless_http=True,  # any replica can answer any request: no session affinity
        json_response=True,  # one JSON answer per POST, no SSE stream to keep open
        # OriginGuard implements the contract's Origin rule; FastMCP's own
        # Host/Origin guard would also pin the Host header, which differs per
        # route into the cluster (Service DNS, port-forward, ingress).
        host_origin_protection=False,
    )
    routes = http_app.router.routes
    if config.signin is not None and settings.oauth_storage_url is not None:
        from starlette.middleware import Middleware

        from app.signin_store import StoreUnavailableAs503

        # First of the app's own middleware, so it also sees the bearer
        # authentication that loads sign-in tokens from the store.
        http_app.user_middleware.insert(0, Middleware(StoreUnavailableAs503))
    if provider is None:
        _bind_to_route(routes, MCP_PATH, lambda app: OriginGuard(app, settings.allowed_origins))
    else:
        metadata_url = str(build_resource_metadata_url(AnyHttpUrl(settings.base_url + MCP_PATH)))

        def guards(app: ASGIApp) -> ASGIApp:
            app = ScopeGate(app, metadata_url)
            app = RateLimit(app, settings.rate_limit_per_minute, rate_limiter)
            app = RequireToken(app, metadata_url, signin=config.signin is not None)
            return OriginGuard(app, settings.allowed_origins)

        _bind_to_route(routes, MCP_PATH, guards)
        _serve_root_metadata(routes)
    for route in routes:  # the MCP route judges its JSON-RPC body itself (ScopeGate)
        if isinstance(route, Route) and route.path != MCP_PATH:
            route.app = StrictJsonBody(route.app)

    app: ASGIApp = AuthFailureLimit(
        http_app, settings.auth_failure_limit_per_minute, refused_limiter
    )
    app = BoundedBody(RefuseControlCharacters(app), settings.request_body_timeout_seconds)
    return RequestMetrics(app, settings.gcp_project_id)


def _serve_root_metadata(routes: list[Any]) -> None:
    """Serve the RFC 9728 document at the root well-known path too (older clients ask there)."""
    resource_route = next(
        r for r in routes if isinstance(r, Route) and r.path == f"{WELL_KNOWN}{MCP_PATH}"
    )
    routes.append(Route(WELL_KNOWN, endpoint=resource_route.endpoint, methods=["GET", "OPTIONS"]))
