"""The sign-in server's own tokens and routes, driven in this process against the real provider.

The server is the same ASGI app `make run` serves in sign-in mode, built from
the settings the sign-in server tests use and driven through httpx's ASGI
transport, so `make mutate` sees which of these reach app/signin.py. The
tokens are the proxy's own (issued with its signing key, as a finished sign-in
would issue them), so no browser is needed; the full sign-in runs in
test_signin_flow.py.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import jwt
import pytest
from starlette.types import ASGIApp

from app import config
from app.challenges import SIGNIN_HINT, describe_refusal
from app.http_app import _auth_provider, assemble, limiters
from app.probes import Lifecycle
from app.signin import PolicyOIDCProxy
from app.tokens import mint_token
from tests.app.test_http_app import ACCEPT, lifespan, rpc

MCP = "/mcp"


# Where the in-process client's requests come from (a documentation address, RFC 5737).
CLIENT_ADDRESS = ("192.0.2.9", 40000)


@asynccontextmanager
async def served_app(
    monkeypatch: pytest.MonkeyPatch, signin_env: dict[str, str], **env: str
) -> AsyncIterator[tuple[ASGIApp, str, PolicyOIDCProxy]]:
    """The sign-in server's ASGI app, running, with its public base URL and its provider."""
    for name in list(os.environ):
        if name.startswith("MCP_"):
            monkeypatch.delenv(name)
    for name, value in {**signin_env, **env}.items():
        monkeypatch.setenv(name, value)
    loaded = config.load()
    counted = limiters(loaded.settings)
    provider = _auth_provider(loaded, counted)
    assert isinstance(provider, PolicyOIDCProxy)
    app = assemble(loaded, Lifecycle(), provider, counted)
    async with lifespan(app):
        yield app, loaded.settings.base_url, provider


@asynccontextmanager
async def signed_in_server(
    monkeypatch: pytest.MonkeyPatch, signin_env: dict[str, str], **env: str
) -> AsyncIterator[tuple[httpx.AsyncClient, PolicyOIDCProxy]]:
    async with served_app(monkeypatch, signin_env, **env) as (app, base, provider):
        transport = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
        async with httpx.AsyncClient(transport=transport, base_url=base) as client:
            yield client, provider


def own_token(
    provider: PolicyOIDCProxy, jti: str, expires_in: int = 600, subject: str = "alice-1"
) -> str:
    claims = {"iss": "https://idp.example", "sub": subject, "email": "alice@example.com"}
    return provider.jwt_issuer.issue_access_token(
        client_id="client-1",
        scopes=["public:read"],
        jti=jti,
        expires_in=expires_in,
        upstream_claims=claims,
    )


async def refusal(client: httpx.AsyncClient, token: str) -> str:
    headers = {**ACCEPT, "Authorization": f"Bearer {token}"}
    answer = await client.post(MCP, json=rpc("tools/list"), headers=headers)
    assert answer.status_code == 401
    return str(answer.json()["error"]["data"]["error_description"])


async def test_a_static_token_still_works_beside_sign_in(
    monkeypatch: pytest.MonkeyPatch, signin_env: dict[str, str]
) -> None:
    async with signed_in_server(monkeypatch, signin_env) as (client, _):
        token = mint_token(signin_env["MCP_JWT_SECRET_KEY"], "ops", ["public:read"])
        headers = {**ACCEPT, "Authorization": f"Bearer {token}"}
        answer = await client.post(MCP, json=rpc("tools/list"), headers=headers)
    assert answer.status_code == 200


