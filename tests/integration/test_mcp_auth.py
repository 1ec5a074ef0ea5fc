"""Scoped access through the real server process, driven over real HTTP with the MCP handshake."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from app.catalog import ALL_SCOPES
from app.config import BUNDLED_DOCUMENTS
from app.tokens import mint_token
from mcp_cli.client import McpClient
from tests.bearer import assert_needs_confidential_scope, expired
from tests.server_process import ServerProcess

MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def rpc(method: str, params: dict[str, object] | None = None, id_: int = 1) -> dict[str, object]:
    return {"jsonrpc": "2.0", "id": id_, "method": method, "params": params or {}}


def post(
    server: ServerProcess, body: object, token: str | None = None, **headers: str
) -> httpx.Response:
    all_headers = dict(MCP_HEADERS, **headers)
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    return httpx.post(server.url, content=json.dumps(body), headers=all_headers, timeout=10)


def tool_names(server: ServerProcess, token: str) -> list[str]:
    client = McpClient(server.url, token)
    info = client.initialize()
    assert info["serverInfo"]["name"] == "secure-mcp-server"
    return sorted(tool["name"] for tool in client.list_tools())


@pytest.mark.parametrize(
    ("scopes", "visible"),
    [
        (["public:read"], ["get_public_info"]),
        (["public:read", "confidential:read"], ["get_confidential_info", "get_public_info"]),
        (["confidential:read"], ["get_confidential_info"]),
        ([], []),
        (["unrelated:write"], []),
    ],
)
def test_tools_list_shows_only_what_the_scopes_allow(
    server: ServerProcess,
    token_for: Callable[..., str],
    scopes: list[str],
    visible: list[str],
) -> None:
    assert tool_names(server, token_for(*scopes)) == visible


def test_authorized_call_returns_the_document(
    server: ServerProcess, token_for: Callable[..., str]
) -> None:
    client = McpClient(server.url, token_for("public:read", "confidential:read"))
    client.initialize()
    expected = (BUNDLED_DOCUMENTS / "confidential.md").read_text()
    assert client.call_tool("get_confidential_info") == expected
    assert client.call_tool("get_public_info") == (BUNDLED_DOCUMENTS / "public.md").read_text()


def test_unauthorized_call_gets_403_insufficient_scope(
    server: ServerProcess, token_for: Callable[..., str]
) -> None:
    body = rpc("tools/call", {"name": "get_confidential_info", "arguments": {}}, id_=42)
    response = post(server, body, token_for("public:read"))

    assert_needs_confidential_scope(response, server.base_url)
    error = response.json()
    assert error["jsonrpc"] == "2.0"
    assert error["id"] == 42
    assert "Permission denied" in error["error"]["message"]
    assert "confidential:read" in error["error"]["message"]


@pytest.mark.parametrize("kind", ["none", "expired", "garbage", "wrong key", "query string"])
def test_missing_or_invalid_token_gets_401_with_challenge(
    server: ServerProcess, token_for: Callable[..., str], signing_key: str, kind: str
) -> None:
    body = rpc("tools/list")
    tokens = {
        "expired": expired(signing_key),
        "garbage": "not.a.token",
        "wrong key": mint_token("x" * 40, "mallory", ["public:read"]),
    }
    if kind == "query string":
        # RFC 6750 allows ?access_token=; MCP forbids it, so it is simply not read.
        response = httpx.post(
            f"{server.url}?access_token={token_for('public:read')}",
            content=json.dumps(body),
            headers=MCP_HEADERS,
        )
    else:
        response = post(server, body, tokens.get(kind))
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer")
    metadata = f"{server.base_url}/.well-known/oauth-protected-resource/mcp"
    assert f'resource_metadata="{metadata}"' in challenge
    if kind in tokens:
        assert 'error="invalid_token"' in challenge


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"]
)
def test_protected_resource_metadata(server: ServerProcess, path: str) -> None:
    response = httpx.get(f"{server.base_url}{path}")
    assert response.status_code == 200
    document = response.json()
    assert document["resource"] == server.url
    assert sorted(document["scopes_supported"]) == sorted(ALL_SCOPES)
    assert document["bearer_methods_supported"] == ["header"]
    # Shared-key tokens come from `make token`: no authorization server to send clients to.
    assert "authorization_servers" not in document


def test_health_ready_and_metrics(server: ServerProcess, token_for: Callable[..., str]) -> None:
    assert httpx.get(f"{server.base_url}/health").json() == {"status": "ok"}
    assert httpx.get(f"{server.base_url}/ready").json() == {"status": "ready"}
    post(server, rpc("tools/call", {"name": "get_confidential_info"}), token_for("public:read"))
    post(server, rpc("tools/call", {"name": "get_public_info"}), token_for("public:read"))
    metrics = httpx.get(f"{server.base_url}/metrics").text
    assert 'mcp_auth_decisions_total{outcome="denied",reason="missing_scope"}' in metrics
    assert 'mcp_auth_decisions_total{outcome="allowed",reason="scope_granted"}' in metrics
    assert 'mcp_tool_calls_total{result="ok",tool="get_public_info"}' in metrics
    assert 'mcp_http_requests_total{method="POST",route="/mcp",status="403"}' in metrics
    assert "mcp_http_request_duration_seconds_bucket" in metrics


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        ("https://evil.example", 403),
        ("http://localhost.evil.example", 403),
        ("null", 403),
        ("http://localhost:3000", 200),
        ("http://127.0.0.1:6274", 200),
    ],
)
def test_origin_allow_list(
    server: ServerProcess, token_for: Callable[..., str], origin: str, status: int
) -> None:
    initialize = rpc(
        "initialize",
        {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    )
    response = post(server, initialize, token_for("public:read"), Origin=origin)
    assert response.status_code == status


def test_rate_limit_answers_429_with_retry_after(
    start_server: Callable[..., ServerProcess], token_for: Callable[..., str]
) -> None:
    limited = start_server(MCP_RATE_LIMIT_PER_MINUTE="3")
    alice, bob = token_for("public:read", sub="alice"), token_for("public:read", sub="bob")
    statuses = [post(limited, rpc("tools/list"), alice).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = post(limited, rpc("tools/list"), alice)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    # The budget is per subject: bob is unaffected by alice's burst.
    assert post(limited, rpc("tools/list"), bob).status_code == 200


def test_two_replicas_answer_alternate_requests_of_one_session(
    server: ServerProcess,
    start_server: Callable[..., ServerProcess],
    token_for: Callable[..., str],
) -> None:
    other = start_server(MCP_RATE_LIMIT_PER_MINUTE="0")
    client = McpClient(server.url, token_for("public:read"))
    client.initialize()  # initialize on one replica, notifications/initialized too
    client.url = other.url
    assert [t["name"] for t in client.list_tools()] == ["get_public_info"]
    client.url = server.url
    assert "public information" in client.call_tool("get_public_info")
    client.url = other.url
    assert "public information" in client.call_tool("get_public_info")
    assert client.session_id is None  # stateless: no session to pin to a replica


@pytest.mark.parametrize(
    "raw",
    [
        rb'{"jsonrpc":"2.0","id":5,"method":"tools\/call","params":{"name":"get_confidential_info"}}',
        rb'{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"get\u005fconfidential_info"}}',
        rb'{"jsonrpc":"2.0","id":5,"method":"\u0074ools/call","params":{"name":"get_confidential_info"}}',
    ],
)
def test_json_escapes_do_not_slip_past_the_scope_gate(
    server: ServerProcess, token_for: Callable[..., str], raw: bytes
) -> None:
    headers = dict(MCP_HEADERS, Authorization=f"Bearer {token_for('public:read')}")
    response = httpx.post(server.url, content=raw, headers=headers)
    assert response.status_code == 403
    assert 'scope="confidential:read"' in response.headers["www-authenticate"]
