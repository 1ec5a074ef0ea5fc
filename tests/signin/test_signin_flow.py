"""Sign-in end to end: a real MCP client, the server's OAuth proxy, a real OIDC provider.

The Python SDK's OAuth client discovers the server's metadata, registers itself
(dynamic client registration), authorizes with PKCE through the consent page
and the provider's sign-in, exchanges the code, and lists tools; the scope
policy alone decides which tools it sees.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.server_process import ServerProcess
from tests.signin.flow import Browser, MemoryTokens, all_messages, list_tools, oauth_client

ALL_TOOLS = ["get_confidential_info", "get_public_info"]


async def _token_request(server: ServerProcess, form: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=15) as http:
        return await http.post(f"{server.base_url}/token", data=form)


async def _rpc(server: ServerProcess, token: str, message: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    async with httpx.AsyncClient(timeout=15) as http:
        return await http.post(server.url, headers=headers, json=message)


async def _sign_in(server: ServerProcess, person: str, scope: str | None = None) -> MemoryTokens:
    storage = MemoryTokens()
    browser = Browser(person)
    tools = await list_tools(server.url, oauth_client(server.url, browser, storage, scope))
    storage.seen = tools  # type: ignore[attr-defined]
    authorize = next(url for url in browser.visited if "/authorize?" in url)
    storage.requested = parse_qs(urlsplit(authorize).query)["scope"][0]  # type: ignore[attr-defined]
    return storage


@pytest.mark.parametrize(
    ("person", "tools"),
    [
        pytest.param("alice", ALL_TOOLS, id="named email gets both scopes"),
        pytest.param("bob", ["get_public_info"], id="verified domain gets public:read"),
        pytest.param("dave", ["get_confidential_info"], id="group gets confidential:read"),
        pytest.param("eve", ["get_confidential_info"], id="unverified email is not a match"),
    ],
)
async def test_the_policy_decides_what_a_signed_in_person_sees(
    signin_server: ServerProcess, person: str, tools: list[str]
) -> None:
    storage = await _sign_in(signin_server, person)
    assert storage.seen == tools  # type: ignore[attr-defined]
    assert storage.tokens is not None
    granted = sorted((storage.tokens.scope or "").split())
    assert granted == sorted(
        {"get_public_info": "public:read", "get_confidential_info": "confidential:read"}[t]
        for t in tools
    )


async def test_a_client_asking_for_more_gets_what_the_policy_allows(
    signin_server: ServerProcess,
) -> None:
    # The SDK asks for every scope the server advertises (RFC 9728 scopes_supported).
    storage = await _sign_in(signin_server, "bob")
    assert storage.requested == "confidential:read public:read"  # type: ignore[attr-defined]
    assert storage.tokens is not None
    assert storage.tokens.scope == "public:read"


async def test_a_refresh_asking_for_less_gets_only_that(signin_server: ServerProcess) -> None:
    storage = await _sign_in(signin_server, "alice")
    assert storage.tokens is not None
    assert storage.client is not None
    response = await _token_request(
        signin_server,
        {
            "grant_type": "refresh_token",
            "refresh_token": storage.tokens.refresh_token,
            "client_id": storage.client.client_id,
            "scope": "public:read",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "public:read"


async def test_the_scope_gate_refuses_a_signed_in_token_without_the_scope(
    signin_server: ServerProcess,
) -> None:
    storage = await _sign_in(signin_server, "bob")
    assert storage.tokens is not None
    response = await _rpc(
        signin_server,
        storage.tokens.access_token,
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "get_confidential_info", "arguments": {}},
        },
    )
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    # The gate logged the person by the provider's stable id, qualified by the provider.
    assert '|bob"' in signin_server.logs()


async def test_a_refresh_gives_a_new_token_with_the_same_scopes(
    signin_server: ServerProcess,
) -> None:
    storage = await _sign_in(signin_server, "alice")
    tokens, client = storage.tokens, storage.client
    assert tokens is not None
    assert tokens.refresh_token is not None
    assert client is not None
    response = await _token_request(
        signin_server,
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens.refresh_token,
            "client_id": client.client_id,
        },
    )
    assert response.status_code == 200, response.text
    refreshed = response.json()
    assert refreshed["access_token"] != tokens.access_token
    assert sorted(refreshed["scope"].split()) == ["confidential:read", "public:read"]
    # The old refresh token is spent (rotation), the new access token works.
    again = await _token_request(
        signin_server,
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens.refresh_token,
            "client_id": client.client_id,
        },
    )
    assert again.status_code in {400, 401}, again.text
    assert again.json()["error"] == "invalid_grant"
    listed = await _rpc(
        signin_server,
        refreshed["access_token"],
        {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
    )
    assert listed.status_code == 200
    assert sorted(t["name"] for t in listed.json()["result"]["tools"]) == ALL_TOOLS


async def test_a_person_who_denies_consent_gets_no_token(signin_server: ServerProcess) -> None:
    storage = MemoryTokens()
    provider = oauth_client(signin_server.url, Browser("alice", approve=False), storage)
    # The error arrives wrapped in the client's task-group ExceptionGroup.
    with pytest.raises(BaseException) as caught:  # noqa: PT011
        await list_tools(signin_server.url, provider)
    assert "access_denied" in all_messages(caught.value)
    assert storage.tokens is None


@pytest.mark.parametrize(
    ("person", "account"),
    [
        pytest.param("carol", "carol@partner.example", id="unverified email in the domain"),
        pytest.param("mallory", "mallory@elsewhere.example", id="nobody in the policy"),
    ],
)
async def test_a_person_the_policy_grants_nothing_is_refused_at_sign_in(
    signin_server: ServerProcess, person: str, account: str
) -> None:
    storage = MemoryTokens()
    browser = Browser(person)
    with pytest.raises(BaseException) as caught:  # noqa: PT011
        await list_tools(signin_server.url, oauth_client(signin_server.url, browser, storage))
    # The client is told access_denied, with the reason; no token, not even an empty one.
    messages = all_messages(caught.value)
    assert "access_denied" in messages
    assert "policy" in messages
    assert storage.tokens is None
    # The person saw a page naming the account they signed in with and the policy.
    assert browser.refusal is not None
    assert account in browser.refusal
    assert "scope policy" in browser.refusal
