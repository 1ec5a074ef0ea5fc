"""Sign-in mode held to the static-token path's standard, over the real transport.

Each test runs servers under uvicorn (`python -m app`), the real OpenID Connect
test provider and, where state is shared, a real redis-server: registration is
bounded, revocation reaches sign-in tokens, identities are the provider's stable
ids, refusals say their true reason, and stored state cannot be moved between
tokens.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Any, cast

import httpx
import jwt
import redis
from fastmcp.server.auth.jwt_issuer import derive_jwt_key

from app.tokens import mint_token
from tests.helpers import eventually, require
from tests.integration.test_shared_limits import limit_errors
from tests.redis_server import running
from tests.server_process import ServerProcess, free_port, run_python
from tests.signin.conftest import StartServer
from tests.signin.flow import (
    CLIENT_REDIRECT,
    Browser,
    MemoryTokens,
    all_messages,
    call_as_client,
    call_tool,
    error_description,
    oauth_client,
    sign_in,
)
from tests.signin.provider import Process

CONFIDENTIAL = "get_confidential_info"
CLIENT_METADATA: dict[str, Any] = {
    "client_name": "registration test",
    "redirect_uris": [CLIENT_REDIRECT],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
}


def _issuer(oidc_provider: str) -> str:
    """The provider's issuer, which qualifies every subject it names."""
    configuration = httpx.get(f"{oidc_provider}/.well-known/openid-configuration").json()
    return str(configuration["issuer"])


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


