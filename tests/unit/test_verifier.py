"""The PyJWT verifier against real tokens: every rejection rule and both key families."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app.auth import JWTVerifier
from app.tokens import DEFAULT_AUDIENCE, DEFAULT_ISSUER, mint_token

KEY = b"k" * 40
PREVIOUS_KEY = b"p" * 40
OTHER_KEY = b"o" * 40


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "alice",
        "iss": DEFAULT_ISSUER,
        "aud": DEFAULT_AUDIENCE,
        "iat": now,
        "exp": now + 300,
        "scope": "public:read",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def hs256(payload: dict[str, Any], key: bytes = KEY) -> str:
    return jwt.encode(payload, key, algorithm="HS256")


def verifier(**kwargs: Any) -> JWTVerifier:
    options: dict[str, Any] = {
        "hs_keys": [KEY],
        "issuer": DEFAULT_ISSUER,
        "audience": DEFAULT_AUDIENCE,
        "leeway_seconds": 5,
    }
    options.update(kwargs)
    return JWTVerifier(**options)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_valid_token_gives_subject_and_scopes() -> None:
    token = mint_token(KEY, "alice", ["public:read", "confidential:read"])
    access = await verifier().verify_token(token)
    assert access is not None
    assert access.subject == "alice"
    assert access.scopes == ["public:read", "confidential:read"]
    assert access.claims["iss"] == DEFAULT_ISSUER


@pytest.mark.parametrize(
    ("reason", "make_claims"),
    [
        ("expired", lambda: claims(exp=int(time.time()) - 60, iat=int(time.time()) - 120)),
        ("wrong_issuer", lambda: claims(iss="someone-else")),
        ("wrong_audience", lambda: claims(aud="another-api")),
        ("missing_claim", lambda: claims(exp=None)),
        ("missing_claim", lambda: claims(sub=None)),
        ("missing_claim", lambda: claims(iss=None)),
        ("missing_claim", lambda: claims(aud=None)),
        ("missing_claim", lambda: claims(sub="")),
        ("not_yet_valid", lambda: claims(nbf=int(time.time()) + 600)),
        ("bad_scope_claim", lambda: claims(scope=["public:read"])),
        ("bad_scope_claim", lambda: claims(scope=None, scp="public:read")),
        ("bad_scope_claim", lambda: claims(scope=None, scopes=["public:read", 7])),
    ],
)
async def test_rejects_with_reason(
    reason: str, make_claims: Callable[[], dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    # Claims are built when the test runs, not at collection: a suite longer
    # than their five-minute lifetime would otherwise see them all expired.
    token = hs256(make_claims())
    with caplog.at_level(logging.WARNING, logger="app.auth"):
        assert await verifier().verify_token(token) is None
    assert [r.reason for r in caplog.records] == [reason]  # type: ignore[attr-defined]
    assert token not in caplog.text


async def test_small_clock_skew_is_tolerated() -> None:
    token = hs256(claims(nbf=int(time.time()) + 2))
    assert await verifier().verify_token(token) is not None


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "e30.e30.", "Bearer x"])
async def test_rejects_malformed(token: str) -> None:
    assert await verifier().verify_token(token) is None


async def test_rejects_wrong_key(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="app.auth"):
        assert await verifier().verify_token(hs256(claims(), OTHER_KEY)) is None
    assert [r.reason for r in caplog.records] == ["bad_signature"]  # type: ignore[attr-defined]


async def test_rejects_alg_none() -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    token = f"{header}.{b64(json.dumps(claims()).encode())}."
    assert await verifier().verify_token(token) is None


async def test_rejects_other_hmac_algorithms() -> None:
    token = jwt.encode(claims(), KEY * 2, algorithm="HS512")
    assert await verifier().verify_token(token) is None


async def test_missing_scope_claim_means_no_scopes() -> None:
    access = await verifier().verify_token(hs256(claims(scope=None)))
    assert access is not None
    assert access.scopes == []


@pytest.mark.parametrize("claim", ["scp", "scopes"])
async def test_scope_lists_are_accepted(claim: str) -> None:
    token = hs256(claims(scope=None, **{claim: ["public:read", "confidential:read"]}))
    access = await verifier().verify_token(token)
    assert access is not None
    assert access.scopes == ["public:read", "confidential:read"]


async def test_previous_key_is_accepted_unknown_key_is_not() -> None:
    rotating = verifier(hs_keys=[KEY, PREVIOUS_KEY])
    assert await rotating.verify_token(hs256(claims(), KEY)) is not None
    assert await rotating.verify_token(hs256(claims(), PREVIOUS_KEY)) is not None
    assert await rotating.verify_token(hs256(claims(), OTHER_KEY)) is None
    # Once the previous key is dropped, its tokens stop working.
    assert await verifier().verify_token(hs256(claims(), PREVIOUS_KEY)) is None


async def test_expired_token_signed_with_previous_key_is_still_expired() -> None:
    rotating = verifier(hs_keys=[KEY, PREVIOUS_KEY])
    old = claims(exp=int(time.time()) - 60, iat=int(time.time()) - 120)
    assert await rotating.verify_token(hs256(old, PREVIOUS_KEY)) is None


# --- asymmetric tokens by JWKS, served over a real loopback HTTP server ---------

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def _jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(key))
    entry.update({"kid": kid, "alg": alg, "use": "sig"})
    return entry


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    body = json.dumps(
        {
            "keys": [
                _jwk(RSA_KEY.public_key(), "rsa-1", "RS256"),
                _jwk(EC_KEY.public_key(), "ec-1", "ES256"),
            ]
        }
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("key", "kid", "alg"), [(RSA_KEY, "rsa-1", "RS256"), (EC_KEY, "ec-1", "ES256")]
)
async def test_jwks_tokens_are_verified(jwks_url: str, key: Any, kid: str, alg: str) -> None:
    token = jwt.encode(claims(), key, algorithm=alg, headers={"kid": kid})
    access = await verifier(jwks_url=jwks_url).verify_token(token)
    assert access is not None
    assert access.scopes == ["public:read"]


async def test_jwks_token_with_unknown_kid_is_rejected(jwks_url: str) -> None:
    token = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "nope"})
    assert await verifier(jwks_url=jwks_url).verify_token(token) is None


async def test_jwks_token_signed_by_another_key_is_rejected(jwks_url: str) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(), stranger, algorithm="RS256", headers={"kid": "rsa-1"})
    assert await verifier(jwks_url=jwks_url).verify_token(token) is None


async def test_hs_rs_confusion_is_rejected(jwks_url: str) -> None:
    """An HS256 token keyed with the issuer's *public* key must not pass as RS256."""
    public_pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
    payload = b64(json.dumps(claims()).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    token = f"{header}.{payload}.{b64(signature)}"
    assert await verifier(jwks_url=jwks_url).verify_token(token) is None
    assert await verifier(hs_keys=[], jwks_url=jwks_url).verify_token(token) is None


async def test_rs256_token_is_refused_without_jwks() -> None:
    token = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    assert await verifier().verify_token(token) is None


async def test_remembered_token_is_refused_once_expired() -> None:
    """The verified-token cache re-checks exp on every hit."""
    strict = verifier(leeway_seconds=0)
    token = hs256(claims(exp=int(time.time()) + 1))
    assert await strict.verify_token(token) is not None
    assert await strict.verify_token(token) is not None  # served from the cache
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    await asyncio.sleep(max(0.0, expires + 0.05 - time.time()))
    assert await strict.verify_token(token) is None


async def test_remembered_tokens_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import app.auth

    monkeypatch.setattr(app.auth, "VERIFIED_CACHE_SIZE", 2)
    bounded = verifier()
    for sub in ("a", "b", "c"):
        assert await bounded.verify_token(hs256(claims(sub=sub))) is not None
    assert len(bounded._verified) == 2
