"""The sign-in token cache keeps a positive check exactly until the earlier expiry, and no more.

FastMCP's own check (OAuthProxy.load_access_token: the store reads and the
upstream verification) is replaced by a counting stand-in here, because what
is under test is only when the cache asks it; the real check runs in
tests/signin (test_signin_store_outage.py shows a cached token riding out an
outage and an unchecked one getting the 503).
"""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from fastmcp.server.auth.oidc_proxy import OIDCProxy
from mcp.server.auth.provider import AccessToken

import app.signin_cache
from app.signin_cache import CachedTokenChecks
from tests.app.conftest import Clock

NOW = 1_000_000.0


class Counting:
    def __init__(self, answer: AccessToken | None) -> None:
        self.answer = answer
        self.calls = 0
        self.tokens: list[str] = []

    async def check(self, token: str) -> AccessToken | None:
        self.calls += 1
        self.tokens.append(token)
        return self.answer


def proxy_token(exp: float | None) -> str:
    claims = {"jti": "j", **({"exp": int(exp)} if exp is not None else {})}
    return jwt.encode(claims, "k" * 32, algorithm="HS256")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock(NOW)
    monkeypatch.setattr(app.signin_cache, "time", frozen)
    return frozen


def checker(monkeypatch: pytest.MonkeyPatch, answer: AccessToken | None) -> tuple[Any, Counting]:
    counting = Counting(answer)

    async def load_access_token(_proxy: Any, token: str) -> AccessToken | None:
        return await counting.check(token)

    monkeypatch.setattr(OIDCProxy, "load_access_token", load_access_token)
    return object.__new__(CachedTokenChecks), counting


def access(expires_at: int | None) -> AccessToken:
    return AccessToken(token="u", client_id="c", scopes=["public:read"], expires_at=expires_at)


async def test_kept_until_the_upstream_token_expires_when_that_comes_first(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    proxy, counting = checker(monkeypatch, access(int(NOW) + 60))
    token = proxy_token(NOW + 3600)
    assert await proxy.load_access_token(token) is counting.answer
    clock.now = NOW + 59
    assert await proxy.load_access_token(token) is counting.answer  # the remembered answer
    assert counting.tokens == [token]
    clock.now = NOW + 60
    await proxy.load_access_token(token)
    assert counting.calls == 2


async def test_kept_until_the_proxy_token_expires_when_that_comes_first(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    proxy, counting = checker(monkeypatch, access(int(NOW) + 3600))
    token = proxy_token(NOW + 30)
    await proxy.load_access_token(token)
    clock.now = NOW + 30
    await proxy.load_access_token(token)
    assert counting.calls == 2


async def test_refusals_and_tokens_without_both_expiries_are_never_kept(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    proxy, counting = checker(monkeypatch, None)
    token = proxy_token(NOW + 3600)
    await proxy.load_access_token(token)
    await proxy.load_access_token(token)
    assert counting.calls == 2
    proxy, counting = checker(monkeypatch, access(None))
    await proxy.load_access_token(token)
    await proxy.load_access_token(token)
    assert counting.calls == 2


async def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    monkeypatch.setattr(app.signin_cache, "MAX_TOKENS", 2)
    proxy, counting = checker(monkeypatch, access(int(NOW) + 60))
    tokens = [jwt.encode({"jti": str(n), "exp": int(NOW) + 60}, "k" * 32) for n in range(3)]
    for token in tokens:
        await proxy.load_access_token(token)
    await proxy.load_access_token(tokens[1])  # two are kept: the latest two
    assert counting.calls == 3
    await proxy.load_access_token(tokens[0])  # the least recently used went first
    assert counting.calls == 4
