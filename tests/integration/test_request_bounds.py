"""Availability before and after any token: every body bounded, in size, time and work.

Against a real server process in shared-key mode; tests/signin/test_signin_request_bounds.py
runs the same checks against sign-in mode's OAuth routes. A 100+ MiB body is
streamed a chunk at a time (never held by the test), to every route that
takes a body, and must be refused at the first MiB without the server's
memory growing; a body that stalls is cut off; 5,000-deep JSON is a 400 on
every route; JSON-RPC batches are bounded so the event loop keeps answering.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest

from app.jsonrpc_body import MAX_BODY_BYTES
from app.scope_gate import MAX_BATCH
from tests.request_bodies import (
    assert_deep_json_refused,
    assert_refused_unread,
    peak_rss_mib,
    stalled_body,
)
from tests.server_process import ServerProcess

ACCEPT = "application/json, text/event-stream"
BODY_ROUTES = ["/register", "/token", "/authorize", "/mcp"]
OAUTH_ROUTES = ["/register", "/authorize", "/token"]


@pytest.fixture(scope="module")
def bounded(start_server: Callable[..., ServerProcess]) -> tuple[ServerProcess, float]:
    """A server with a 1 s body timeout, and its peak memory before the tests (MiB)."""
    server = start_server(
        MCP_RATE_LIMIT_PER_MINUTE="0",
        MCP_AUTH_FAILURE_LIMIT_PER_MINUTE="0",
        MCP_REQUEST_BODY_TIMEOUT_SECONDS="1",
    )
    return server, peak_rss_mib(server.process.pid)


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", BODY_ROUTES)
def test_a_100_mib_body_is_413_at_the_first_mib_and_memory_stays_flat(
    bounded: tuple[ServerProcess, float], path: str, declare_length: bool
) -> None:
    server, peak_before = bounded
    assert_refused_unread(server, path, peak_before, declare_length=declare_length)


def test_a_body_of_the_limit_is_still_read(bounded: tuple[ServerProcess, float]) -> None:
    server, _ = bounded
    body = b'{"scope": "' + b"a" * (MAX_BODY_BYTES - 20) + b'"}'
    assert len(body) <= MAX_BODY_BYTES
    response = httpx.post(
        f"{server.base_url}/register", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400  # the shared-key fallback's answer: it read the body
    assert response.json()["error"] == "access_denied"


@pytest.mark.parametrize("path", ["/register", "/token", "/mcp"])
def test_a_body_that_stops_arriving_is_answered_408_and_closed(
    bounded: tuple[ServerProcess, float], path: str
) -> None:
    server, _ = bounded
    answer, closed = stalled_body(server.port, path, timeout=30)
    assert answer.status == 408, answer
    assert answer.json()["error"] == "request_timeout"
    assert closed


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "APPLICATION/JSON"])
@pytest.mark.parametrize("path", OAUTH_ROUTES)
def test_deep_json_is_a_clear_400_on_every_route(
    bounded: tuple[ServerProcess, float], path: str, content_type: str
) -> None:
    server, _ = bounded
    assert_deep_json_refused(server, path, content_type)


def _batch(size: int, tool: str = "no_such_tool") -> list[dict[str, object]]:
    return [
        {"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {"name": tool}}
        for i in range(size)
    ]


def _post(server: ServerProcess, token: str, body: object, **headers: str) -> httpx.Response:
    return httpx.post(
        server.url,
        content=json.dumps(body),
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": ACCEPT,
            "Content-Type": "application/json",
            **headers,
        },
    )


def test_batches_are_bounded_and_absent_from_newer_protocols(
    bounded: tuple[ServerProcess, float], token_for: Callable[..., str]
) -> None:
    server, _ = bounded
    token = token_for("public:read", sub="batcher")
    # Protocol 2025-03-26 (assumed without the header) has batches: a small one is
    # judged call by call, so its call the token may not make is refused.
    small = _post(
        server, token, [*_batch(1, "get_public_info"), *_batch(1, "get_confidential_info")]
    )
    assert small.status_code == 403
    assert small.json()["error"]["data"]["tool"] == "get_confidential_info"

    too_many = _post(server, token, _batch(MAX_BATCH + 1))
    assert too_many.status_code == 400
    assert too_many.json()["error"]["code"] == -32600
    assert f"at most {MAX_BATCH} messages" in too_many.json()["error"]["message"]

    newer = _post(server, token, _batch(2), **{"MCP-Protocol-Version": "2025-06-18"})
    assert newer.status_code == 400
    assert "has no JSON-RPC batches" in newer.json()["error"]["message"]


async def test_twenty_1_mib_arrays_at_once_leave_health_answering(
    bounded: tuple[ServerProcess, float], token_for: Callable[..., str]
) -> None:
    server, _ = bounded
    token = token_for(sub="no-scope")  # a valid token without any scope
    message = json.dumps(_batch(1)[0])
    count = MAX_BODY_BYTES // (len(message) + 1) - 1
    body = ("[" + ",".join([message] * count) + "]").encode()
    assert MAX_BODY_BYTES - 1024 < len(body) <= MAX_BODY_BYTES
    headers = {"Authorization": f"Bearer {token}", "Accept": ACCEPT}
    async with httpx.AsyncClient(timeout=120) as http:
        flood = [
            asyncio.create_task(http.post(server.url, content=body, headers=headers))
            for _ in range(20)
        ]
        await asyncio.sleep(0.2)  # the arrays are arriving or being judged
        # Generous: the point is that it answers at all while they are in flight.
        health = await http.get(f"{server.base_url}/health", timeout=30)
        answers = await asyncio.gather(*flood)
    assert health.status_code == 200
    for answer in answers:
        assert answer.status_code == 400
        assert f"at most {MAX_BATCH} messages" in answer.json()["error"]["message"]


@pytest.mark.parametrize("request_id", ["1e400", '"\\ud800"', "-1E999"])
def test_an_odd_id_on_a_denied_call_is_a_clean_parse_error(
    bounded: tuple[ServerProcess, float], token_for: Callable[..., str], request_id: str
) -> None:
    server, _ = bounded
    body = (
        f'{{"jsonrpc":"2.0","id":{request_id},"method":"tools/call",'
        '"params":{"name":"get_confidential_info","arguments":{}}}'
    )
    response = httpx.post(
        server.url,
        content=body.encode(),
        headers={
            "Authorization": f"Bearer {token_for('public:read')}",
            "Accept": ACCEPT,
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 400, response.text
    assert response.json()["id"] is None
    assert response.json()["error"]["code"] == -32700


def test_1e400_never_reaches_the_transport_as_infinity(
    bounded: tuple[ServerProcess, float], token_for: Callable[..., str]
) -> None:
    server, _ = bounded
    body = b'{"jsonrpc":"2.0","id":1e400,"method":"tools/list","params":{}}'
    response = httpx.post(
        server.url,
        content=body,
        headers={
            "Authorization": f"Bearer {token_for('public:read')}",
            "Accept": ACCEPT,
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 400
    assert "Infinity" not in response.text
    assert "out of range" in response.json()["error"]["message"]
