"""The sign-in token cache keeps a positive answer exactly until the earlier expiry, and no more.

What the answer is, and that the deny-list is still asked on every call above
the cache, runs against the real proxy in tests/signin
(test_signin_guards.py::test_sign_in_tokens_honour_the_deny_list revokes tokens
whose answers are kept; test_signin_store_outage.py shows a kept token riding
out an outage and an unchecked one getting the 503).
"""

from __future__ import annotations

import pytest
from fastmcp.server.auth import AccessToken

import app.signin_cache
from app.signin_cache import CheckedToken, CheckedTokens, valid_until
from tests.app.conftest import Clock

NOW = 1_000_000.0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock(NOW)
    monkeypatch.setattr(app.signin_cache, "time", frozen)
    return frozen


def checked(until: float, jti: str = "j") -> CheckedToken:
    access = AccessToken(token="t", client_id="c", scopes=["public:read"], expires_at=None)
    return CheckedToken(access, jti, "issuer|alice", until)


def test_an_answer_is_kept_until_its_expiry_and_not_a_moment_longer(clock: Clock) -> None:
    tokens = CheckedTokens()
    answer = checked(NOW + 60)
    tokens.keep("t", answer)
    clock.now = NOW + 59.9
    assert tokens.get("t") is answer
    clock.now = NOW + 60
    assert tokens.get("t") is None
    clock.now = NOW  # forgotten, not merely hidden
    assert tokens.get("t") is None


def test_the_earlier_expiry_counts_and_an_unknown_one_keeps_nothing(clock: Clock) -> None:
    assert valid_until(NOW + 3600, int(NOW) + 60) == NOW + 60  # the upstream token first
    assert valid_until(NOW + 30, int(NOW) + 3600) == NOW + 30  # the proxy token first
    assert valid_until(NOW + 30, None) == 0.0
    assert valid_until(None, int(NOW) + 30) == 0.0
    tokens = CheckedTokens()
    tokens.keep("t", checked(valid_until(NOW + 30, None)))
    tokens.keep("expired", checked(NOW - 1))
    assert tokens.get("t") is None
    assert tokens.get("expired") is None


def test_the_cache_is_bounded_and_forgets_the_least_recently_used(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    monkeypatch.setattr(app.signin_cache, "MAX_TOKENS", 2)
    tokens = CheckedTokens()
    tokens.keep("a", checked(NOW + 60, "a"))
    tokens.keep("b", checked(NOW + 60, "b"))
    assert tokens.get("a") is not None  # a is now the most recently used
    tokens.keep("c", checked(NOW + 60, "c"))
    assert tokens.get("b") is None
    assert tokens.get("a") is not None
    assert tokens.get("c") is not None


def test_an_answer_expiring_now_takes_no_live_answers_place(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    monkeypatch.setattr(app.signin_cache, "MAX_TOKENS", 2)
    tokens = CheckedTokens()
    tokens.keep("a", checked(NOW + 60, "a"))
    tokens.keep("b", checked(NOW + 60, "b"))
    tokens.keep("now", checked(NOW, "now"))  # already worthless: never kept
    assert tokens.get("a") is not None
    assert tokens.get("b") is not None