async def test_own_tokens_are_refused_naming_why(
    monkeypatch: pytest.MonkeyPatch,
    signin_env: dict[str, str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    denylist = tmp_path / "denylist"
    denylist.write_text("revoked-jti\nsub:https://idp.example|alice-2\n")
    env = {"MCP_JWT_DENYLIST_FILE": str(denylist)}
    async with signed_in_server(monkeypatch, signin_env, **env) as (client, provider):
        with caplog.at_level(logging.INFO, logger="app.signin"):
            # Signed, unexpired, not revoked, but no sign-in stored it.
            unknown = await refusal(client, own_token(provider, "never-stored"))
            revoked = await refusal(client, own_token(provider, "revoked-jti"))
            # Every token of a person the deny-list names by the provider's subject.
            everyone = await refusal(client, own_token(provider, "any", subject="alice-2"))
            expired = await refusal(client, own_token(provider, "old", expires_in=-120))
            forged = jwt.encode(
                {**jwt.decode(own_token(provider, "f"), options={"verify_signature": False})},
                secrets.token_bytes(32),
                algorithm="HS256",
            )
            bad = await refusal(client, forged)
    # Four reasons, four answers, each telling the person to sign in again.
    assert len({unknown, revoked, expired, bad}) == 4
    assert everyone == revoked
    assert all(d.endswith(SIGNIN_HINT) for d in (unknown, revoked, expired, bad))
    reasons = [getattr(r, "reason", None) for r in caplog.records if r.name == "app.signin"]
    assert {"signin_unknown", "revoked", "expired", "bad_signature"} <= set(reasons)
    rejected = [r for r in caplog.records if r.name == "app.signin"]
    assert all(r.getMessage() == "token rejected" for r in rejected)
    # The same event as every other refused token: one log query finds them all.
    assert {getattr(r, "event", None) for r in rejected} == {"authentication"}


async def test_client_registrations_are_limited_per_address(
    monkeypatch: pytest.MonkeyPatch, signin_env: dict[str, str]
) -> None:
    env = {"MCP_OAUTH_REGISTRATIONS_PER_MINUTE": "2"}
    metadata = {"redirect_uris": ["http://127.0.0.1:53682/callback"], "client_name": "t"}
    async with signed_in_server(monkeypatch, signin_env, **env) as (client, _):
        statuses = [(await client.post("/register", json=metadata)).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]


async def test_the_authorization_server_metadata_offers_the_servers_scopes(
    monkeypatch: pytest.MonkeyPatch, signin_env: dict[str, str]
) -> None:
    async with signed_in_server(monkeypatch, signin_env) as (client, _):
        answer = await client.get("/.well-known/oauth-authorization-server")
    assert answer.status_code == 200
    assert sorted(answer.json()["scopes_supported"]) == ["confidential:read", "public:read"]


async def test_without_a_token_the_person_is_told_to_sign_in(
    monkeypatch: pytest.MonkeyPatch, signin_env: dict[str, str]
) -> None:
    async with signed_in_server(monkeypatch, signin_env) as (client, _):
        answer = await client.post(MCP, json=rpc("tools/list"), headers=ACCEPT)
    assert answer.status_code == 401
    assert answer.json()["error"]["data"]["error_description"].endswith(SIGNIN_HINT)


async def test_own_tokens_must_name_this_issuer_exactly_and_carry_exp_and_jti(
    monkeypatch: pytest.MonkeyPatch, signin_env: dict[str, str]
) -> None:
    async with signed_in_server(monkeypatch, signin_env) as (client, provider):
        issued = jwt.decode(own_token(provider, "j-1"), options={"verify_signature": False})

        def signed(**changes: object) -> str:
            claims = {k: v for k, v in {**issued, **changes}.items() if v is not None}
            return jwt.encode(claims, provider._own_key, algorithm="HS256")

        not_verified = describe_refusal("bad_signature", None, signin=True)
        # A trailing slash passes for ours (the issuer compared loosely), then fails exactly.
        iss = str(issued["iss"])
        other_spelling = iss.rstrip("/") if iss.endswith("/") else iss + "/"
        assert await refusal(client, signed(iss=other_spelling)) == not_verified
        assert await refusal(client, signed(jti=None)) == not_verified
        assert await refusal(client, signed(exp=None)) == not_verified
        # An expired one says when it expired: the person's clock may be the problem.
        expired = own_token(provider, "old", expires_in=-120)
        exp = jwt.decode(expired, options={"verify_signature": False})["exp"]
        assert await refusal(client, expired) == describe_refusal("expired", exp, signin=True)