async def _until(check: Any, within: float = 15.0) -> Any:
    """Poll an async check until it returns something truthy (files are looked at each second)."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.3)


async def _refresh(
    server: ServerProcess, refresh_token: str | None, client_id: str | None, **extra: str
) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token or "", **extra}
    async with httpx.AsyncClient(timeout=15) as http:
        return await http.post(f"{server.base_url}/token", data={**form, "client_id": client_id})


# --- 4: registration ----------------------------------------------------------------


def test_many_registrations_from_one_address_get_429(
    start_server: StartServer, signin_env: dict[str, str]
) -> None:
    server = start_server(**{**signin_env, "MCP_OAUTH_REGISTRATIONS_PER_MINUTE": "3"})
    statuses = []
    for _ in range(6):
        answer = httpx.post(f"{server.base_url}/register", json=CLIENT_METADATA, timeout=15)
        statuses.append(answer.status_code)
    assert statuses[:3] == [201, 201, 201]
    assert set(statuses[3:]) == {429}
    assert int(answer.headers["retry-after"]) >= 1
    assert answer.json()["error"] == "too_many_registrations"


def test_registrations_alternating_between_replicas_hit_the_shared_limit_at_its_count(
    start_server: StartServer, signin_env: dict[str, str], redis_url: str
) -> None:
    # A database of its own: the other tests' OAuth state stays out of the count.
    limits_url = redis_url.rsplit("/", 1)[0] + "/3"
    redis.Redis.from_url(limits_url).flushdb()
    env = {
        **signin_env,
        "MCP_OAUTH_REGISTRATIONS_PER_MINUTE": "3",
        "MCP_RATE_LIMIT_STORAGE_URL": limits_url,
    }
    a, b = start_server(**env), start_server(**env)
    answers = [
        httpx.post(f"{r.base_url}/register", json=CLIENT_METADATA, timeout=15)
        for r in (a, b, a, b, a, b)
    ]
    assert [r.status_code for r in answers] == [201, 201, 201, 429, 429, 429]
    for refused in answers[3:]:  # from either replica, timed by the shared window
        assert refused.json()["error"] == "too_many_registrations"
        assert 1 <= int(refused.headers["retry-after"]) <= 61


def test_registrations_are_served_and_counted_when_the_limit_store_is_away(
    start_server: StartServer, signin_env: dict[str, str]
) -> None:
    # Nothing listens on the port: the limit fails open, as the other limits do.
    server = start_server(
        **{
            **signin_env,
            "MCP_OAUTH_REGISTRATIONS_PER_MINUTE": "1",
            "MCP_RATE_LIMIT_STORAGE_URL": f"redis://127.0.0.1:{free_port()}/0",
        }
    )
    before = limit_errors(server)
    statuses = [
        httpx.post(f"{server.base_url}/register", json=CLIENT_METADATA, timeout=15).status_code
        for _ in range(3)
    ]
    assert statuses == [201, 201, 201]
    assert limit_errors(server) >= before + 3


async def test_a_client_nobody_signs_in_with_expires(
    start_server: StartServer, signin_env: dict[str, str], redis_url: str
) -> None:
    server = start_server(
        **{
            **signin_env,
            "MCP_OAUTH_STORAGE_URL": redis_url,
            # Long enough for a whole sign-in on a starved machine: the used client
            # must finish it before its own unused-client clock runs out.
            "MCP_OAUTH_UNUSED_CLIENT_TTL_SECONDS": "8",
        }
    )
    http = httpx.AsyncClient(base_url=server.base_url, timeout=15)
    used = await sign_in(server.url, "alice")  # registers a client and signs in with it
    assert used.client is not None
    assert used.tokens is not None
    unused = (await http.post("/register", json=CLIENT_METADATA)).json()

    async def authorize(client_id: str) -> httpx.Response:
        query = {
            "client_id": client_id,
            "redirect_uri": CLIENT_REDIRECT,
            "response_type": "code",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
            "state": "s",
            "scope": "public:read",
        }
        return await http.get("/authorize", params=query)

    known = await authorize(unused["client_id"])
    assert known.status_code == 302, known.text  # on its way to the consent page

    async def forgotten() -> bool:
        return (await authorize(unused["client_id"])).status_code == 400

    assert await _until(forgotten, within=30), "the unused client is still registered"
    # The client someone signed in with is kept: its refresh still works.
    refreshed = await _refresh(server, used.tokens.refresh_token, used.client.client_id)
    assert refreshed.status_code == 200, refreshed.text
    await http.aclose()


# --- 8 and 13: revocation, and refusals that say why --------------------------------


async def test_sign_in_tokens_honour_the_deny_list(
    start_server: StartServer,
    signin_env: dict[str, str],
    oidc_provider: str,
    tmp_path: Path,
) -> None:
    denylist = tmp_path / "revoked"
    denylist.write_text("# revoked token ids\n")
    server = start_server(**{**signin_env, "MCP_JWT_DENYLIST_FILE": str(denylist)})
    alice = await sign_in(server.url, "alice")
    bob = await sign_in(server.url, "bob")
    assert alice.tokens is not None
    assert bob.tokens is not None
    assert bob.client is not None
    alice_token = alice.tokens.access_token
    # Both answers are now remembered (app/signin_cache.py): the deny-list is still asked.
    assert (await call_tool(server.url, alice_token, CONFIDENTIAL)).status_code == 200
    bob_first = await call_tool(server.url, bob.tokens.access_token, "get_public_info")
    assert bob_first.status_code == 200

    # One token, by its jti; and everything of one person, by their subject.
    # Both are in the server's log line for each token it issues.
    alice_jti = _claims(alice_token)["jti"]
    bob_subject = f"{_issuer(oidc_provider)}|bob"
    issued = [line for line in server.logs().splitlines() if '"sign-in token issued"' in line]
    assert any(f'"jti": "{alice_jti}"' in line for line in issued), issued
    assert any(f'"subject": "{bob_subject}"' in line for line in issued), issued
    denylist.write_text(f"{alice_jti}\nsub:{bob_subject}\n")

    async def refused() -> httpx.Response | None:
        answer = await call_tool(server.url, alice_token, CONFIDENTIAL)
        return answer if answer.status_code == 401 else None

    answer = await _until(refused)
    assert answer is not None, "the listed jti still reads the confidential document"
    assert "revoked" in error_description(answer)
    bob_answer = await call_tool(server.url, bob.tokens.access_token, "get_public_info")
    assert bob_answer.status_code == 401
    assert "revoked" in error_description(bob_answer)
    # Bob's refresh token brings no new access token either.
    refreshed = await _refresh(server, bob.tokens.refresh_token, bob.client.client_id)
    assert refreshed.status_code in {400, 401}, refreshed.text
    assert refreshed.json()["error"] == "invalid_grant"


async def test_expired_and_forgotten_sign_in_tokens_say_so(
    start_server: StartServer, signin_env: dict[str, str], redis_url: str
) -> None:
    server = start_server(**{**signin_env, "MCP_OAUTH_STORAGE_URL": redis_url})
    alice = await sign_in(server.url, "alice")
    assert alice.tokens is not None
    token = alice.tokens.access_token

    # The same token as it is an hour later: signed by the proxy's key, exp passed.
    key = derive_jwt_key(
        high_entropy_material=signin_env["MCP_OIDC_CLIENT_SECRET"], salt="fastmcp-jwt-signing-key"
    )
    claims = _claims(token) | {"exp": int(time.time()) - 3600}
    expired = jwt.encode(claims, key, algorithm="HS256")
    answer = await call_tool(server.url, expired, CONFIDENTIAL)
    assert answer.status_code == 401
    assert "the token expired at" in error_description(answer)
    assert "sign in again" in error_description(answer)

    # The state behind the token is gone (Redis flushed, or its entry expired). The
    # replica that signed Alice in remembers its check until the token expires
    # (app/signin_cache.py); a replica that never checked the token asks the store.
    # (Its MCP_PUBLIC_URL is the first one's: the same issuer and audience.)
    replica = start_server(
        **{**signin_env, "MCP_OAUTH_STORAGE_URL": redis_url, "MCP_PUBLIC_URL": server.base_url}
    )
    redis.Redis.from_url(redis_url).flushdb()
    answer = await call_tool(replica.url, token, CONFIDENTIAL)
    assert answer.status_code == 401
    assert "no longer knows this sign-in" in error_description(answer)


# --- 9: who is who --------------------------------------------------------------------


async def test_an_unverified_email_does_not_act_as_its_owner(
    start_server: StartServer, signin_env: dict[str, str], oidc_provider: str
) -> None:
    # Eve's provider says alice@example.com without verifying it; the policy
    # gives Eve's group confidential:read and Alice's address both scopes.
    server = start_server(**{**signin_env, "MCP_RATE_LIMIT_PER_MINUTE": "5"})
    alice = await sign_in(server.url, "alice")
    eve = await sign_in(server.url, "eve")
    assert alice.tokens is not None
    assert eve.tokens is not None
    assert eve.tokens.scope == "confidential:read"  # the group's, not Alice's

    statuses = [
        (await call_tool(server.url, eve.tokens.access_token, CONFIDENTIAL)).status_code
        for _ in range(6)
    ]
    assert 429 in statuses  # Eve spent her own budget...
    alice_call = await call_tool(server.url, alice.tokens.access_token, CONFIDENTIAL)
    assert alice_call.status_code == 200  # ...not Alice's

    issuer = _issuer(oidc_provider)
    logs = server.logs()
    assert f'"subject": "{issuer}|eve"' in logs
    assert '"subject": "alice@example.com"' not in logs
    # One sign-in, one decision on the record (the callback's check is not a second one).
    decided = [line for line in logs.splitlines() if '"sign-in scopes granted"' in line]
    assert len([line for line in decided if f'{issuer}|eve"' in line]) == 1, decided


# --- 11: refused sign-in tokens are limited, and their warnings sampled --------------


async def test_refused_sign_in_tokens_count_against_the_failure_limit(
    start_server: StartServer, signin_env: dict[str, str]
) -> None:
    server = start_server(**{**signin_env, "MCP_AUTH_FAILURE_LIMIT_PER_MINUTE": "5"})
    alice = await sign_in(server.url, "alice")
    assert alice.tokens is not None
    header, payload, _ = alice.tokens.access_token.split(".")
    forged = f"{header}.{payload}.{'A' * 43}"  # the proxy's issuer, not its signature
    statuses = [(await call_tool(server.url, forged, CONFIDENTIAL)).status_code for _ in range(12)]
    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) == {429}
    warnings = [line for line in server.logs().splitlines() if '"token rejected"' in line]
    assert len(warnings) == 1, warnings


# --- 12: stored state is bound to its key ---------------------------------------------


async def test_a_stored_value_copied_under_another_jti_is_refused(
    start_server: StartServer, signin_env: dict[str, str], redis_url: str, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "rules:\n"
        "  - emails: [alice@example.com]\n    scopes: [public:read, confidential:read]\n"
        "  - emails: [mallory@elsewhere.example]\n    scopes: [public:read]\n"
    )
    server = start_server(
        **{**signin_env, "MCP_OAUTH_STORAGE_URL": redis_url, "MCP_SCOPE_POLICY_FILE": str(policy)}
    )
    alice = await sign_in(server.url, "alice")
    mallory = await sign_in(server.url, "mallory")
    assert alice.tokens is not None
    assert mallory.tokens is not None
    token = mallory.tokens.access_token
    assert (await call_tool(server.url, token, CONFIDENTIAL)).status_code == 403

    # Someone who can write to Redis copies Alice's mapping under Mallory's jti.
    store = redis.Redis.from_url(redis_url)
    alice_jti = _claims(alice.tokens.access_token)["jti"]
    mallory_jti = _claims(token)["jti"]
    # redis-py 7 types its sync client's answers as "Awaitable | Any": these are sync calls.
    keys = cast(list[bytes], store.keys(f"*jti*{alice_jti}"))
    alice_key = next(k for k in keys if k.endswith(alice_jti.encode()))
    mallory_key = alice_key[: -len(alice_jti)] + mallory_jti.encode()
    assert store.exists(mallory_key)
    value = cast(bytes | None, store.get(alice_key))
    assert value is not None
    store.set(mallory_key, value)

    # A replica that reads the moved value refuses it; the one that already checked
    # Mallory's token keeps its own answer (app/signin_cache.py): still no document.
    replica = start_server(
        **{
            **signin_env,
            "MCP_OAUTH_STORAGE_URL": redis_url,
            "MCP_SCOPE_POLICY_FILE": str(policy),
            "MCP_PUBLIC_URL": server.base_url,
        }
    )
    assert (await call_tool(server.url, token, CONFIDENTIAL)).status_code == 403
    answer = await call_tool(replica.url, token, CONFIDENTIAL)
    assert answer.status_code == 401, answer.text
    assert "confidential" not in answer.text.lower().replace("get_confidential_info", "")
    assert "stored sign-in state refused" in replica.logs()


# --- 14: a 403 the policy will never lift ----------------------------------------------


async def test_a_403_says_when_no_sign_in_can_bring_the_scope(
    signin_server: ServerProcess, oidc_provider: str
) -> None:
    bob = await sign_in(signin_server.url, "bob")
    assert bob.tokens is not None
    answer = await call_tool(signin_server.url, bob.tokens.access_token, CONFIDENTIAL)
    assert answer.status_code == 403
    description = error_description(answer)
    assert "policy does not grant the scope confidential:read" in description
    assert f"{_issuer(oidc_provider)}|bob" in description
    # Alice's client holds less than the policy allows her: asking again can help.
    alice = await sign_in(signin_server.url, "alice")
    assert alice.tokens is not None
    assert alice.client is not None
    narrower = await _refresh(
        signin_server, alice.tokens.refresh_token, alice.client.client_id, scope="public:read"
    )
    assert narrower.json()["scope"] == "public:read"
    answer = await call_tool(signin_server.url, narrower.json()["access_token"], CONFIDENTIAL)
    assert answer.status_code == 403
    assert error_description(answer) == "the call needs the scope confidential:read"


# --- 15: a `make token` token in sign-in mode is told how to mint one ---------------


async def test_an_expired_static_token_in_sign_in_mode_is_told_to_mint_one(
    signin_server: ServerProcess, signin_env: dict[str, str]
) -> None:
    now = int(time.time())
    claims = {
        "sub": "learner",
        "iss": "secure-mcp-server",
        "aud": "mcp-server",
        "iat": now - 7200,
        "exp": now - 3600,
        "scope": "public:read",
        "jti": "expired-static",
    }
    token = jwt.encode(claims, signin_env["MCP_JWT_SECRET_KEY"], algorithm="HS256")
    answer = await call_tool(signin_server.url, token, "get_public_info")
    assert answer.status_code == 401
    description = error_description(answer)
    assert "the token expired at" in description
    assert "mcp-key token" in description
    assert "sign in" not in description


# --- 16: the consent page, and a provider out of reach at start ----------------------


def test_the_consent_page_loads_nothing_from_elsewhere_and_names_the_scopes(
    signin_server: ServerProcess,
) -> None:
    client = httpx.post(
        f"{signin_server.base_url}/register", json=CLIENT_METADATA, timeout=15
    ).json()
    query = {
        "client_id": client["client_id"],
        "redirect_uri": CLIENT_REDIRECT,
        "response_type": "code",
        "code_challenge": "x" * 43,
        "code_challenge_method": "S256",
        "state": "s",
        "scope": "public:read confidential:read",
    }
    with httpx.Client(base_url=signin_server.base_url, timeout=15) as http:
        page = http.get("/authorize", params=query, follow_redirects=True)
    assert 'name="csrf_token"' in page.text, page.text[:300]
    # Whatever the page loads (logo, scripts, styles) comes with it, from no other site.
    loaded = re.findall(r'\bsrc="([^"]+)"', page.text)
    assert loaded, "the page shows a logo"
    assert all(source.startswith("data:") for source in loaded), loaded
    assert "It asks for the scopes: <strong>public:read, confidential:read</strong>" in page.text


def test_an_unreachable_provider_at_start_prints_one_line(policy_file: Path) -> None:
    result = run_python(
        "-m",
        "app",
        env={
            "MCP_JWT_SECRET_KEY": "k" * 48,
            "MCP_OIDC_CONFIG_URL": f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration",
            "MCP_OIDC_CLIENT_ID": "x",
            "MCP_OIDC_CLIENT_SECRET": "s",
            "MCP_SCOPE_POLICY_FILE": str(policy_file),
        },
    )
    assert result.returncode == 2
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("configuration error: MCP_OIDC_CONFIG_URL: cannot read")


# --- 7: an algorithm that does not fit the issuer's key ------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def test_es256_with_the_issuers_rsa_key_id_is_a_401(
    start_server: StartServer, oidc_provider: str
) -> None:
    configuration = httpx.get(f"{oidc_provider}/.well-known/openid-configuration").json()
    keys = httpx.get(configuration["jwks_uri"]).json()["keys"]
    rsa_kid = next(key["kid"] for key in keys if key["kty"] == "RSA")
    server = start_server(
        MCP_JWT_JWKS_URL=configuration["jwks_uri"], MCP_JWT_ISSUER=configuration["issuer"]
    )
    header = {"alg": "ES256", "kid": rsa_kid, "typ": "JWT"}
    claims = {
        "sub": "x",
        "iss": configuration["issuer"],
        "aud": "mcp-server",
        "exp": int(time.time()) + 300,
    }
    token = ".".join(
        [
            _b64(json.dumps(header).encode()),
            _b64(json.dumps(claims).encode()),
            _b64(secrets.token_bytes(64)),
        ]
    )
    answer = asyncio.run(call_tool(server.url, token, "get_public_info"))
    assert answer.status_code == 401
    assert "signing algorithm is not accepted" in error_description(answer)
    assert "Traceback" not in server.logs()


async def test_the_python_sdk_shows_the_policy_refusal_after_one_step_up(
    signin_server: ServerProcess,
) -> None:
    # What a Python SDK 2.x user sees (docs/clients.md): the SDK answers the 403
    # with one step-up sign-in, gets the same grant, and then shows the message.
    browser = Browser("bob")
    auth = oauth_client(signin_server.url, browser, MemoryTokens())
    texts, error = await call_as_client(signin_server.url, auth, CONFIDENTIAL)
    assert texts == []
    assert error is not None
    assert "policy does not grant the scope confidential:read" in all_messages(error)
    sign_ins = [u for u in browser.visited if u.startswith(f"{signin_server.base_url}/authorize?")]
    assert len(sign_ins) == 2  # the sign-in, and one step-up


async def test_a_sign_in_token_while_the_state_store_is_down_is_a_503(
    start_server: StartServer, signin_env: dict[str, str], tmp_path: Path
) -> None:
    # A private redis-server, stopped mid-test (the session's one stays up for the others).
    binary = shutil.which("redis-server")
    require(binary is not None, "redis-server not installed; `make test-deps` installs it")
    assert binary is not None
    port = free_port()
    store = Process(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        tmp_path / "redis.log",
    )
    try:
        url = f"redis://127.0.0.1:{port}/0"
        assert eventually(lambda: _pings(url)), store.logs()
        server = start_server(**{**signin_env, "MCP_OAUTH_STORAGE_URL": url})
        # A replica that has not checked Alice's token yet: it must ask the store.
        replica = start_server(
            **{**signin_env, "MCP_OAUTH_STORAGE_URL": url, "MCP_PUBLIC_URL": server.base_url}
        )
        alice = await sign_in(server.url, "alice")
        assert alice.tokens is not None
    finally:
        store.stop()
    answer = await call_tool(replica.url, alice.tokens.access_token, CONFIDENTIAL)
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"] == "temporarily_unavailable"
    assert "Traceback" not in server.logs() + replica.logs()


def _pings(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.RedisError:
        return False


# --- one replica, one connection pool for every limit -------------------------------

ACCEPT = "application/json, text/event-stream"
LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


def test_a_replica_counts_its_registration_and_mcp_limits_over_one_redis_pool(
    start_server: StartServer, signin_env: dict[str, str], tmp_path: Path
) -> None:
    # A redis-server of its own: every connection it sees is this replica's or the test's.
    with running(tmp_path, durable=False) as store:
        server = start_server(
            **{
                **signin_env,
                "MCP_RATE_LIMIT_STORAGE_URL": store.url,
                "MCP_RATE_LIMIT_PER_MINUTE": "100",
                "MCP_OAUTH_REGISTRATIONS_PER_MINUTE": "100",
            }
        )
        try:
            token = mint_token(signin_env["MCP_JWT_SECRET_KEY"], "ops", ["public:read"])
            headers = {"Authorization": f"Bearer {token}", "Accept": ACCEPT}
            for _ in range(3):  # one request at a time: a pool lends the same connection
                answer = httpx.post(server.url, json=LIST_TOOLS, headers=headers, timeout=15)
                assert answer.status_code == 200
                registered = httpx.post(
                    f"{server.base_url}/register", json=CLIENT_METADATA, timeout=15
                )
                assert registered.status_code == 201
            with store.client() as client:
                own = client.client_id()
                # redis-py 7 types its sync client's answers as "Awaitable | Any".
                connections = cast(list[dict[str, Any]], client.client_list())
        finally:
            server.stop()
    replica = [c for c in connections if int(c["id"]) != own]
    # The per-subject and refused-token limits (/mcp) and the registration limit
    # (/register) all counted in Redis, over one pool: one connection, not one per pool.
    assert len(replica) == 1, [(c["addr"], c["cmd"]) for c in replica]
