"""The guard chain's order, seen from outside (real server process).

app/http_app.py declares the chain as one list, outermost first. Each test
sends a request two guards would both refuse and checks which answered: the
answer changes if the two are swapped, so the order is tested by what a
client sees, not by reading the list back.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from app.jsonrpc_body import MAX_BODY_BYTES
from tests.integration.test_route_guards import call, send
from tests.server_process import ServerProcess, StartServer


@pytest.fixture(scope="module")
def limited(start_server: StartServer) -> ServerProcess:
    """Small budgets, so a few requests spend them: 2 refused tokens, 1 request per subject."""
    return start_server(MCP_AUTH_FAILURE_LIMIT_PER_MINUTE="2", MCP_RATE_LIMIT_PER_MINUTE="1")


def test_an_oversized_body_is_413_before_any_token_is_looked_at(server: ServerProcess) -> None:
    """Body limit (outermost) before authentication: no token, and still 413, not 401."""
    oversized = b" " * (MAX_BODY_BYTES + 1)
    answer = send(server, oversized, token=None)
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"] == "request_too_large"
    # ... and before the one-Authorization rule: two headers, still the body's 413.
    twice = [("Authorization", "Bearer a"), ("Authorization", "Bearer b")]
    answer = send(server, oversized, token=None, headers=twice)
    assert answer.status_code == 413, answer.text


def test_a_foreign_origin_is_403_before_the_missing_token_is_401(server: ServerProcess) -> None:
    """Origin before RequireToken: a foreign page learns nothing about tokens."""
    answer = send(server, call("get_public_info"), None, headers=[("Origin", "https://evil.test")])
    assert answer.status_code == 403, answer.text
    assert answer.json()["error"] == "origin_not_allowed"


def test_a_flood_of_bad_tokens_is_held_back_before_verification(
    limited: ServerProcess, token_for: Callable[..., str]
) -> None:
    """The refused-token limit wraps authentication: once spent, even a good token waits."""
    bad = "not-a-jwt"
    statuses = [send(limited, call("get_public_info"), bad).status_code for _ in range(2)]
    assert statuses == [401, 401]
    held = send(limited, call("get_public_info"), bad)
    assert held.status_code == 429, held.text
    assert held.json()["error"] == "too_many_failures"
    # The address's budget is spent: a valid token from it is held back unverified too.
    good = send(limited, call("get_public_info"), token_for("public:read", sub="flood"))
    assert good.status_code == 429, good.text
    assert good.json()["error"] == "too_many_failures"


def test_the_rate_limit_counts_before_the_scope_gate(
    start_server: StartServer, token_for: Callable[..., str]
) -> None:
    """Rate limit before the scope gate: calls refused for their scope still spend the budget."""
    server = start_server(MCP_RATE_LIMIT_PER_MINUTE="1", MCP_AUTH_FAILURE_LIMIT_PER_MINUTE="0")
    token = token_for("public:read", sub="scopeless")
    first = send(server, call("get_confidential_info"), token)
    assert first.status_code == 403, first.text
    second = send(server, call("get_confidential_info"), token)
    assert second.status_code == 429, second.text
    assert second.json()["error"] == "rate_limited"


def test_a_missing_token_is_401_before_the_rate_limit(server: ServerProcess) -> None:
    """RequireToken before the rate limit: nobody's budget is keyed on an unknown caller."""
    answer = httpx.post(f"{server.base_url}/mcp", json=call("get_public_info"))
    assert answer.status_code == 401, answer.text
