"""The body bound in-process: declared and streamed sizes, stalls, disconnects, the replay."""

from __future__ import annotations

import asyncio

from starlette.types import Message, Receive, Scope, Send

from app.body_limit import BODY_DEADLINE_FACTOR, BoundedBody
from tests.app.conftest import Answer, Downstream, call, http_scope

LIMIT = 100


def guard(downstream: Downstream, timeout: float = 5.0) -> BoundedBody:
    return BoundedBody(downstream, timeout_seconds=timeout, max_bytes=LIMIT)


async def test_a_body_within_the_limit_reaches_the_app_whole() -> None:
    downstream = Downstream(await_disconnect=True)
    answer = await call(guard(downstream), http_scope(), [b"a" * 60, b"b" * 40])
    assert answer.status == 200
    assert downstream.bodies == [b"a" * 60 + b"b" * 40]  # then the real channel (disconnect)


async def test_a_declared_length_over_the_limit_is_413_unread() -> None:
    downstream = Downstream()
    headers = [(b"content-length", str(LIMIT + 1).encode())]
    read: list[Message] = []

    async def receive() -> Message:
        read.append({})
        return {"type": "http.request", "body": b"", "more_body": False}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await guard(downstream)(http_scope(headers=headers), receive, send)
    assert sent[0]["status"] == 413
    assert (b"connection", b"close") in sent[0]["headers"]
    assert read == []
    assert downstream.calls == []


async def test_a_streamed_body_over_the_limit_is_413_at_the_byte_too_many() -> None:
    downstream = Downstream()
    answer = await call(guard(downstream), http_scope(), [b"a" * LIMIT, b"b"])
    assert answer.status == 413
    assert answer.json() == {
        "error": "request_too_large",
        "error_description": f"the request body is larger than {LIMIT} bytes",
    }
    assert downstream.calls == []


async def test_exactly_the_limit_passes() -> None:
    downstream = Downstream()
    answer = await call(guard(downstream), http_scope(), [b"a" * LIMIT])
    assert answer.status == 200
    assert downstream.bodies == [b"a" * LIMIT]


def _stalling(gap: float, pieces: int) -> Receive:
    """A client that sends `pieces` one-byte parts `gap` seconds apart, then nothing."""
    left = [pieces]

    async def receive() -> Message:
        if left[0] == 0:
            await asyncio.sleep(3600)
        left[0] -= 1
        await asyncio.sleep(gap)
        return {"type": "http.request", "body": b"{", "more_body": True}

    return receive


async def _run(app: BoundedBody, receive: Receive) -> Answer:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await asyncio.wait_for(app(http_scope(), receive, send), 10)
    start = sent[0]
    return Answer(start["status"], {}, b"".join(m.get("body", b"") for m in sent[1:]))


async def test_a_body_that_stops_arriving_is_408() -> None:
    downstream = Downstream()
    answer = await _run(guard(downstream, timeout=0.05), _stalling(gap=0, pieces=1))
    assert answer.status == 408
    assert answer.json()["error"] == "request_timeout"
    assert downstream.calls == []


async def test_a_body_that_drips_past_the_whole_deadline_is_408() -> None:
    # Each piece comes within the timeout, but the whole body never does.
    timeout = 0.05
    receive = _stalling(gap=timeout / 2, pieces=BODY_DEADLINE_FACTOR * 4)
    answer = await _run(guard(Downstream(), timeout=timeout), receive)
    assert answer.status == 408


async def test_a_client_gone_before_its_body_never_reaches_the_app() -> None:
    downstream = Downstream()

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    answer = await _run(guard(downstream), receive)
    assert answer.status == 400
    assert downstream.calls == []


async def test_other_scopes_pass_untouched() -> None:
    downstream = Downstream()
    scope = {"type": "lifespan"}

    async def receive() -> Message:
        raise AssertionError("a lifespan scope has no body to read")

    async def send(message: Message) -> None:
        pass

    await guard(downstream)(scope, receive, send)
    assert downstream.calls == [scope]


async def test_bodies_held_at_once_are_bounded_and_given_back() -> None:
    release = asyncio.Event()

    async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await release.wait()  # the first request holds its body until released
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    bounded = BoundedBody(slow_app, timeout_seconds=5, max_bytes=LIMIT, max_buffered=150)
    first = asyncio.create_task(call(bounded, http_scope(), [b"a" * LIMIT]))
    await asyncio.sleep(0.01)
    assert bounded.buffered == LIMIT
    second = await call(bounded, http_scope(), [b"b" * 60])
    assert second.status == 503
    assert second.headers["retry-after"] == "1"
    assert second.json() == {
        "error": "server_busy",
        "error_description": "the server holds as many request bodies as it may; retry shortly",
    }
    assert bounded.buffered == LIMIT  # the refused request gave its part back
    release.set()
    assert (await first).status == 200
    assert bounded.buffered == 0
    assert (await call(bounded, http_scope(), [b"c" * 60])).status == 200
    assert bounded.buffered == 0


async def test_a_refused_body_gives_its_bytes_back() -> None:
    bounded = guard(Downstream())
    assert (await call(bounded, http_scope(), [b"a" * 60, b"b" * 60])).status == 413
    assert bounded.buffered == 0


async def test_a_declared_length_of_exactly_the_limit_is_read() -> None:
    downstream = Downstream()
    headers = [(b"content-length", str(LIMIT).encode())]
    answer = await call(guard(downstream), http_scope(headers=headers), [b"a" * LIMIT])
    assert answer.status == 200
    assert downstream.bodies == [b"a" * LIMIT]


async def test_the_408_says_how_long_each_part_may_take() -> None:
    answer = await _run(guard(Downstream(), timeout=0.05), _stalling(gap=0, pieces=1))
    assert answer.json() == {
        "error": "request_timeout",
        "error_description": "the request body did not arrive in time (each part within 0.05 s)",
    }


async def test_a_slow_body_within_the_whole_deadline_arrives() -> None:
    """Parts a little apart, the whole within BODY_DEADLINE_FACTOR times the part timeout."""
    timeout = 0.9  # under a second: the deadline is a fraction of one, and still met
    parts = [b"a", b"b", b"c"]

    async def receive() -> Message:
        await asyncio.sleep(timeout / 9)
        chunk = parts.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(parts)}

    downstream = Downstream()
    answer = await _run(guard(downstream, timeout=timeout), receive)
    assert answer.status == 200
    assert downstream.bodies == [b"abc"]


async def test_messages_without_body_or_more_body_keys_are_read_as_asgi_says() -> None:
    """ASGI: `body` defaults to b"" and `more_body` to False."""
    messages: list[Message] = [
        {"type": "http.request", "more_body": True},
        {"type": "http.request", "body": b"abc"},
    ]

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    downstream = Downstream()
    answer = await _run(guard(downstream), receive)
    assert answer.status == 200
    assert downstream.bodies == [b"abc"]


async def test_a_body_in_many_parts_gives_back_all_it_held() -> None:
    bounded = guard(Downstream())
    assert (await call(bounded, http_scope(), [b"a" * 30, b"b" * 30, b"c" * 30])).status == 200
    assert bounded.buffered == 0
