"""Shared-key mode advertises no authorization server, and OAuth attempts are told what to do."""

from __future__ import annotations

import httpx
import pytest

from tests.server_process import ServerProcess


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"]
)
def test_the_metadata_names_the_resource_and_scopes_but_no_authorization_server(
    server: ServerProcess, path: str
) -> None:
    document = httpx.get(f"{server.base_url}{path}").json()
    assert document == {
        "resource": server.url,
        "scopes_supported": ["confidential:read", "public:read"],
        "bearer_methods_supported": ["header"],
        "resource_name": "Secure MCP Server",
    }


@pytest.mark.parametrize(
    "path",
    ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"],
)
def test_the_server_does_not_pretend_to_be_an_authorization_server(
    server: ServerProcess, path: str
) -> None:
    assert httpx.get(f"{server.base_url}{path}").status_code == 404


def test_the_401_points_at_the_metadata(server: ServerProcess) -> None:
    challenge = httpx.post(server.url, json={}).headers["www-authenticate"]
    assert f'resource_metadata="{server.base_url}/.well-known/oauth-protected-resource/mcp"' in (
        challenge
    )


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "error", "scopes"),
    [
        (
            "POST",
            "/register",
            {"json": {"redirect_uris": ["http://127.0.0.1:1/cb"]}},
            "access_denied",
            "public:read",
        ),
        (
            "POST",
            "/register",
            {"json": {"scope": "confidential:read"}},
            "access_denied",
            "confidential:read",
        ),
        (
            "GET",
            "/authorize",
            {"params": {"scope": "public:read confidential:read"}},
            "access_denied",
            "confidential:read,public:read",
        ),
        (
            "POST",
            "/token",
            {"data": {"grant_type": "authorization_code"}},
            "unsupported_grant_type",
            "public:read",
        ),
    ],
)
def test_oauth_fallbacks_say_how_to_get_a_token(
    server: ServerProcess,
    method: str,
    path: str,
    kwargs: dict[str, object],
    error: str,
    scopes: str,
) -> None:
    response = httpx.request(method, f"{server.base_url}{path}", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == error
    assert f"make token SCOPES={scopes}" in body["error_description"]
