"""The Python SDK 2.x and the FastMCP client, with a token in the header and as OAuth clients.

With a static token both list and call what the token allows, and show the
server's description on a 401 and a 403. Configured for OAuth (as desktop
clients are), a 401 sends them into registration at the server's origin, where
the server tells them to use `make token` instead of answering 404.

The 401 and 403 wording checked here (MINT_HINT, NEEDS_SCOPE) is the guard
chain's error_description.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from mcp.client.auth import OAuthClientProvider
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from tests.clients.conftest import (
    MINT_HINT,
    NEEDS_SCOPE,
    all_messages,
)
from tests.server_process import ServerProcess


async def _sdk(
    url: str, auth: httpx2.Auth | None, headers: dict[str, str], call: str | None
) -> Any:
    async with (
        httpx2.AsyncClient(auth=auth, headers=headers, timeout=15) as http,
        streamable_http_client(url, http_client=http) as streams,
        ClientSession(streams[0], streams[1]) as session,
    ):
        await session.initialize()
        if call:
            return await session.call_tool(call, {})
        return sorted(tool.name for tool in (await session.list_tools()).tools)


def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def test_sdk2_lists_and_calls_with_a_token(
    server: ServerProcess, token_for: Callable[..., str]
) -> None:
    headers = _bearer(token_for("public:read"))
    assert await _sdk(server.url, None, headers, None) == ["get_public_info"]
    result = await _sdk(server.url, None, headers, "get_public_info")
    assert not result.is_error
    assert result.content[0].text.startswith("# ")


async def test_sdk2_shows_why_a_call_is_forbidden(
    server: ServerProcess, token_for: Callable[..., str]
) -> None:
    with pytest.raises(BaseException) as caught:  # noqa: PT011 (an ExceptionGroup or MCPError)
        await _sdk(server.url, None, _bearer(token_for("public:read")), "get_confidential_info")
    assert NEEDS_SCOPE in all_messages(caught.value)


@pytest.mark.parametrize("kind", ["missing", "expired"])
async def test_sdk2_shows_why_a_token_is_refused(
    server: ServerProcess, expired_token: str, kind: str
) -> None:
    token = expired_token if kind == "expired" else None
    with pytest.raises(BaseException) as caught:  # noqa: PT011
        await _sdk(server.url, None, _bearer(token), None)
    assert MINT_HINT in all_messages(caught.value)


class _NoTokens:
    async def get_tokens(self) -> OAuthToken | None:
        return None

    async def set_tokens(self, tokens: OAuthToken) -> None:
        return None

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return None

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        return None


async def test_sdk2_as_an_oauth_client_is_told_to_use_make_token(
    server: ServerProcess, expired_token: str
) -> None:
    async def no_browser(url: str) -> None:
        raise AssertionError(f"the client should not reach a browser step: {url}")

    async def no_callback() -> Any:
        raise AssertionError("no callback expected")

    oauth = OAuthClientProvider(
        server.url,
        OAuthClientMetadata(redirect_uris=["http://127.0.0.1:53682/callback"]),  # type: ignore[list-item]
        _NoTokens(),
        no_browser,
        no_callback,
    )
    with pytest.raises(BaseException) as caught:  # noqa: PT011
        await _sdk(server.url, oauth, _bearer(expired_token), None)
    messages = all_messages(caught.value)
    assert "OAuthRegistrationError" in messages
    assert "make token SCOPES=" in messages


async def test_fastmcp_client_lists_and_calls_with_a_token(
    server: ServerProcess, token_for: Callable[..., str]
) -> None:
    from fastmcp import Client

    async with Client(server.url, auth=token_for("public:read", "confidential:read")) as client:
        names = sorted(tool.name for tool in await client.list_tools())
        assert names == ["get_confidential_info", "get_public_info"]
        result = await client.call_tool("get_confidential_info", {})
        assert result.content[0].text.startswith("# ")


async def test_fastmcp_client_shows_why_a_call_is_forbidden(
    server: ServerProcess, token_for: Callable[..., str]
) -> None:
    from fastmcp import Client

    async with Client(server.url, auth=token_for("public:read")) as client:
        with pytest.raises(BaseException) as caught:  # noqa: PT011
            await client.call_tool("get_confidential_info", {})
    assert NEEDS_SCOPE in all_messages(caught.value)


async def test_fastmcp_client_shows_why_a_token_is_refused(
    server: ServerProcess, expired_token: str
) -> None:
    from fastmcp import Client

    with pytest.raises(BaseException) as caught:  # noqa: PT011
        async with Client(server.url, auth=expired_token) as client:
            await client.list_tools()
    assert MINT_HINT in all_messages(caught.value)


async def test_fastmcp_oauth_client_is_told_to_use_make_token(
    server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    import webbrowser

    from fastmcp import Client
    from fastmcp.client.auth import OAuth

    def no_browser(url: str, *args: object, **kwargs: object) -> bool:
        raise AssertionError(f"the client should not reach a browser step: {url}")

    monkeypatch.setattr(webbrowser, "open", no_browser)
    with pytest.raises(BaseException) as caught:  # noqa: PT011
        async with Client(server.url, auth=OAuth()) as client:
            await client.list_tools()
    assert "make token SCOPES=" in all_messages(caught.value)
