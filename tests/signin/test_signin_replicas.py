"""Two replicas sharing a real redis-server: a sign-in flow hops between them at every step.

Registration, authorization, the consent page, the provider's callback, the
token exchange and the MCP calls each land on the other replica from the step
before, as behind a round-robin load balancer; the flow completes only because
both keep the OAuth proxy's state in the same Redis.
"""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.server_process import free_port
from tests.signin.conftest import StartServer
from tests.signin.flow import Balancer, Browser, MemoryTokens, list_tools, oauth_client


def _redis_keys(redis_url: str) -> int:
    host_port = redis_url.split("//")[1].split("/")[0]
    host, port = host_port.split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"DBSIZE\r\n")
        reply = sock.recv(64)
    assert reply.startswith(b":"), reply
    return int(reply[1:].strip())


async def test_a_flow_started_on_one_replica_finishes_on_the_other(
    start_server: StartServer, signin_env: dict[str, str], redis_url: str
) -> None:
    public_url = f"http://127.0.0.1:{free_port()}"  # the balancer's address, as clients see it
    env = {**signin_env, "MCP_PUBLIC_URL": public_url, "MCP_OAUTH_STORAGE_URL": redis_url}
    replicas = [start_server(**env), start_server(**env)]
    balancer = Balancer(public_url, [r.port for r in replicas])
    browser = Browser("alice", route=balancer.route)
    storage = MemoryTokens()

    tools = await list_tools(
        f"{public_url}/mcp",
        oauth_client(f"{public_url}/mcp", browser, storage),
        transport=balancer.transport(),
    )

    assert tools == ["get_confidential_info", "get_public_info"]
    assert storage.tokens is not None
    assert storage.tokens.scope == "confidential:read public:read"
    # Both replicas answered, alternately, and the state they shared is in Redis.
    assert set(balancer.sent) == {r.port for r in replicas}
    assert all(a != b for a, b in zip(balancer.sent, balancer.sent[1:], strict=False))
    assert _redis_keys(redis_url) > 0


async def test_a_refresh_asks_the_policy_again(
    start_server: StartServer,
    signin_env: dict[str, str],
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # Two replicas sharing state whose policies differ, as during a policy rollout:
    # alice signs in where she has both scopes and refreshes where she has one.
    narrower = tmp_path_factory.mktemp("narrower") / "policy.yaml"
    narrower.write_text("rules:\n  - emails: [alice@example.com]\n    scopes: [public:read]\n")
    public_url = f"http://127.0.0.1:{free_port()}"
    env = {**signin_env, "MCP_PUBLIC_URL": public_url, "MCP_OAUTH_STORAGE_URL": redis_url}
    before = start_server(**env)
    after = start_server(**{**env, "MCP_SCOPE_POLICY_FILE": str(narrower)})
    balancer = Balancer(public_url, [before.port])
    storage = MemoryTokens()
    await list_tools(
        f"{public_url}/mcp",
        oauth_client(f"{public_url}/mcp", Browser("alice", route=balancer.route), storage),
        transport=balancer.transport(),
    )
    assert storage.tokens is not None
    assert storage.client is not None
    assert storage.tokens.scope == "confidential:read public:read"

    async with httpx.AsyncClient(timeout=15) as http:
        refreshed = await http.post(
            f"{after.base_url}/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": storage.tokens.refresh_token,
                "client_id": storage.client.client_id,
            },
        )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["scope"] == "public:read"
