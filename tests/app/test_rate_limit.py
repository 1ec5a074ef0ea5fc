"""The token bucket on an injected clock, and the 429 the RateLimit layer answers with."""

from __future__ import annotations

import pytest

import app.rate_limit
from app.rate_limit import RateLimit, TokenBucket
from tests.app.conftest import Clock, Counted, Downstream, call, http_scope, user

# --- TokenBucket: every instant is given, so nothing depends on the real clock -----


def test_a_fresh_key_may_spend_the_whole_budget_at_once_and_no_more() -> None:
    bucket = TokenBucket(60)  # one token a second
    assert [bucket.take("alice", now=0.0) for _ in range(60)] == [0.0] * 60
    assert bucket.take("alice", now=0.0) == 1.0


def test_the_last_whole_token_is_spendable() -> None:
    bucket = TokenBucket(2)
    assert bucket.take("alice", now=0.0) == 0.0
    assert bucket.wait("alice", now=0.0) == 0.0  # exactly one token left
    assert bucket.take("alice", now=0.0) == 0.0


def test_tokens_refill_at_the_per_minute_rate() -> None:
    bucket = TokenBucket(120)  # two tokens a second
    for _ in range(120):
        bucket.take("alice", now=10.0)
    assert bucket.take("alice", now=10.0) == 0.5
    assert bucket.wait("alice", now=10.25) == 0.25
    assert bucket.take("alice", now=10.5) == 0.0
    assert bucket.take("alice", now=10.5) == 0.5


def test_a_refused_take_spends_nothing() -> None:
    bucket = TokenBucket(60)
    for _ in range(60):
        bucket.take("alice", now=0.0)
    assert bucket.take("alice", now=0.5) == 0.5
    assert bucket.take("alice", now=0.5) == 0.5  # the refusal did not dig deeper
    assert bucket.take("alice", now=1.0) == 0.0


def test_refill_is_capped_at_the_budget() -> None:
    bucket = TokenBucket(60)
    bucket.take("alice", now=0.0)
    # An hour idle refills 60 tokens, not 3,600.
    assert [bucket.take("alice", now=3600.0) for _ in range(60)] == [0.0] * 60
    assert bucket.take("alice", now=3600.0) == 1.0


def test_wait_is_zero_while_tokens_are_left() -> None:
    bucket = TokenBucket(60)
    assert bucket.wait("alice", now=0.0) == 0.0  # 60 tokens: zero, not a negative wait
    for _ in range(59):
        bucket.take("alice", now=0.0)
    assert bucket.wait("alice", now=0.5) == 0.0  # 1.5 tokens


def test_wait_spends_nothing() -> None:
    bucket = TokenBucket(1)
    assert [bucket.wait("alice", now=0.0) for _ in range(5)] == [0.0] * 5
    assert bucket.take("alice", now=0.0) == 0.0
    assert bucket.wait("alice", now=0.0) == 60.0
    assert bucket.wait("alice", now=30.0) == 30.0


def test_keys_have_their_own_budgets() -> None:
    bucket = TokenBucket(1)
    assert bucket.take("alice", now=0.0) == 0.0
    assert bucket.take("alice", now=0.0) == 60.0
    assert bucket.take("bob", now=0.0) == 0.0


def test_the_monotonic_clock_is_used_when_no_instant_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock(100.0)
    monkeypatch.setattr(app.rate_limit, "time", clock)
    bucket = TokenBucket(1)
    assert bucket.take("alice") == 0.0
    clock.now = 130.0
    assert bucket.wait("alice") == 30.0
    assert bucket.take("alice") == 30.0


def test_the_idlest_key_is_forgotten_when_too_many_are_tracked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app.rate_limit, "MAX_TRACKED_KEYS", 3)
    bucket = TokenBucket(1)
    for key in ("a", "b", "c"):
        bucket.take(key, now=0.0)
    # Three keys fit: all of them are still remembered as spent.
    assert [bucket.wait(key, now=0.0) for key in ("a", "b", "c")] == [60.0] * 3
    bucket.take("a", now=1.0)  # "a" is busy again: "b" is now the idlest
    bucket.take("d", now=2.0)
    assert bucket.wait("b", now=2.0) == 0.0  # forgotten, so full again
    assert bucket.wait("a", now=2.0) > 0
    assert bucket.wait("c", now=2.0) > 0
    assert bucket.wait("d", now=2.0) > 0


# --- RateLimit: the layer on the MCP route ------------------------------------------


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The layer's clock, held still: a refusal's wait is then exact."""
    frozen = Clock()
    monkeypatch.setattr(app.rate_limit, "time", frozen)
    return frozen


async def test_over_budget_subject_gets_429_with_retry_after(
    counted: Counted, clock: Clock
) -> None:
    downstream = Downstream()
    layer = RateLimit(downstream, per_minute=30)  # a token every 2 s
    scope = http_scope(user=user(["public:read"]))
    for _ in range(30):
        assert (await call(layer, scope)).status == 200
    refused = await call(layer, scope)
    assert refused.status == 429
    assert refused.headers["retry-after"] == "2"
    assert refused.json() == {
        "error": "rate_limited",
        "error_description": "too many requests; retry in 2 s",
    }
    assert len(downstream.calls) == 30
    assert counted("denied", "rate_limited") == 1


async def test_retry_after_is_at_least_one_second(clock: Clock) -> None:
    layer = RateLimit(Downstream(), per_minute=120)  # the next token in half a second
    scope = http_scope(user=user([]))
    for _ in range(120):
        await call(layer, scope)
    refused = await call(layer, scope)
    assert refused.status == 429
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["error_description"] == "too many requests; retry in 1 s"
    clock.now += 0.5
    assert (await call(layer, scope)).status == 200


async def test_each_subject_has_its_own_budget() -> None:
    layer = RateLimit(Downstream(), per_minute=1)
    alice, bob = http_scope(user=user([], "alice")), http_scope(user=user([], "bob"))
    assert (await call(layer, alice)).status == 200
    assert (await call(layer, alice)).status == 429
    assert (await call(layer, bob)).status == 200


async def test_without_a_subject_the_client_id_is_the_key() -> None:
    layer = RateLimit(Downstream(), per_minute=1)
    one = http_scope(user=user([], subject=None, client_id="one"))
    two = http_scope(user=user([], subject=None, client_id="two"))
    assert (await call(layer, one)).status == 200
    assert (await call(layer, one)).status == 429
    assert (await call(layer, two)).status == 200


async def test_zero_switches_the_limit_off() -> None:
    downstream = Downstream()
    layer = RateLimit(downstream, per_minute=0)
    scope = http_scope(user=user([]))
    assert [(await call(layer, scope)).status for _ in range(3)] == [200] * 3
    assert len(downstream.calls) == 3


async def test_unauthenticated_requests_are_not_counted() -> None:
    downstream = Downstream()
    layer = RateLimit(downstream, per_minute=1)
    anonymous = http_scope()  # RequireToken answers these; the budget is per subject
    assert [(await call(layer, anonymous)).status for _ in range(3)] == [200] * 3
    assert (await call(layer, http_scope(user=user([])))).status == 200
