"""Both limits shared by replicas in a real redis-server (MCP_RATE_LIMIT_STORAGE_URL).

Real server processes on loopback ports, a real redis-server with AUTH (its
password from MCP_REDIS_PASSWORD_FILE), and the client address as
MCP_FORWARDED_ALLOW_IPS makes it: the peer, or what a trusted proxy names.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from app.shared_limits import BACKOFF_SECONDS
from tests.integration.test_route_guards import call, log_entries, send
from tests.redis_server import RedisServer, running
from tests.server_process import ServerProcess, StartServer


@pytest.fixture(scope="module")
def redis_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    folder = tmp_path_factory.mktemp("limits-redis")
    with running(folder, password=secrets.token_hex(16)) as server:
        yield server


@pytest.fixture
def shared_env(
    redis_store: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """Settings for replicas sharing the store, emptied first: every test counts from zero."""
    with redis_store.client() as client:
        client.flushall()
    password_file = tmp_path_factory.mktemp("redis-auth") / "password"
    assert redis_store.password is not None
    password_file.write_text(redis_store.password + "\n")
    return {
        "MCP_RATE_LIMIT_STORAGE_URL": redis_store.url,
        "MCP_REDIS_PASSWORD_FILE": str(password_file),
    }


def forged(token: str) -> str:
    """A token with a signature nobody made: refused, and counted for its address."""
    return "forged." + token.split(".", 1)[1]


def limit_errors(server: ServerProcess) -> float:
    metrics = httpx.get(f"{server.base_url}/metrics").text
    found = re.search(r"^mcp_limit_storage_errors_total (\S+)$", metrics, re.MULTILINE)
    assert found, "the counter is exported"
    return float(found.group(1))


def test_two_replicas_hold_a_subject_to_one_budget_and_both_answer_429(
    start_server: StartServer, shared_env: dict[str, str], token_for: Callable[..., str]
) -> None:
    env = {**shared_env, "MCP_RATE_LIMIT_PER_MINUTE": "4", "MCP_AUTH_FAILURE_LIMIT_PER_MINUTE": "0"}
    a, b = start_server(**env), start_server(**env)
    token = token_for("public:read", sub="shared-budget")
    answers = [
        send(r, call("get_public_info"), token)
        for r in itertools.islice(itertools.cycle([a, b]), 6)
    ]
    assert [r.status_code for r in answers] == [200, 200, 200, 200, 429, 429]
    for refused in answers[4:]:
        assert refused.json()["error"] == "rate_limited"
        # From the shared window: the first request leaves it within a minute.
        assert 1 <= int(refused.headers["retry-after"]) <= 61
    # Another subject has its own budget on either replica.
    assert (
        send(b, call("get_public_info"), token_for("public:read", sub="other")).status_code == 200
    )


def test_refused_tokens_alternating_between_replicas_hit_the_limit_at_its_count(
    start_server: StartServer, shared_env: dict[str, str], token_for: Callable[..., str]
) -> None:
    env = {**shared_env, "MCP_RATE_LIMIT_PER_MINUTE": "0", "MCP_AUTH_FAILURE_LIMIT_PER_MINUTE": "4"}
    a, b = start_server(**env), start_server(**env)
    bad = forged(token_for("public:read"))
    statuses = [
        send(r, call("get_public_info"), bad).status_code
        for r in itertools.islice(itertools.cycle([a, b]), 6)
    ]
    assert statuses == [401, 401, 401, 401, 429, 429]
    # The address is held back on both replicas, even with a good token.
    assert send(a, call("get_public_info"), token_for("public:read")).status_code == 429


def test_behind_a_trusted_proxy_one_clients_failures_do_not_limit_another(
    start_server: StartServer, shared_env: dict[str, str], token_for: Callable[..., str]
) -> None:
    # The proxy is this test (peer 127.0.0.1). Like Google's load balancer it
    # appends `client, its own address`; both proxy addresses are trusted, so
    # the client is the first untrusted entry from the right.
    lb = "203.0.113.10"
    server = start_server(
        **shared_env,
        MCP_RATE_LIMIT_PER_MINUTE="0",
        MCP_AUTH_FAILURE_LIMIT_PER_MINUTE="3",
        MCP_FORWARDED_ALLOW_IPS=f"127.0.0.1,{lb}",
    )
    bad = forged(token_for("public:read"))

    def as_client(client: str, token: str, spoofed: str = "") -> int:
        chain = f"{spoofed + ', ' if spoofed else ''}{client}, {lb}"
        return send(
            server, call("get_public_info"), token, headers=[("X-Forwarded-For", chain)]
        ).status_code

    guesser, neighbour = "198.51.100.7", "198.51.100.8"
    # The guesser's own leftmost entries (its to invent) do not give it new budgets.
    guesses = [as_client(guesser, bad, spoofed=f"192.0.2.{n}") for n in range(5)]
    assert guesses == [401, 401, 401, 429, 429]
    assert as_client(guesser, token_for("public:read")) == 429
    assert as_client(neighbour, token_for("public:read")) == 200
    assert as_client(neighbour, bad) == 401  # its own budget, not the guesser's
    # The access log names the client the proxy vouched for, not the proxy.
    server.stop()  # every line written
    requests = [e for e in log_entries(server) if e.get("message") == "request"]
    logged = {(e["httpRequest"]["remoteIp"], e["status"]) for e in requests}  # type: ignore[index]
    assert logged == {(guesser, 401), (guesser, 429), (neighbour, 200), (neighbour, 401)}


def test_without_trust_a_forged_forwarded_for_changes_nothing(
    start_server: StartServer, shared_env: dict[str, str], token_for: Callable[..., str]
) -> None:
    server = start_server(
        **shared_env, MCP_RATE_LIMIT_PER_MINUTE="0", MCP_AUTH_FAILURE_LIMIT_PER_MINUTE="3"
    )
    bad = forged(token_for("public:read"))
    statuses = [
        send(
            server, call("get_public_info"), bad, headers=[("X-Forwarded-For", f"192.0.2.{n}")]
        ).status_code
        for n in range(5)
    ]
    assert statuses == [401, 401, 401, 429, 429]


def test_with_redis_stopped_calls_are_served_and_counted_then_the_limit_holds_again(
    start_server: StartServer,
    shared_env: dict[str, str],
    redis_store: RedisServer,
    token_for: Callable[..., str],
) -> None:
    env = {**shared_env, "MCP_RATE_LIMIT_PER_MINUTE": "2", "MCP_AUTH_FAILURE_LIMIT_PER_MINUTE": "2"}
    a, b = start_server(**env), start_server(**env)
    token = token_for("public:read", sub="outage")
    before = limit_errors(a) + limit_errors(b)
    redis_store.stop()
    try:
        # Over both budgets, on both replicas: served (fail open), each one counted.
        served = [send(r, call("get_public_info"), token).status_code for r in (a, b) * 3]
        refused = [send(r, call("get_public_info"), forged(token)).status_code for r in (a, b) * 2]
        assert served == [200] * 6
        assert refused == [401] * 4
        assert limit_errors(a) + limit_errors(b) >= before + 6
    finally:
        redis_store.start()
    time.sleep(BACKOFF_SECONDS + 0.5)  # the replicas ask the store again after the back-off
    again = token_for("public:read", sub="after-outage")
    statuses = [send(r, call("get_public_info"), again).status_code for r in (a, b, a, b)]
    assert statuses == [200, 200, 429, 429]
    warnings = [
        e for e in log_entries(a) if str(e.get("message")).startswith("limit store unreachable")
    ]
    assert 1 <= len(warnings) <= 3  # sampled: one line per reason and window, not one a call
    assert redis_store.password is not None
    assert redis_store.password not in a.logs()


def test_an_unusable_password_file_fails_at_start_naming_the_setting(
    shared_env: dict[str, str], tmp_path: Path
) -> None:
    from tests.server_process import run_python

    env = {
        **shared_env,
        "MCP_JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "MCP_REDIS_PASSWORD_FILE": str(tmp_path / "missing"),
    }
    result = run_python("-m", "app", env=env)
    assert result.returncode == 2
    assert "MCP_REDIS_PASSWORD_FILE" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_rotated_redis_password_is_read_from_its_file_on_reconnect(
    start_server: StartServer, token_for: Callable[..., str], tmp_path: Path
) -> None:
    # Memorystore's AUTH string rotated: Redis restarts with the new one, and
    # the mounted file changes; the server picks it up without a restart.
    store = RedisServer(tmp_path, password="first-" + secrets.token_hex(8))
    password_file = tmp_path / "auth"
    assert store.password is not None
    password_file.write_text(store.password)
    store.start()
    try:
        server = start_server(
            MCP_RATE_LIMIT_STORAGE_URL=store.url,
            MCP_REDIS_PASSWORD_FILE=str(password_file),
            MCP_RATE_LIMIT_PER_MINUTE="2",
            MCP_AUTH_FAILURE_LIMIT_PER_MINUTE="0",
        )
        store.stop()
        store.password = "second-" + secrets.token_hex(8)
        password_file.write_text(store.password)
        store.start()
        time.sleep(BACKOFF_SECONDS + 0.5)
        errors = limit_errors(server)
        token = token_for("public:read", sub="after-rotation")
        statuses = [send(server, call("get_public_info"), token).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]  # counted in Redis again: authenticated
        assert limit_errors(server) == errors
    finally:
        store.stop()


def test_a_replica_that_knew_an_address_clean_learns_it_is_held_back_after_one_refusal(
    start_server: StartServer, shared_env: dict[str, str], token_for: Callable[..., str]
) -> None:
    # The refused-token limit remembers an address whose shared window was empty
    # for a second (app/shared_limits.py), and forgets it at its own first refusal.
    env = {**shared_env, "MCP_RATE_LIMIT_PER_MINUTE": "0", "MCP_AUTH_FAILURE_LIMIT_PER_MINUTE": "3"}
    a, b = start_server(**env), start_server(**env)
    good, bad = token_for("public:read"), forged(token_for("public:read"))
    assert send(b, call("get_public_info"), good).status_code == 200  # b: clean
    assert [send(a, call("get_public_info"), bad).status_code for _ in range(4)] == [
        401,
        401,
        401,
        429,
    ]
    statuses = [send(b, call("get_public_info"), bad).status_code for _ in range(2)]
    assert statuses[1] == 429
    assert statuses[0] in {401, 429}  # 401 only while b still remembered the address clean
