"""Sign-in state sealed to its own key: a value moved to another key is refused.

The OAuth proxy keeps its state (registered clients, codes, token mappings,
upstream tokens) in a key-value store shared by replicas (Redis). Encryption
alone keeps the values secret but lets anyone who can write to the store copy
Alice's value under Mallory's token id, and Mallory's token would then act with
Alice's grant. Each value is sealed with AES-GCM, its collection and key as the
associated data, so it opens only where it was written; a value that was
moved, altered, or written in the clear reads as absent (and is logged).
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any, SupportsFloat

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from key_value.aio.protocols import AsyncKeyValue
from key_value.aio.wrappers.base import BaseWrapper

from app.metrics import count_decision

log = logging.getLogger("app.sealed_store")

SEALED = "sealed"  # the one field of a stored value: base64(nonce | ciphertext)
NONCE_BYTES = 12


def _bound_to(key: str, collection: str | None) -> bytes:
    # NUL cannot occur in either part as the proxy names them: no two pairs collide.
    return f"{collection or ''}\x00{key}".encode()


class SealedStore(BaseWrapper):
    """Encrypt and authenticate every value with its (collection, key) as associated data."""

    def __init__(self, key_value: AsyncKeyValue, key: bytes) -> None:
        self.key_value = key_value
        self._aead = AESGCM(key)
        super().__init__()

    def _seal(self, key: str, collection: str | None, value: Mapping[str, Any]) -> dict[str, Any]:
        nonce = os.urandom(NONCE_BYTES)
        plain = json.dumps(dict(value), separators=(",", ":")).encode()
        sealed = nonce + self._aead.encrypt(nonce, plain, _bound_to(key, collection))
        return {SEALED: base64.b64encode(sealed).decode("ascii")}

    def _open(
        self, key: str, collection: str | None, stored: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        if stored is None:
            return None
        try:
            sealed = base64.b64decode(stored[SEALED], validate=True)
            plain = self._aead.decrypt(
                sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _bound_to(key, collection)
            )
            value = json.loads(plain)
        except (KeyError, TypeError, ValueError, InvalidTag):
            count_decision("denied", "signin_state_not_sealed_for_key")
            log.error(
                "stored sign-in state refused: it was not written under this key "
                "(moved, altered, or written by something else)",
                extra={"event": "oauth_storage", "collection": collection},
            )
            return None
        return value if isinstance(value, dict) else None

    async def get(self, key: str, *, collection: str | None = None) -> dict[str, Any] | None:
        return self._open(key, collection, await self.key_value.get(key, collection=collection))

    async def get_many(
        self, keys: Sequence[str], *, collection: str | None = None
    ) -> list[dict[str, Any] | None]:
        values = await self.key_value.get_many(keys, collection=collection)
        return [self._open(k, collection, v) for k, v in zip(keys, values, strict=True)]

    async def ttl(
        self, key: str, *, collection: str | None = None
    ) -> tuple[dict[str, Any] | None, float | None]:
        value, ttl = await self.key_value.ttl(key, collection=collection)
        return self._open(key, collection, value), ttl

    async def ttl_many(
        self, keys: Sequence[str], *, collection: str | None = None
    ) -> list[tuple[dict[str, Any] | None, float | None]]:
        results = await self.key_value.ttl_many(keys, collection=collection)
        return [
            (self._open(k, collection, v), ttl) for k, (v, ttl) in zip(keys, results, strict=True)
        ]

    async def put(
        self,
        key: str,
        value: Mapping[str, Any],
        *,
        collection: str | None = None,
        ttl: SupportsFloat | None = None,
    ) -> None:
        sealed = self._seal(key, collection, value)
        await self.key_value.put(key, sealed, collection=collection, ttl=ttl)

    async def put_many(
        self,
        keys: Sequence[str],
        values: Sequence[Mapping[str, Any]],
        *,
        collection: str | None = None,
        ttl: SupportsFloat | None = None,
    ) -> None:
        sealed = [self._seal(k, collection, v) for k, v in zip(keys, values, strict=True)]
        await self.key_value.put_many(keys, sealed, collection=collection, ttl=ttl)
