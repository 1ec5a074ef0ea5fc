"""The request limits the docs promise, at their edges, as the numbers they state.

The guards' own tests read their limits from the modules (MAX_DEPTH,
MAX_BODY_BYTES, MAX_BATCH), so a changed constant passes them all. These hold
the promised numbers (docs/security.md, docs/reference.md): at most 64 levels
of nesting, at most 1 MiB of body, 64 MiB of bodies held at once, the whole
body within six times the body timeout, at most 32 messages in a JSON-RPC
batch; and docs/benchmarks.md's memory bounds: at most 10,000 rate-limited
subjects, at most 4,096 verified tokens remembered.
scripts/constant_mutants.py checks that changing each constant fails here.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from starlette.types import Message, Receive, Scope, Send

from app.auth import JWTVerifier
from app.body_limit import BoundedBody
from app.jsonrpc_body import BodyError, parse
from app.rate_limit import TokenBucket
from app.scope_gate import ScopeGate
from app.tokens import DEFAULT_AUDIENCE, DEFAULT_ISSUER, mint_token
from tests.app.conftest import Downstream, call, http_scope, user

MIB = 1024 * 1024


def nested(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def test_64_levels_of_nesting_parse_and_65_are_400() -> None:
    assert parse(nested(64)) is not None
    with pytest.raises(BodyError) as refused:
        parse(nested(65))
    assert refused.value.status == 400


def test_a_1_mib_json_body_parses_and_one_byte_more_is_413() -> None:
    text = b'"' + b"a" * (MIB - 2) + b'"'
    assert parse(text) == "a" * (MIB - 2)
    with pytest.raises(BodyError) as refused:
        parse(text + b" ")
    assert refused.value.status == 413


@pytest.mark.parametrize(("size", "status"), [(MIB, 200), (MIB + 1, 413)])
async def test_a_body_of_1_mib_reaches_the_app_and_one_byte_more_is_413(
    size: int, status: int
) -> None:
    downstream = Downstream()
    answer = await call(BoundedBody(downstream, timeout_seconds=30), http_scope(), [b"a" * size])
    assert answer.status == status
    assert len(downstream.calls) == (status == 200)


@pytest.mark.parametrize(("messages", "status"), [(32, 200), (33, 400)])
async def test_a_batch_of_32_messages_passes_and_33_are_refused(messages: int, status: int) -> None:
    batch = [{"jsonrpc": "2.0", "id": n, "method": "tools/list"} for n in range(messages)]
    downstream = Downstream()
    scope = http_scope(user=user(["public:read"]))
    answer = await call(ScopeGate(downstream, None), scope, [json.dumps(batch).encode()])
    assert answer.status == status
    assert len(downstream.calls) == (status == 200)


async def test_64_mib_of_bodies_are_held_at_once_and_a_byte_more_is_503() -> None:
    release, all_held, holding = asyncio.Event(), asyncio.Event(), [0]

    async def holding_app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        holding[0] += 1
        if holding[0] == 64:
            all_held.set()
        if holding[0] <= 64:  # the first 64 hold their bodies; any later one is answered
            await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    bounded = BoundedBody(holding_app, timeout_seconds=30)
    body = b"a" * MIB
    held = [asyncio.create_task(call(bounded, http_scope(), [body])) for _ in range(64)]
    await asyncio.wait_for(all_held.wait(), 30)
    assert (await call(bounded, http_scope(), [b"a"])).status == 503
    release.set()
    assert [(await answer).status for answer in held] == [200] * 64


async def test_the_whole_body_must_arrive_within_six_times_the_body_timeout() -> None:
    """Twenty pieces, each well within the 0.1 s timeout, take 1 s: over 0.6 s, so 408."""
    pieces = 20

    async def dripping() -> Message:
        nonlocal pieces
        await asyncio.sleep(0.05)
        pieces -= 1
        return {"type": "http.request", "body": b" ", "more_body": pieces > 0}

    downstream = Downstream()
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await BoundedBody(downstream, timeout_seconds=0.1)(http_scope(), dripping, send)
    assert sent[0]["status"] == 408
    assert downstream.calls == []


@pytest.mark.parametrize(("others", "remembered"), [(9_999, True), (10_000, False)])
def test_the_rate_limit_remembers_10_000_subjects_and_forgets_the_idlest_beyond(
    others: int, remembered: bool
) -> None:
    bucket = TokenBucket(per_minute=1)
    assert bucket.take("first", now=0.0) == 0.0  # its one request this minute
    for n in range(others):
        bucket.take(f"subject-{n}", now=0.0)
    # Remembered: still spent. Forgotten: back with a full budget.
    assert (bucket.take("first", now=0.0) > 0) is remembered


@pytest.mark.parametrize(("others", "remembered"), [(4_095, True), (4_096, False)])
async def test_the_verifier_remembers_4_096_tokens_and_forgets_the_idlest_beyond(
    others: int, remembered: bool
) -> None:
    key = b"k" * 32
    verifier = JWTVerifier(hs_keys=[key], issuer=DEFAULT_ISSUER, audience=DEFAULT_AUDIENCE)
    first = mint_token(key, "first", ["public:read"])
    checked = await verifier.verify_token(first)
    for n in range(others):
        await verifier.verify_token(mint_token(key, f"subject-{n}", ["public:read"]))
    # Remembered: the same answer object. Forgotten: verified afresh, a new one.
    assert (await verifier.verify_token(first) is checked) is remembered
