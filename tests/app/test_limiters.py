"""Where a process's limits count: `app.http_app.limiters`, built once per process.

With MCP_RATE_LIMIT_STORAGE_URL every limit with a budget counts in one store
(one Redis connection pool, however many limits), each under its own name so
their keys stay apart, each with its own budget. Building a limiter opens no
connection, so no Redis is needed here; tests/signin/test_signin_guards.py
counts the connections a real replica opens to a real redis-server.
"""

from __future__ import annotations

import pytest

from app import config
from app.http_app import limiters
from app.shared_limits import SharedLimiter

KEY = "k" * 48
BUDGETS = {
    "MCP_RATE_LIMIT_PER_MINUTE": "7",
    "MCP_AUTH_FAILURE_LIMIT_PER_MINUTE": "8",
    "MCP_OAUTH_REGISTRATIONS_PER_MINUTE": "9",
}


def settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> config.Settings:
    for name in list(config.Settings.model_fields):
        monkeypatch.delenv(f"MCP_{name.upper()}", raising=False)
    for name, value in {"MCP_JWT_SECRET_KEY": KEY, **env}.items():
        monkeypatch.setenv(name, value)
    return config.load().settings


def test_every_limit_counts_in_one_store_under_its_own_name_and_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counted = limiters(
        settings(monkeypatch, MCP_RATE_LIMIT_STORAGE_URL="redis://127.0.0.1:1/0", **BUDGETS)
    )
    rate, refused, registrations = counted.rate, counted.refused, counted.registrations
    assert isinstance(rate, SharedLimiter)
    assert isinstance(refused, SharedLimiter)
    assert isinstance(registrations, SharedLimiter)
    assert rate.store is refused.store is registrations.store
    assert len({rate.name, refused.name, registrations.name}) == 3
    assert [rate.item.amount, refused.item.amount, registrations.item.amount] == [7, 8, 9]


@pytest.mark.parametrize("switched_off", sorted(BUDGETS))
def test_a_limit_with_no_budget_has_no_limiter(
    monkeypatch: pytest.MonkeyPatch, switched_off: str
) -> None:
    env = {**BUDGETS, switched_off: "0"}
    counted = limiters(
        settings(monkeypatch, MCP_RATE_LIMIT_STORAGE_URL="redis://127.0.0.1:1/0", **env)
    )
    present = {
        "MCP_RATE_LIMIT_PER_MINUTE": counted.rate,
        "MCP_AUTH_FAILURE_LIMIT_PER_MINUTE": counted.refused,
        "MCP_OAUTH_REGISTRATIONS_PER_MINUTE": counted.registrations,
    }
    assert [name for name, limiter in present.items() if limiter is None] == [switched_off]
