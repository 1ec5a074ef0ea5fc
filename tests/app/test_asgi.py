"""Reading and replaying a request body: a client that disconnects, a body read twice."""

from __future__ import annotations

from starlette.types import Message, Receive

from app.asgi import read_body, replay


def channel(*messages: Message) -> Receive:
    queue = list(messages)

    async def receive() -> Message:
        return queue.pop(0)

    return receive


async def test_a_disconnect_ends_the_body() -> None:
    receive = channel(
        {"type": "http.request", "body": b"ab", "more_body": True}, {"type": "http.disconnect"}
    )
    assert await read_body(receive, limit=10) == b"ab"


async def test_a_body_over_the_limit_is_refused() -> None:
    receive = channel({"type": "http.request", "body": b"abc", "more_body": False})
    assert await read_body(receive, limit=2) is None


async def test_replay_gives_the_body_once_then_the_real_channel() -> None:
    replayed = replay(b"body", channel({"type": "http.disconnect"}))
    assert await replayed() == {"type": "http.request", "body": b"body", "more_body": False}
    assert await replayed() == {"type": "http.disconnect"}


async def test_a_body_of_exactly_the_limit_is_read_whole_across_its_parts() -> None:
    receive = channel(
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.request", "body": b"cd", "more_body": False},
    )
    assert await read_body(receive, limit=4) == b"abcd"


async def test_parts_that_together_pass_the_limit_are_refused() -> None:
    receive = channel(
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.request", "body": b"cd", "more_body": True},
        {"type": "http.request", "body": b"e", "more_body": False},
    )
    assert await read_body(receive, limit=4) is None


async def test_a_message_without_body_or_more_body_is_an_empty_last_part() -> None:
    """ASGI lets a server leave out both keys; the channel holds nothing after it."""
    receive = channel({"type": "http.request"})
    assert await read_body(receive, limit=0) == b""
