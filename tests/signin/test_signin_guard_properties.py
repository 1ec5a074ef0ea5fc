"""The guard-chain property test in sign-in mode, with the real OIDC test provider.

The same generated requests and promises as in shared-key mode
(tests/guard_properties.py), against a server whose OAuth routes are
FastMCP's proxy in front of oidc-provider-mock. The tokens are static ones
(still accepted in sign-in mode), a real sign-in token of bob (public:read,
through the whole browser flow), and none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.tokens import mint_token
from tests.guard_properties import (
    PROPERTY_SETTINGS,
    LogReader,
    Request,
    check_guarded,
    requests,
)
from tests.server_process import ServerProcess
from tests.signin.conftest import StartServer
from tests.signin.flow import Browser, MemoryTokens, list_tools, oauth_client


@pytest.fixture(scope="module")
def target(
    start_server: StartServer, signin_env: dict[str, str]
) -> Iterator[tuple[ServerProcess, LogReader, dict[str, tuple[str, bool]]]]:
    server = start_server(**signin_env, MCP_AUTH_FAILURE_LIMIT_PER_MINUTE="0", PYTHONUNBUFFERED="1")
    storage = MemoryTokens()
    tools = asyncio.run(list_tools(server.url, oauth_client(server.url, Browser("bob"), storage)))
    assert tools == ["get_public_info"]
    assert storage.tokens is not None
    key = signin_env["MCP_JWT_SECRET_KEY"]
    # token name -> (the token, whether it may read the confidential document)
    tokens = {
        "signed-in bob": (storage.tokens.access_token, False),
        "static public": (mint_token(key, "prop", ["public:read"]), False),
        "static none": (mint_token(key, "prop", []), False),
        "static confidential": (mint_token(key, "prop", ["confidential:read"]), True),
    }
    reader = LogReader(server)
    yield server, reader, tokens
    reader.file.close()


@settings(PROPERTY_SETTINGS, max_examples=150)
@given(
    request=requests(),
    token_name=st.sampled_from(
        ["signed-in bob", "static public", "static none", "static confidential", None]
    ),
)
def test_no_request_spelling_gets_past_the_guards_in_sign_in_mode(
    target: tuple[ServerProcess, LogReader, dict[str, tuple[str, bool]]],
    request: Request,
    token_name: str | None,
) -> None:
    server, log, tokens = target
    token, may_read = (None, False) if token_name is None else tokens[token_name]
    check_guarded(server, log, request, token, may_read)
