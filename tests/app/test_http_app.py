"""The assembled application in-process: every guard in place on the real routes.

The server's own tests run it under uvicorn in another process (tests/integration);
these drive the same ASGI app in this process (httpx's ASGI transport, the
lifespan run by hand), so `make mutate` can see which of them reach each line of
app/http_app.py and app/shared_key.py. They say what a client sees, not how the
guards are wired.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import pytest
from limits.aio.storage.redis.redispy import RedispyBridge
from prometheus_client import REGISTRY
from starlette.types import ASGIApp, Message

import app.key_files
import app.shared_limits
from app import config
from app.challenges import MINT_HINT
from app.http_app import assemble, build_app, limiters
from app.key_files import fingerprint
from app.probes import Lifecycle
from app.reload_metrics import denylist_fingerprint
from app.shared_limits import SharedStore, shared_store
from app.tokens import DEFAULT_AUDIENCE, DEFAULT_ISSUER, mint_token
from tests.app.conftest import OLD_KEY, Clock, Issuer
from tests.redis_server import running
from tests.server_process import free_port

KEY = "k" * 40
MCP = "/mcp"
ACCEPT = {"Accept": "application/json, text/event-stream"}


def rpc(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}


def bearer(*scopes: str) -> dict[str, str]:
    return {**ACCEPT, "Authorization": f"Bearer {mint_token(KEY, 'alice', list(scopes))}"}


@asynccontextmanager
async def lifespan(app: ASGIApp) -> AsyncIterator[None]:
    """Run the app's ASGI lifespan (the MCP transport's task group) around the block."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()

    async def run() -> None:
        await app({"type": "lifespan", "state": {}}, inbox.get, outbox.put)

    task = asyncio.create_task(run())
    await inbox.put({"type": "lifespan.startup"})
    started = asyncio.ensure_future(outbox.get())
    # An app that fails to start fails the test with its own error, at once.
    await asyncio.wait({task, started}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        started.cancel()
        task.result()
    assert started.done(), "the app did not start within 30 s"
    assert started.result()["type"] == "lifespan.startup.complete"
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(task, 30)


@asynccontextmanager
async def served(monkeypatch: pytest.MonkeyPatch, **env: str) -> AsyncIterator[httpx.AsyncClient]:
    for name in list(config.Settings.model_fields):
        monkeypatch.delenv(f"MCP_{name.upper()}", raising=False)
    if "MCP_JWT_SECRET_FILE" not in env:
        monkeypatch.setenv("MCP_JWT_SECRET_KEY", KEY)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = build_app(config.load(), Lifecycle())
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as c:
            yield c


async def test_a_granted_call_is_answered_and_a_missing_scope_is_403(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with served(monkeypatch) as client:
        public = rpc("tools/call", {"name": "get_public_info", "arguments": {}})
        answer = await client.post(MCP, json=public, headers=bearer("public:read"))
        assert answer.status_code == 200
        assert answer.json()["result"]["isError"] is False
        secret = rpc("tools/call", {"name": "get_confidential_info", "arguments": {}})
        denied = await client.post(MCP, json=secret, headers=bearer("public:read"))
        assert denied.status_code == 403
        assert 'error="insufficient_scope"' in denied.headers["www-authenticate"]


async def test_no_token_is_401_naming_the_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    async with served(monkeypatch, MCP_PUBLIC_URL="https://mcp.example") as client:
        answer = await client.post(MCP, json=rpc("tools/list"), headers=ACCEPT)
    assert answer.status_code == 401
    metadata = "https://mcp.example/.well-known/oauth-protected-resource/mcp"
    assert f'resource_metadata="{metadata}"' in answer.headers["www-authenticate"]
    # Without sign-in, the way to a token is to mint one, not to sign in.
    description = answer.json()["error"]["data"]["error_description"]
    assert description.endswith(MINT_HINT)


async def test_a_foreign_origin_is_refused_before_the_token_is_looked_at(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with served(monkeypatch, MCP_ALLOWED_ORIGINS="https://app.example") as client:
        foreign = {**bearer("public:read"), "Origin": "https://evil.example"}
        assert (await client.post(MCP, json=rpc("tools/list"), headers=foreign)).status_code == 403
        without_token = {**ACCEPT, "Origin": "https://evil.example"}
        refused = await client.post(MCP, json=rpc("tools/list"), headers=without_token)
        assert refused.status_code == 403
        allowed = {**bearer("public:read"), "Origin": "https://app.example"}
        assert (await client.post(MCP, json=rpc("tools/list"), headers=allowed)).status_code == 200


async def test_each_subject_is_rate_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    async with served(monkeypatch, MCP_RATE_LIMIT_PER_MINUTE="1") as client:
        headers = bearer("public:read")
        assert (await client.post(MCP, json=rpc("tools/list"), headers=headers)).status_code == 200
        limited = await client.post(MCP, json=rpc("tools/list"), headers=headers)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1


async def test_refused_tokens_are_limited_per_address(monkeypatch: pytest.MonkeyPatch) -> None:
    async with served(monkeypatch, MCP_AUTH_FAILURE_LIMIT_PER_MINUTE="1") as client:
        bad = {**ACCEPT, "Authorization": "Bearer not-a-token"}
        assert (await client.post(MCP, json=rpc("tools/list"), headers=bad)).status_code == 401
        assert (await client.post(MCP, json=rpc("tools/list"), headers=bad)).status_code == 429


async def test_bodies_paths_and_json_are_bounded_on_every_route(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with served(monkeypatch) as client:
        huge = b" " * (1024 * 1024 + 1)
        assert (await client.post(MCP, content=huge, headers=bearer())).status_code == 413
        assert (await client.post("/register", content=huge)).status_code == 413
        control = await client.get("/health%0a")  # would route to /health after a strip
        assert (control.status_code, control.json()) == (404, {"error": "not_found"})
        broken = await client.post(
            "/register", content=b"{", headers={"Content-Type": "application/json"}
        )
        assert broken.status_code == 400
        assert broken.json()["error"] == "invalid_request"
        assert (await client.get("/health")).status_code == 200


async def test_shared_key_mode_names_no_authorization_server_and_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with served(monkeypatch, MCP_PUBLIC_URL="https://mcp.example") as client:
        documents = [
            (await client.get(path)).json()
            for path in ("/.well-known/oauth-protected-resource/mcp",
                         "/.well-known/oauth-protected-resource")
        ]  # fmt: skip
        register = await client.post("/register", json={"scope": "confidential:read"})
        token = await client.post("/token", data={"grant_type": "client_credentials"})
        authorize = await client.get("/authorize", params={"scope": "public:read nope"})
        server = await client.get("/.well-known/oauth-authorization-server")
    assert documents[0] == documents[1]
    assert documents[0]["resource"] == "https://mcp.example/mcp"
    assert "authorization_servers" not in documents[0]
    assert set(documents[0]["scopes_supported"]) == {"public:read", "confidential:read"}
    assert register.status_code == 400
    assert register.json()["error"] == "access_denied"
    assert "make token SCOPES=confidential:read`" in register.json()["error_description"]
    assert token.json()["error"] == "unsupported_grant_type"
    assert "make token SCOPES=public:read`" in authorize.json()["error_description"]
    assert server.status_code == 404


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"MCP_AUTHORIZATION_SERVER": "https://auth.example"}, "https://auth.example/"),
        ({"MCP_JWT_ISSUER": "https://issuer.example"}, "https://issuer.example/"),
        ({"MCP_JWT_ISSUER": "http://issuer.example"}, "http://issuer.example/"),
    ],
)
async def test_the_metadata_names_the_authorization_server_when_there_is_one(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    async with served(monkeypatch, **env) as client:
        document = (await client.get("/.well-known/oauth-protected-resource/mcp")).json()
        register = await client.post("/register", content=json.dumps({}))
    assert document["authorization_servers"] == [named]
    # The rest of the document is what shared-key mode serves (the test above).
    assert document["scopes_supported"] == ["confidential:read", "public:read"]
    assert document["resource_name"] == "Secure MCP Server"
    assert register.status_code == 404  # no fallback: the named server does sign-in


@pytest.mark.parametrize(
    ("method", "path", "request_options", "scopes"),
    [
        ("GET", "/authorize", {"params": {"scope": "confidential:read"}}, "confidential:read"),
        ("POST", "/authorize", {"params": {"scope": "confidential:read"}}, "confidential:read"),
        ("POST", "/token", {"data": {"scope": "confidential:read"}}, "confidential:read"),
        (
            "POST",
            "/register",
            {"json": {"scope": "public:read confidential:read"}},
            "confidential:read,public:read",
        ),
        ("POST", "/register", {"json": ["a list"]}, "public:read"),
        ("POST", "/register", {"content": b""}, "public:read"),
        ("GET", "/register", {}, "public:read"),
    ],
)
async def test_each_oauth_fallback_names_the_scopes_asked_for_or_the_least_one(
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    path: str,
    request_options: dict[str, Any],
    scopes: str,
) -> None:
    async with served(monkeypatch) as client:
        answer = await client.request(method, path, **request_options)
    assert answer.status_code == 400
    description = answer.json()["error_description"]
    assert f"`make token SCOPES={scopes}`" in description
    assert f"--scopes {scopes}`" in description
    assert "Authorization: Bearer <token>" in description


async def test_the_resource_metadata_is_cacheable_and_answers_cors_preflight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = "/.well-known/oauth-protected-resource/mcp"
    async with served(monkeypatch, MCP_PUBLIC_URL="https://mcp.example") as client:
        answer = await client.get(path)
        preflight = await client.options(
            path,
            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
        )
    assert answer.json() == {
        "resource": "https://mcp.example/mcp",
        "scopes_supported": ["confidential:read", "public:read"],
        "bearer_methods_supported": ["header"],
        "resource_name": "Secure MCP Server",
    }
    assert answer.headers["cache-control"] == "public, max-age=3600"
    assert preflight.status_code == 200
    assert set(preflight.headers["access-control-allow-methods"].split(", ")) == {"GET", "OPTIONS"}


async def test_behind_a_path_prefix_the_challenge_leads_to_metadata_naming_the_prefixed_resource(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A gateway may route by path (https://gw.example/team-X); clients only see that URL."""
    async with served(monkeypatch, MCP_PUBLIC_URL="https://gw.example/team-X") as client:
        challenge = (await client.post(MCP, json=rpc("tools/list"), headers=ACCEPT)).headers
        found = re.search(r'resource_metadata="([^"]+)"', challenge["www-authenticate"])
        assert found, challenge
        document = await client.get(urlsplit(found[1]).path)
    assert document.status_code == 200
    assert document.json()["resource"] == "https://gw.example/team-X/mcp"


async def test_the_verifier_gets_every_token_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issuer, lifetime cap and deny-list reach the verifier the app is built with."""
    revoked = mint_token(KEY, "mallory", ["public:read"], expires_in=600)
    denylist = tmp_path / "denylist"
    denylist.write_text(jwt.decode(revoked, options={"verify_signature": False})["jti"] + "\n")
    env = {"MCP_JWT_DENYLIST_FILE": str(denylist), "MCP_JWT_MAX_TOKEN_LIFETIME_SECONDS": "600"}
    async with served(monkeypatch, **env) as client:

        async def status(token: str) -> int:
            headers = {**ACCEPT, "Authorization": f"Bearer {token}"}
            return (await client.post(MCP, json=rpc("tools/list"), headers=headers)).status_code

        assert await status(mint_token(KEY, "alice", ["public:read"], expires_in=600)) == 200
        assert await status(mint_token(KEY, "alice", ["public:read"], expires_in=3600)) == 401
        assert await status(revoked) == 401
        assert await status(mint_token(KEY, "a", ["public:read"], 600, issuer="other")) == 401


async def test_the_configured_clock_leeway_reaches_the_verifier(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = int(time.time())
    claims = {"sub": "alice", "iss": DEFAULT_ISSUER, "aud": DEFAULT_AUDIENCE, "iat": now - 120}
    expired_a_minute_ago = jwt.encode({**claims, "exp": now - 60, "scope": "public:read"}, KEY)
    headers = {**ACCEPT, "Authorization": f"Bearer {expired_a_minute_ago}"}
    async with served(monkeypatch, MCP_JWT_LEEWAY_SECONDS="120") as client:
        tolerated = await client.post(MCP, json=rpc("tools/list"), headers=headers)
    async with served(monkeypatch, MCP_JWT_LEEWAY_SECONDS="0") as client:
        refused = await client.post(MCP, json=rpc("tools/list"), headers=headers)
    assert (tolerated.status_code, refused.status_code) == (200, 401)


async def test_tokens_of_an_oidc_issuer_are_checked_against_its_published_keys(
    monkeypatch: pytest.MonkeyPatch, issuer: Issuer
) -> None:
    async with served(monkeypatch, MCP_JWT_JWKS_URL=issuer.url) as client:

        async def status(token: str) -> int:
            headers = {**ACCEPT, "Authorization": f"Bearer {token}"}
            return (await client.post(MCP, json=rpc("tools/list"), headers=headers)).status_code

        assert await status(issuer.token(OLD_KEY, "old")) == 200
        assert await status(issuer.token(OLD_KEY, "unpublished")) == 401
    assert issuer.requests >= 1


async def test_replicas_sharing_a_redis_store_count_each_subject_and_address_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two apps (two replicas) with one MCP_RATE_LIMIT_STORAGE_URL share both budgets."""
    # A server keeps its Redis pool for its life; this test closes what its apps opened.
    stores: list[SharedStore] = []

    def recorded(url: str, options: dict[str, Any]) -> SharedStore:
        stores.append(shared_store(url, options))
        return stores[-1]

    async def statuses(limit: str, replicas: int, headers: dict[str, str]) -> list[int]:
        env = {
            "MCP_RATE_LIMIT_STORAGE_URL": redis_server.url,
            "MCP_RATE_LIMIT_PER_MINUTE": limit,
            "MCP_AUTH_FAILURE_LIMIT_PER_MINUTE": limit,
        }
        async with served(monkeypatch, **env) as one, served(monkeypatch, **env) as two:
            return [
                (await replica.post(MCP, json=rpc("tools/list"), headers=headers)).status_code
                for replica in [one, two] * replicas
            ]

    monkeypatch.setattr(app.shared_limits, "shared_store", recorded)
    bad = {**ACCEPT, "Authorization": "Bearer not-a-token"}
    with running(tmp_path, durable=False) as redis_server:
        try:
            good_at_one = await statuses("1", 1, bearer("public:read"))
            refused_at_one = await statuses("1", 1, bad)
            good_unlimited = await statuses("0", 2, bearer("public:read"))
            refused_unlimited = await statuses("0", 2, bad)
        finally:
            for store in stores:
                bridge = store.storage.bridge
                assert isinstance(bridge, RedispyBridge)
                await bridge.storage.aclose()
    assert (good_at_one, refused_at_one) == ([200, 429], [401, 429])
    assert (good_unlimited, refused_unlimited) == ([200] * 4, [401] * 4)


async def test_an_unreachable_limit_store_is_named_at_start(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    with caplog.at_level(logging.WARNING, logger="app.redis_store"):
        async with served(monkeypatch, MCP_RATE_LIMIT_STORAGE_URL=closed) as client:
            answer = await client.post(MCP, json=rpc("tools/list"), headers=bearer("public:read"))
    [warning] = [r for r in caplog.records if r.getMessage() == "Redis store unreachable at start"]
    assert warning.__dict__["setting"] == "MCP_RATE_LIMIT_STORAGE_URL"
    assert answer.status_code == 200  # the limits fail open


async def test_limits_turned_off_never_ask_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    def storage_errors() -> float:
        return REGISTRY.get_sample_value("mcp_limit_storage_errors_total") or 0.0

    closed = f"redis://127.0.0.1:{free_port()}/0"
    env = {"MCP_RATE_LIMIT_PER_MINUTE": "0", "MCP_AUTH_FAILURE_LIMIT_PER_MINUTE": "0"}
    before = storage_errors()
    async with served(monkeypatch, MCP_RATE_LIMIT_STORAGE_URL=closed, **env) as client:
        for token in ("not-a-token", mint_token(KEY, "alice", ["public:read"])):
            headers = {**ACCEPT, "Authorization": f"Bearer {token}"}
            await client.post(MCP, json=rpc("tools/list"), headers=headers)
    assert storage_errors() == before


async def test_probes_metrics_and_the_root_metadata_are_served(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with served(monkeypatch) as client:
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/ready")).json() == {"status": "ready"}
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200
        assert "mcp_auth_decisions_total" in metrics.text
        assert (await client.post("/metrics")).status_code == 405
        root = "/.well-known/oauth-protected-resource"
        assert (await client.post(root)).status_code == 405
        preflight = await client.options(
            root, headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}
        )
        assert preflight.status_code == 200


async def test_request_lines_link_the_callers_trace_in_the_configured_project(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    trace_id, span_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    headers = {**bearer("public:read"), "traceparent": f"00-{trace_id}-{span_id}-01"}
    async with served(monkeypatch, MCP_GCP_PROJECT_ID="mcp-demo-123") as client:
        with caplog.at_level(logging.INFO, logger="app.http"):
            answer = await client.post(MCP, json=rpc("tools/list"), headers=headers)
    assert answer.status_code == 200
    [line] = [r for r in caplog.records if r.getMessage() == "request"]
    assert getattr(line, "logging.googleapis.com/trace") == (
        f"projects/mcp-demo-123/traces/{trace_id}"
    )


async def test_without_authentication_only_the_guards_that_judge_no_token_stay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """benchmarks/server_without_auth.py measures the chain without a provider this way."""
    for name in list(config.Settings.model_fields):
        monkeypatch.delenv(f"MCP_{name.upper()}", raising=False)
    monkeypatch.setenv("MCP_JWT_SECRET_KEY", KEY)
    monkeypatch.setenv("MCP_ALLOWED_ORIGINS", "https://app.example")
    loaded = config.load()
    app = assemble(loaded, Lifecycle(), None, limiters(loaded.settings))
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as c:
            secret = rpc("tools/call", {"name": "get_confidential_info", "arguments": {}})
            answer = await c.post(MCP, json=secret, headers=ACCEPT)  # no token, no scope
            assert answer.status_code == 200
            assert answer.json()["result"]["isError"] is False
            foreign = {**ACCEPT, "Origin": "https://evil.example"}
            assert (await c.post(MCP, json=secret, headers=foreign)).status_code == 403
            big = await c.post(MCP, content=b"x" * (1024 * 1024 + 1), headers=ACCEPT)
            assert big.status_code == 413


async def test_a_missing_scope_names_the_resource_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    async with served(monkeypatch, MCP_PUBLIC_URL="https://mcp.example") as client:
        secret = rpc("tools/call", {"name": "get_confidential_info", "arguments": {}})
        denied = await client.post(MCP, json=secret, headers=bearer("public:read"))
    assert denied.status_code == 403
    metadata = "https://mcp.example/.well-known/oauth-protected-resource/mcp"
    assert f'resource_metadata="{metadata}"' in denied.headers["www-authenticate"]


async def test_each_refused_token_counts_once(monkeypatch: pytest.MonkeyPatch) -> None:
    async with served(monkeypatch, MCP_AUTH_FAILURE_LIMIT_PER_MINUTE="3") as client:
        bad = {**ACCEPT, "Authorization": "Bearer not-a-token"}
        statuses = [
            (await client.post(MCP, json=rpc("tools/list"), headers=bad)).status_code
            for _ in range(4)
        ]
    assert statuses == [401, 401, 401, 429]


async def test_a_malformed_mcp_body_gets_a_json_rpc_parse_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """MCP clients show a JSON-RPC error's message; the other routes answer OAuth-style."""
    headers = {**bearer("public:read"), "Content-Type": "application/json"}
    async with served(monkeypatch) as client:
        answer = await client.post(
            MCP, content=b'{"jsonrpc": "2.0", "id": 1, "id": 2}', headers=headers
        )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == -32700


async def test_a_scrape_brings_the_deny_list_metric_up_to_date_without_requests(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clock = Clock(1_000.0)
    monkeypatch.setattr(app.key_files, "time", clock)
    denylist, key = tmp_path / "denylist", tmp_path / "key"
    denylist.write_text("one\n")
    key.write_text(KEY)
    env = {"MCP_JWT_DENYLIST_FILE": str(denylist), "MCP_JWT_SECRET_FILE": str(key)}
    async with served(monkeypatch, **env) as client:
        fresh = tmp_path / "fresh"
        fresh.write_text("two\n")
        fresh.replace(denylist)
        other_key = "n" * 40
        fresh.write_text(other_key)
        fresh.replace(key)
        clock.now += 2
        metrics = (await client.get("/metrics")).text
    assert f'mcp_denylist_info{{fingerprint="{denylist_fingerprint(["two"])}"}} 1.0' in metrics
    assert f'fingerprint="{fingerprint(other_key.encode())}",slot="current"' in metrics


async def test_the_mcp_route_and_host_rule_are_ours_whatever_fastmcp_defaults_say(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """FASTMCP_* environment variables move FastMCP's defaults; the server's contract stays."""
    import fastmcp

    monkeypatch.setattr(fastmcp.settings, "streamable_http_path", "/elsewhere")
    monkeypatch.setattr(fastmcp.settings, "http_host_origin_protection", True)
    async with served(monkeypatch) as client:
        # The Host differs per route into the cluster (Service DNS, port-forward, ingress).
        headers = {**bearer("public:read"), "Host": "mcp.mcp.svc.cluster.local:8080"}
        answer = await client.post(MCP, json=rpc("tools/list"), headers=headers)
    assert answer.status_code == 200
