"""AuthFailureLimit: refused tokens spend an address's budget; then 429 before verifying.

Behind the layer runs the real JWTVerifier (as FastMCP's middleware would call
it), so a refusal is a real refusal recorded on the request's Attempt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest
from starlette.types import Message, Receive, Scope, Send

import app.rate_limit
from app.auth import JWTVerifier, current_attempt
from app.failure_limit import AuthFailureLimit
from app.tokens import DEFAULT_AUDIENCE, DEFAULT_ISSUER, mint_token
from tests.app.conftest import Clock, Counted, Downstream, call, http_scope

KEY = b"k" * 40
GOOD = mint_token(KEY, "alice", ["public:read"])
BAD = mint_token(b"o" * 40, "alice", ["public:read"])


@dataclass
class Verifying:
    """Verify the bearer token with the real verifier: 200 when it holds, else 401."""

    verifier: JWTVerifier = field(
        default_factory=lambda: JWTVerifier(
            hs_keys=[KEY], issuer=DEFAULT_ISSUER, audience=DEFAULT_AUDIENCE
        )
    )
    seen: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.seen += 1
        header = dict(scope.get("headers", [])).get(b"authorization", b"").decode()
        status = 401
        if header.startswith("Bearer "):
            status = 200 if await self.verifier.verify_token(header[7:]) else 401
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def bearer(token: str, client: tuple[str, int] = ("192.0.2.7", 1)) -> Scope:
    return http_scope(headers=[(b"authorization", f"Bearer {token}".encode())], client=client)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock()
    monkeypatch.setattr(app.rate_limit, "time", frozen)
    return frozen


async def test_refused_tokens_spend_the_budget_then_429(
    clock: Clock, counted: Counted, caplog: pytest.LogCaptureFixture
) -> None:
    inner = Verifying()
    layer = AuthFailureLimit(inner, per_minute=2)  # a unit every 30 s
    assert [(await call(layer, bearer(BAD))).status for _ in range(2)] == [401, 401]
    with caplog.at_level(logging.WARNING, logger="app.failure_limit"):
        held = await call(layer, bearer(GOOD))  # even a good token waits
    assert held.status == 429
    assert held.headers["retry-after"] == "30"
    assert held.json() == {
        "error": "too_many_failures",
        "error_description": "too many refused tokens from this address; "
        "retry in 30 s with a valid token",
    }
    assert inner.seen == 2
    assert counted("denied", "too_many_failures") == 1
    [record] = [r for r in caplog.records if r.name == "app.failure_limit"]
    assert record.getMessage() == "request held back"
    assert (record.event, record.reason) == ("authentication", "too_many_failures")  # type: ignore[attr-defined]
    clock.now += 30
    assert (await call(layer, bearer(GOOD))).status == 200


async def test_retry_after_is_at_least_one_second(clock: Clock) -> None:
    layer = AuthFailureLimit(Verifying(), per_minute=120)
    for _ in range(120):
        await call(layer, bearer(BAD))
    clock.now += 0.25
    held = await call(layer, bearer(BAD))
    assert held.status == 429
    assert held.headers["retry-after"] == "1"
    assert "retry in 1 s" in held.json()["error_description"]


async def test_good_tokens_spend_nothing(clock: Clock) -> None:
    inner = Verifying()
    layer = AuthFailureLimit(inner, per_minute=1)
    assert [(await call(layer, bearer(GOOD))).status for _ in range(5)] == [200] * 5
    assert (await call(layer, bearer(BAD))).status == 401
    assert (await call(layer, bearer(GOOD))).status == 429


async def test_addresses_have_their_own_budgets(clock: Clock) -> None:
    layer = AuthFailureLimit(Verifying(), per_minute=1)
    assert (await call(layer, bearer(BAD, ("192.0.2.1", 1)))).status == 401
    assert (await call(layer, bearer(BAD, ("192.0.2.1", 2)))).status == 429
    assert (await call(layer, bearer(BAD, ("192.0.2.2", 1)))).status == 401


async def test_requests_without_a_client_address_share_one_budget(clock: Clock) -> None:
    layer = AuthFailureLimit(Verifying(), per_minute=1)
    no_client = http_scope(headers=[(b"authorization", f"Bearer {BAD}".encode())], client=None)
    assert (await call(layer, no_client)).status == 401
    assert (await call(layer, no_client)).status == 429
    assert layer.bucket is not None
    assert await layer.bucket.wait("unknown") > 0


async def test_requests_without_credentials_are_never_held_back(clock: Clock) -> None:
    inner = Verifying()
    layer = AuthFailureLimit(inner, per_minute=1)
    await call(layer, bearer(BAD))
    assert (await call(layer, http_scope())).status == 401  # reached the app
    assert inner.seen == 2


async def test_zero_switches_the_limit_off() -> None:
    inner = Verifying()
    layer = AuthFailureLimit(inner, per_minute=0)
    assert [(await call(layer, bearer(BAD))).status for _ in range(3)] == [401] * 3
    assert layer.bucket is None


async def test_each_request_gets_a_fresh_attempt() -> None:
    seen: list[object] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(current_attempt())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    layer = AuthFailureLimit(inner, per_minute=5)
    await call(layer, bearer(GOOD))
    await call(layer, bearer(GOOD))
    assert seen[0] is not seen[1]
    assert all(attempt.reason is None for attempt in seen)  # type: ignore[attr-defined]


async def test_non_http_scopes_pass_untouched() -> None:
    seen: list[tuple[Scope, Receive, Send]] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope, receive, send))

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        pass

    scope = {"type": "lifespan"}
    await AuthFailureLimit(inner, per_minute=1)(scope, receive, send)
    assert seen == [(scope, receive, send)]


async def test_the_body_reaches_the_app() -> None:
    downstream = Downstream()
    scope = http_scope(headers=[(b"authorization", b"Bearer x")])
    await call(AuthFailureLimit(downstream, per_minute=5), scope, [b'{"a":', b"1}"])
    assert downstream.bodies == [b'{"a":1}']
