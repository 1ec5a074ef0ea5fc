"""One skeleton for the wrappers around sign-in's key-value store.

Sign-in's store is wrapped twice: app/sealed_store.py seals each value to its
key, app/signin_store.py turns a store failure into a 503. Both must cover
every operation of the store, or one path would bypass them; this class
writes each operation once, through three hooks a wrapper overrides.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, SupportsFloat, TypeVar

from key_value.aio.protocols import AsyncKeyValue
from key_value.aio.wrappers.base import BaseWrapper

T = TypeVar("T")


class StoreWrapper(BaseWrapper):
    """Every operation of `key_value` through `_write`, `_read` and `_run`."""

    def __init__(self, key_value: AsyncKeyValue) -> None:
        self.key_value = key_value
        super().__init__()

    def _write(self, key: str, collection: str | None, value: Mapping[str, Any]) -> dict[str, Any]:
        """The value as stored under (collection, key)."""
        return dict(value)

    def _read(
        self, key: str, collection: str | None, stored: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The value as read from (collection, key); None reads as absent."""
        return stored

    async def _run(self, operation: Awaitable[T]) -> T:
        """Around every call to the wrapped store."""
        return await operation

    async def get(self, key: str, *, collection: str | None = None) -> dict[str, Any] | None:
        stored = await self._run(self.key_value.get(key, collection=collection))
        return self._read(key, collection, stored)

    async def get_many(
        self, keys: Sequence[str], *, collection: str | None = None
    ) -> list[dict[str, Any] | None]:
        stored = await self._run(self.key_value.get_many(keys, collection=collection))
        return [self._read(k, collection, v) for k, v in zip(keys, stored, strict=True)]

    async def ttl(
        self, key: str, *, collection: str | None = None
    ) -> tuple[dict[str, Any] | None, float | None]:
        stored, ttl = await self._run(self.key_value.ttl(key, collection=collection))
        return self._read(key, collection, stored), ttl

    async def ttl_many(
        self, keys: Sequence[str], *, collection: str | None = None
    ) -> list[tuple[dict[str, Any] | None, float | None]]:
        stored = await self._run(self.key_value.ttl_many(keys, collection=collection))
        return [
            (self._read(k, collection, v), ttl) for k, (v, ttl) in zip(keys, stored, strict=True)
        ]

    async def put(
        self,
        key: str,
        value: Mapping[str, Any],
        *,
        collection: str | None = None,
        ttl: SupportsFloat | None = None,
    ) -> None:
        written = self._write(key, collection, value)
        await self._run(self.key_value.put(key, written, collection=collection, ttl=ttl))

    async def put_many(
        self,
        keys: Sequence[str],
        values: Sequence[Mapping[str, Any]],
        *,
        collection: str | None = None,
        ttl: SupportsFloat | None = None,
    ) -> None:
        written = [self._write(k, collection, v) for k, v in zip(keys, values, strict=True)]
        await self._run(self.key_value.put_many(keys, written, collection=collection, ttl=ttl))

    async def delete(self, key: str, *, collection: str | None = None) -> bool:
        return await self._run(self.key_value.delete(key, collection=collection))

    async def delete_many(self, keys: Sequence[str], *, collection: str | None = None) -> int:
        return await self._run(self.key_value.delete_many(keys, collection=collection))
