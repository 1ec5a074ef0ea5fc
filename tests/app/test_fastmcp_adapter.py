"""What this server takes from FastMCP beyond its public API is still there.

app/fastmcp_adapter/ holds every such use. If a FastMCP upgrade removes one,
these tests fail with FastMCPChanged, whose message names the installed
FastMCP version and what is gone (the server refuses to start with the same
message). The behaviour each use carries is tested over a real server in
tests/integration and tests/signin.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import pytest
from fastmcp.server.auth import StaticTokenVerifier
from fastmcp.server.auth.oauth_proxy import OAuthProxy
from key_value.aio.stores.memory import MemoryStore
from starlette.routing import Route

from app.config import load
from app.fastmcp_adapter import FastMCPChanged, route_at, serve_also_at, wrap_route
from app.fastmcp_adapter.oidc_proxy import PROXY_METHODS, PROXY_STATE, check_proxy_internals
from app.http_app import MCP_PATH, WELL_KNOWN, build_app
from app.probes import Lifecycle


def _proxy() -> OAuthProxy:
    """FastMCP's own OAuth proxy, built offline (no discovery: endpoints given)."""
    return OAuthProxy(
        upstream_authorization_endpoint="https://idp.example/authorize",
        upstream_token_endpoint="https://idp.example/token",
        upstream_client_id="client",
        upstream_client_secret="secret-0123456789",
        token_verifier=StaticTokenVerifier(tokens={}),
        base_url="http://127.0.0.1:8080",
        client_storage=MemoryStore(),
        jwt_signing_key=b"k" * 48,  # bytes: used as is (a str is stretched by PBKDF2, 0.1 s)
    )


def test_the_oauth_proxy_still_has_what_sign_in_uses() -> None:
    check_proxy_internals(_proxy())  # raises FastMCPChanged naming what is gone


@pytest.mark.parametrize("name", PROXY_STATE)
def test_a_missing_piece_of_proxy_state_is_named_with_the_version(name: str) -> None:
    proxy = _proxy()
    del proxy.__dict__[name]
    with pytest.raises(FastMCPChanged) as raised:
        check_proxy_internals(proxy)
    assert f"FastMCP {version('fastmcp')}" in str(raised.value)
    assert name in str(raised.value)


def test_a_missing_proxy_method_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    name = PROXY_METHODS[0]
    monkeypatch.delattr(OAuthProxy, name, raising=False)
    for base in OAuthProxy.__mro__:
        monkeypatch.delattr(base, name, raising=False)
    with pytest.raises(FastMCPChanged, match=f"{name}\\(\\)"):
        check_proxy_internals(_proxy())


def test_the_generated_routes_the_guards_bind_to_exist(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """http_app() still makes one MCP route and one RFC 9728 route to bind and alias."""
    monkeypatch.setenv("MCP_JWT_SECRET_KEY", "k" * 40)
    app: Any = build_app(load(), Lifecycle())
    while not hasattr(app, "routes"):
        app = app.app
    route_at(app.routes, MCP_PATH)
    route_at(app.routes, f"{WELL_KNOWN}{MCP_PATH}")
    route_at(app.routes, WELL_KNOWN)  # the alias app.http_app adds


def test_a_route_fastmcp_stopped_generating_is_named_with_the_version() -> None:
    with pytest.raises(FastMCPChanged) as raised:
        route_at([Route("/other", endpoint=lambda _: None)], MCP_PATH)
    message = str(raised.value)
    assert f"FastMCP {version('fastmcp')}" in message
    assert MCP_PATH in message


def test_binding_wraps_only_the_named_route_and_aliases_keep_the_endpoint() -> None:
    async def endpoint(_: object) -> None:
        return None

    routes: list[Any] = [Route(f"{WELL_KNOWN}{MCP_PATH}", endpoint=endpoint), Route("/x", endpoint)]
    original = routes[1].app
    wrap_route(routes[0], lambda app: ("wrapped", app))  # type: ignore[arg-type,return-value]
    assert routes[0].app[0] == "wrapped"
    assert routes[1].app is original
    serve_also_at(routes, f"{WELL_KNOWN}{MCP_PATH}", WELL_KNOWN)
    assert route_at(routes, WELL_KNOWN).endpoint is endpoint
