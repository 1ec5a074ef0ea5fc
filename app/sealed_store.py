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
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from key_value.aio.protocols import AsyncKeyValue

from app.metrics import count_decision
from app.store_wrapper import StoreWrapper

log = logging.getLogger("app.sealed_store")

SEALED = "sealed"  # the one field of a stored value: base64(nonce | ciphertext)
NONCE_BYTES = 12


def _bound_to(key: str, collection: str | None) -> bytes:
    # NUL cannot occur in either part as the proxy names them: no two pairs collide.
    return f"{collection or ''}\x00{key}".encode()


class SealedStore(StoreWrapper):
    """Encrypt and authenticate every value with its (collection, key) as associated data."""

    def __init__(self, key_value: AsyncKeyValue, key: bytes) -> None:
        self._aead = AESGCM(key)
        super().__init__(key_value)

    def _write(self, key: str, collection: str | None, value: Mapping[str, Any]) -> dict[str, Any]:
        nonce = os.urandom(NONCE_BYTES)
        plain = json.dumps(dict(value), separators=(",", ":")).encode()
        sealed = nonce + self._aead.encrypt(nonce, plain, _bound_to(key, collection))
        return {SEALED: base64.b64encode(sealed).decode("ascii")}

    def _read(
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
