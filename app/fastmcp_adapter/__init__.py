"""Every place this server relies on FastMCP beyond its public API, in one module.

FastMCP's public extension points carry most of the server: a `TokenVerifier`
(app/auth.py), `AuthProvider.get_routes` and `get_middleware` (app/shared_key.py,
app/signin.py), `custom_route` (the probes, /metrics), `http_app(...)`, and
the OAuth proxy's documented override hooks (`_translate_scopes_from_idp`,
`_prepare_scopes_for_upstream_refresh`, `_extract_upstream_claims`: their
docstrings say "Override this method"). What they do not offer is here:

- the guards on the MCP route: FastMCP builds that route itself (endpoint:
  its RequireAuthMiddleware around the transport) and takes no wrapper for
  it; its `middleware=` argument wraps every route, and app-wide guards would
  have to compare paths, which a differently spelled path slips past;
- the root RFC 9728 document, served by the route FastMCP generates;
- the OAuth proxy's state stores, its ID-token validator, the IdP callback
  and consent page it serves, and the client secret it keeps.

The routes are here; the OAuth proxy's internals are in `oidc_proxy.py`
beside this file, imported only in sign-in mode (the proxy costs ~0.5 s of a
start that shared-key mode never pays). `route_at` and
`oidc_proxy.check_proxy_internals` fail with `FastMCPChanged`, naming the
installed FastMCP version and what is gone, at start and in
tests/app/test_fastmcp_adapter.py: an upgrade that breaks any of this fails
loudly there, never quietly in a sign-in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib.metadata import version

from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp


class FastMCPChanged(RuntimeError):
    """The installed FastMCP no longer has something this server builds on."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"FastMCP {version('fastmcp')}: {what}. This server was built against "
            "FastMCP 4.2 (pyproject.toml pins it); app/fastmcp_adapter/ is the one "
            "place to adapt."
        )


# -- routes FastMCP generates ------------------------------------------------


def route_at(routes: Sequence[BaseRoute], path: str) -> Route:
    """The route FastMCP generated for `path` (exactly one)."""
    found = [r for r in routes if isinstance(r, Route) and r.path == path]
    if len(found) != 1:
        raise FastMCPChanged(f"http_app() has {len(found)} routes at {path}, expected one")
    return found[0]


def wrap_route(route: Route, guard: Callable[[ASGIApp], ASGIApp]) -> None:
    """Put `guard` around what the router calls for `route`, whatever path spelling led there."""
    route.app = guard(route.app)


def serve_also_at(routes: list[BaseRoute], path: str, alias: str) -> None:
    """Serve the generated route at `path` at `alias` too (its endpoint, its methods)."""
    original = route_at(routes, path)
    routes.append(Route(alias, endpoint=original.endpoint, methods=original.methods))
