"""Sign-in on two replicas over an authenticated, encrypted Redis, and what an outage does.

redis-server runs with `requirepass` and TLS only (a CA and a server
certificate this test makes), as Memorystore does with AUTH and in-transit
encryption; the replicas get the AUTH string and the CA as files. A person
signs in through replica A and calls through replica B. Then Redis stops:
a replica started meanwhile warns; one that has not checked the token yet
answers a prompt JSON 503, and so do the OAuth routes on every replica;
static tokens keep working and /ready stays 200. Redis comes back with what
it kept, and the same sign-in token and its refresh work again.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.tokens import mint_token
from tests.integration.test_route_guards import call, send
from tests.redis_server import RedisServer, make_tls, running
from tests.server_process import ServerProcess, free_port
from tests.signin.conftest import StartServer
from tests.signin.flow import Balancer, Browser, MemoryTokens, list_tools, oauth_client

# Generous: the server's own bound is about two seconds (connect + read timeouts).
PROMPT_SECONDS = 10.0


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    folder = tmp_path_factory.mktemp("tls-redis")
    with running(folder, password=secrets.token_urlsafe(24), tls=make_tls(folder)) as server:
        yield server


def storage_errors(server: ServerProcess) -> float:
    metrics = httpx.get(f"{server.base_url}/metrics").text
    found = re.search(r"^mcp_oauth_storage_errors_total (\S+)$", metrics, re.MULTILINE)
    assert found
    return float(found.group(1))


def timed_post(url: str, **kwargs: object) -> tuple[httpx.Response, float]:
    start = time.monotonic()
    response = httpx.post(url, timeout=30, **kwargs)  # type: ignore[arg-type]
    return response, time.monotonic() - start


def test_signin_over_tls_redis_survives_an_outage_and_keeps_what_redis_kept(
    start_server: StartServer,
    signin_env: dict[str, str],
    tls_redis: RedisServer,
    tmp_path: Path,
) -> None:
    assert tls_redis.tls is not None
    assert tls_redis.password is not None
    password_file = tmp_path / "redis-auth"
    password_file.write_text(tls_redis.password)
    public_url = f"http://127.0.0.1:{free_port()}"
    env = {
        **signin_env,
        "MCP_PUBLIC_URL": public_url,
        "MCP_OAUTH_STORAGE_URL": tls_redis.url,
        "MCP_RATE_LIMIT_STORAGE_URL": tls_redis.url,
        "MCP_RATE_LIMIT_PER_MINUTE": "100",
        "MCP_REDIS_PASSWORD_FILE": str(password_file),
        "MCP_REDIS_CA_FILE": str(tls_redis.tls.ca),
    }
    assert tls_redis.url.startswith("rediss://")
    assert tls_redis.password not in tls_redis.url
    a, b = start_server(**env), start_server(**env)

    # Sign in through A only.
    through_a = Balancer(public_url, [a.port])
    storage = MemoryTokens()
    tools = asyncio.run(
        list_tools(
            f"{public_url}/mcp",
            oauth_client(f"{public_url}/mcp", Browser("alice", route=through_a.route), storage),
            transport=through_a.transport(),
        )
    )
    assert tools == ["get_confidential_info", "get_public_info"]
    assert storage.tokens is not None
    assert storage.client is not None
    signed_in = storage.tokens.access_token
    static = mint_token(signin_env["MCP_JWT_SECRET_KEY"], "ops", ["public:read"], expires_in=600)

    # Calls through B: the state A wrote is in the shared, encrypted store.
    assert send(b, call("get_public_info"), signed_in).status_code == 200
    with tls_redis.client() as direct:
        assert direct.dbsize() > 0

    tls_redis.stop()
    try:
        # A replica that starts now comes up, and says why sign-in will fail.
        late = start_server(**env)
        assert "Redis store unreachable at start" in late.logs()
        assert "MCP_OAUTH_STORAGE_URL" in late.logs()
        errors_before = storage_errors(late)
        # It has never checked this token, and cannot without the store: a prompt
        # JSON 503, not a 401 telling the client its token is bad.
        refused, took = timed_post(
            late.url,
            json=call("get_public_info"),
            headers={"Authorization": f"Bearer {signed_in}", "Accept": "application/json"},
        )
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"] == "temporarily_unavailable"
        assert int(refused.headers["retry-after"]) > 0
        assert took < PROMPT_SECONDS
        assert storage_errors(late) > errors_before
        # B checked it before the outage and remembers that until it expires
        # (app/signin_cache.py): its calls go on.
        assert send(b, call("get_public_info"), signed_in).status_code == 200
        # The OAuth routes on either replica: a JSON 503, never a 500.
        registered, took = timed_post(
            f"{a.base_url}/register",
            json={"redirect_uris": ["http://127.0.0.1:53682/callback"], "client_name": "x"},
        )
        assert registered.status_code == 503, registered.text
        assert registered.json()["error"] == "temporarily_unavailable"
        assert took < PROMPT_SECONDS
        token_answer, _ = timed_post(
            f"{b.base_url}/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": storage.tokens.refresh_token,
                "client_id": storage.client.client_id,
            },
        )
        assert token_answer.status_code == 503, token_answer.text
        # Static tokens never touch the store; the pods stay in the load balancer.
        assert send(late, call("get_public_info"), static).status_code == 200
        assert httpx.get(f"{late.base_url}/ready").status_code == 200
        assert tls_redis.password not in late.logs() + a.logs() + b.logs()
    finally:
        tls_redis.start()

    # Redis is back with what it kept: the same token works everywhere, and refreshes.
    deadline = time.monotonic() + PROMPT_SECONDS
    while send(late, call("get_public_info"), signed_in).status_code != 200:
        assert time.monotonic() < deadline, "sign-in did not recover after Redis came back"
        time.sleep(0.5)
    assert send(a, call("get_public_info"), signed_in).status_code == 200
    refreshed = httpx.post(
        f"{a.base_url}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": storage.tokens.refresh_token,
            "client_id": storage.client.client_id,
        },
        timeout=30,
    )
    assert refreshed.status_code == 200, refreshed.text
    assert send(b, call("get_public_info"), refreshed.json()["access_token"]).status_code == 200
