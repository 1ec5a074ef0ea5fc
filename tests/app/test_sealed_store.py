"""Sign-in state sealed to its key: a value opens only under the key it was written to."""

from __future__ import annotations

import logging

import pytest
from key_value.aio.stores.memory import MemoryStore

from app.sealed_store import SealedStore
from tests.app.conftest import Counted

KEY = b"k" * 32


async def test_a_value_opens_where_it_was_written_and_nowhere_else(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inner = MemoryStore()
    store = SealedStore(inner, KEY)
    await store.put("alice-jti", {"upstream": "alice"}, collection="mappings")
    assert await store.get("alice-jti", collection="mappings") == {"upstream": "alice"}
    raw = await inner.get("alice-jti", collection="mappings")
    assert raw is not None
    assert "alice" not in str(raw)  # encrypted at rest

    # Copied under another key, or into another collection: refused, and logged.
    await inner.put("mallory-jti", raw, collection="mappings")
    await inner.put("alice-jti", raw, collection="clients")
    with caplog.at_level(logging.ERROR, logger="app.sealed_store"):
        assert await store.get("mallory-jti", collection="mappings") is None
        assert await store.get("alice-jti", collection="clients") is None
    assert len(caplog.records) == 2
    # Written in the clear by something else, or under another sealing key: refused too.
    await inner.put("plain", {"upstream": "alice"}, collection="mappings")
    assert await store.get("plain", collection="mappings") is None
    other = SealedStore(inner, b"o" * 32)
    assert await other.get("alice-jti", collection="mappings") is None
    assert await store.get("absent", collection="mappings") is None


async def test_the_many_and_ttl_forms_are_sealed_the_same_way() -> None:
    inner = MemoryStore()
    store = SealedStore(inner, KEY)
    await store.put_many(["a", "b"], [{"n": 1}, {"n": 2}], collection="c", ttl=60)
    assert await store.get_many(["a", "b", "x"], collection="c") == [{"n": 1}, {"n": 2}, None]
    value, ttl = await store.ttl("a", collection="c")
    assert value == {"n": 1}
    assert ttl is not None
    assert 0 < ttl <= 60
    raw_b = await inner.get("b", collection="c")
    assert raw_b is not None
    await inner.put("a", raw_b, collection="c")  # b's value moved under a
    assert [v for v, _ in await store.ttl_many(["a", "b"], collection="c")] == [None, {"n": 2}]


async def test_a_refused_value_is_counted_and_logged_with_its_collection(
    caplog: pytest.LogCaptureFixture, counted: Counted
) -> None:
    inner = MemoryStore()
    await inner.put("k", {"sealed": "not base64!"}, collection="tokens")
    with caplog.at_level(logging.ERROR, logger="app.sealed_store"):
        assert await SealedStore(inner, KEY).get("k", collection="tokens") is None
    assert counted("denied", "signin_state_not_sealed_for_key") == 1
    [record] = caplog.records
    assert record.getMessage() == (
        "stored sign-in state refused: it was not written under this key "
        "(moved, altered, or written by something else)"
    )
    assert (record.event, record.collection) == ("oauth_storage", "tokens")  # type: ignore[attr-defined]


async def test_a_value_put_with_a_ttl_expires_with_it() -> None:
    store = SealedStore(MemoryStore(), KEY)
    await store.put("a", {"n": 1, "m": [2]}, collection="c", ttl=60)
    value, ttl = await store.ttl("a", collection="c")
    assert value == {"n": 1, "m": [2]}
    assert ttl is not None
    assert 0 < ttl <= 60
