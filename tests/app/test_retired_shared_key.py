"""The end of an HS256 rotation: the previous key's file goes, and so do its remembered tokens.

The verifier remembers tokens it accepted until their `exp`; the key ring
(app/key_files.py) reads the key files again when they change. When
MCP_JWT_PREVIOUS_SECRET_FILE disappears (the rotation is over), a token signed
with that key is refused on its next call, not at its `exp`. The files are
real; app.key_files' clock is the test's, so "a second later" (the ring looks
at its files at most once a second) takes no time.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import jwt
import pytest

import app.key_files
from app.auth import JWTVerifier
from app.key_files import CHECK_SECONDS, KeyRing
from app.tokens import DEFAULT_AUDIENCE, DEFAULT_ISSUER
from tests.app.conftest import Clock

CURRENT = b"c" * 40
PREVIOUS = b"p" * 40
HOUR = 3600


def token(key: bytes) -> str:
    now = int(time.time())  # PyJWT checks iat and exp against the real clock
    claims = {
        "sub": "alice",
        "iss": DEFAULT_ISSUER,
        "aud": DEFAULT_AUDIENCE,
        "iat": now,
        "exp": now + HOUR,  # far beyond the test: a refusal is the key's doing, not exp's
        "scope": "public:read",
    }
    return jwt.encode(claims, key, algorithm="HS256")


@pytest.fixture
def key_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(100.0)
    monkeypatch.setattr(app.key_files, "time", clock)
    return clock


async def test_a_remembered_token_of_the_previous_key_is_refused_once_its_file_is_removed(
    tmp_path: Path, key_clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    current, previous = tmp_path / "current", tmp_path / "previous"
    current.write_bytes(CURRENT)
    previous.write_bytes(PREVIOUS)
    ring = KeyRing(CURRENT, PREVIOUS, current_file=current, previous_file=previous)
    checker = JWTVerifier(
        issuer=DEFAULT_ISSUER, audience=DEFAULT_AUDIENCE, key_ring=ring, leeway_seconds=5
    )
    old, new = token(PREVIOUS), token(CURRENT)
    remembered = await checker.verify_token(old)
    assert remembered is not None
    assert await checker.verify_token(old) is remembered  # answered from memory
    assert await checker.verify_token(new) is not None

    previous.unlink()  # the rotation is over
    key_clock.now += CHECK_SECONDS
    with caplog.at_level(logging.INFO, logger="app.auth"):
        assert await checker.verify_token(old) is None
    [refusal] = [r for r in caplog.records if r.getMessage() == "token rejected"]
    assert refusal.reason == "bad_signature"  # type: ignore[attr-defined]
    assert await checker.verify_token(new) is not None  # the current key's tokens go on
