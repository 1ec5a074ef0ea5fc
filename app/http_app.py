"""Assemble the HTTP application: routes, the guard chain, and metrics.

The guard chain is `guards()`: one list, outermost first, read top to bottom.
The guards above `ROUTER` wrap the whole app; then come FastMCP's middleware
(its bearer authentication, which verifies the token once) and the router;
the guards below `ROUTER` are bound to the MCP route itself, so whatever path
spelling the router dispatches to it passes them. No guard compares paths.
Every other route is bound to StrictJsonBody (the same strict JSON rule, 400).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

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
from app.fastmcp_adapter import route_at, serve_also_at, wrap_route
from app.headers import OneAuthorization
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


@dataclass(frozen=True)
class Guard:
    """One layer of the chain: how it wraps the app inside it (its comment says what it refuses)."""

    wrap: Callable[[ASGIApp], ASGIApp]
    judges_the_token: bool = False  # left out when there is no authentication (benchmarks/)


# The chain's seam: above it the whole app, below it the MCP route
# (FastMCP's authentication, then the router).
ROUTER = Guard(lambda app: app)


@dataclass(frozen=True)
class Limiters:
    """Where each limit counts: in MCP_RATE_LIMIT_STORAGE_URL's Redis, or (None) in this process."""

    rate: Limiter | None = None
    refused: Limiter | None = None
    registrations: Limiter | None = None


def limiters(settings: Settings) -> Limiters:
    """This process's limits in Redis over one store, one connection pool, whatever counts there."""
    url = settings.rate_limit_storage_url
    if url is None:
        return Limiters()
    from app.redis_store import client_options  # imported only when Redis is used
    from app.shared_limits import SharedLimiter, shared_store

    store = shared_store(url, client_options(settings, url))

    def shared(per_minute: int, name: str) -> Limiter | None:
        # The name keeps each limit's keys apart in the one store.
        return SharedLimiter(store, per_minute, name) if per_minute > 0 else None

    return Limiters(
        rate=shared(settings.rate_limit_per_minute, "subject"),
        refused=shared(settings.auth_failure_limit_per_minute, "refused"),
        registrations=shared(settings.oauth_registrations_per_minute, "registrations"),
    )


def guards(config: Config, provider: AuthProvider | None, counted: Limiters) -> list[Guard]:
    """The guard chain, outermost first, counting its limits where `counted` says."""
    settings = config.settings
    metadata_url = _metadata_url(settings)
    signin = config.signin is not None
    chain = [
        # request metrics
        Guard(lambda app: RequestMetrics(app, settings.gcp_project_id)),
        # body: at most 1 MiB, in time (413/408)
        Guard(lambda app: BoundedBody(app, settings.request_body_timeout_seconds)),
        # no control character in the path (404)
        Guard(RefuseControlCharacters),
        # one Authorization header (400)
        Guard(OneAuthorization),
        # refused tokens per address (429)
        Guard(
            lambda app: AuthFailureLimit(
                app, settings.auth_failure_limit_per_minute, counted.refused
            )
        ),
        ROUTER,
        # browser origin (403)
        Guard(lambda app: OriginGuard(app, settings.allowed_origins)),
        # a valid token (401)
        Guard(lambda app: RequireToken(app, metadata_url, signin=signin), judges_the_token=True),
        # requests per subject (429)
        Guard(
            lambda app: RateLimit(app, settings.rate_limit_per_minute, counted.rate),
            judges_the_token=True,
        ),
        # the tool's scope (403)
        Guard(lambda app: ScopeGate(app, metadata_url), judges_the_token=True),
    ]
    if provider is None:
        return [guard for guard in chain if not guard.judges_the_token]
    return chain


def _metadata_url(settings: Settings) -> str:
    """Where the RFC 9728 document is (the public URL's path, if any, kept in it)."""
    return str(build_resource_metadata_url(AnyHttpUrl(settings.base_url + MCP_PATH)))


def wrap(app: ASGIApp, chain: Sequence[Guard]) -> ASGIApp:
    """`app` inside `chain`: the first guard of the list is the outermost."""
    for guard in reversed(chain):
        app = guard.wrap(app)
    return app


def _auth_provider(config: Config, counted: Limiters) -> AuthProvider:
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

        return build_signin_provider(config, verifier, counted.registrations)
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


def build_app(config: Config, lifecycle: Lifecycle) -> ASGIApp:
    """The server's ASGI app, every guard in place."""
    if config.settings.redis_urls:
        from app.redis_store import warn_if_unreachable  # imports the Redis client

        for setting, url in config.settings.redis_urls.items():
            warn_if_unreachable(config.settings, setting, url)
    # Built once: the guards and the sign-in routes count over the same pool.
    counted = limiters(config.settings)
    return assemble(config, lifecycle, _auth_provider(config, counted), counted)


def assemble(
    config: Config,
    lifecycle: Lifecycle,
    provider: AuthProvider | None,
    counted: Limiters,
) -> ASGIApp:
    """The app around `provider`; None (no auth at all) is only for benchmarks/."""
    mcp = build_mcp(config.documents, provider)
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
    chain = guards(config, provider, counted)
    seam = chain.index(ROUTER)
    routes = http_app.router.routes
    mcp_route = route_at(routes, MCP_PATH)
    wrap_route(mcp_route, lambda app: wrap(app, chain[seam + 1 :]))
    if provider is not None:
        # Older clients ask for the RFC 9728 document at the root well-known path.
        serve_also_at(routes, urlsplit(_metadata_url(config.settings)).path, WELL_KNOWN)
    for route in routes:  # the MCP route judges its JSON-RPC body itself (ScopeGate)
        if isinstance(route, Route) and route is not mcp_route:
            wrap_route(route, StrictJsonBody)
    return wrap(http_app, chain[:seam])
