"""The PyJWT verifier against real tokens: every rejection rule and both key families."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import socket
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.warnings import InsecureKeyLengthWarning

import app.auth
import app.key_files
import app.logs
from app.auth import JWTVerifier, _reason, current_attempt, track_attempt
from app.key_files import Denylist, KeyRing
from app.tokens import DEFAULT_AUDIENCE, DEFAULT_ISSUER, mint_token
from tests.app.conftest import Clock, Counted
from tests.helpers import StubHandler, loopback_server

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


async def test_rejects_alg_none(jwks_url: str, caplog: pytest.LogCaptureFixture) -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    token = f"{header}.{b64(json.dumps(claims()).encode())}."
    # Refused for its algorithm (not, say, as malformed), with or without a JWKS.
    assert await refused_as(verifier(), token, caplog) == "algorithm_not_allowed"
    assert await refused_as(verifier(jwks_url=jwks_url), token, caplog) == "algorithm_not_allowed"


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


# --- asymmetric tokens by JWKS, served over a real loopback HTTP server ---------

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
# Keys the issuer's set publishes whole, private part included (a leaked key).
LEAKED_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
LEAKED_EC_KEY = ec.generate_private_key(ec.SECP256R1())


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
                _jwk(LEAKED_RSA_KEY, "rsa-leaked", "RS256"),
                _jwk(LEAKED_EC_KEY, "ec-leaked", "ES256"),
            ]
        }
    ).encode()

    class Handler(StubHandler):
        def do_GET(self) -> None:
            self.answer(body)

    with loopback_server(Handler) as base:
        yield f"{base}/jwks.json"


@pytest.mark.parametrize(
    ("key", "kid", "alg"), [(RSA_KEY, "rsa-1", "RS256"), (EC_KEY, "ec-1", "ES256")]
)
async def test_jwks_tokens_are_verified(jwks_url: str, key: Any, kid: str, alg: str) -> None:
    token = jwt.encode(claims(), key, algorithm=alg, headers={"kid": kid})
    access = await verifier(jwks_url=jwks_url).verify_token(token)
    assert access is not None
    assert access.scopes == ["public:read"]


async def test_jwks_token_signed_by_another_key_is_rejected(
    jwks_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(), stranger, algorithm="RS256", headers={"kid": "rsa-1"})
    assert await refused_as(verifier(jwks_url=jwks_url), token, caplog) == "bad_signature"


@pytest.mark.parametrize(
    ("key", "kid", "alg"),
    [(LEAKED_RSA_KEY, "rsa-leaked", "RS256"), (LEAKED_EC_KEY, "ec-leaked", "ES256")],
)
async def test_a_key_published_with_its_private_part_signs_nothing_here(
    jwks_url: str, caplog: pytest.LogCaptureFixture, key: Any, kid: str, alg: str
) -> None:
    """Anyone who read the issuer's set could have signed this token: a refusal, not a crash."""
    token = jwt.encode(claims(), key, algorithm=alg, headers={"kid": kid})
    assert await refused_as(verifier(jwks_url=jwks_url), token, caplog) == "key_published"


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


async def test_remembered_tokens_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import app.auth

    monkeypatch.setattr(app.auth, "VERIFIED_CACHE_SIZE", 2)
    bounded = verifier()
    for sub in ("a", "b", "c"):
        assert await bounded.verify_token(hs256(claims(sub=sub))) is not None
    assert len(bounded._verified) == 2


# --- labels, counters and log lines ---------------------------------------------------


def rejection_reasons(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.reason for r in caplog.records if r.name == "app.auth"]  # type: ignore[attr-defined]


async def refused_as(
    verifier_: JWTVerifier, token: str, caplog: pytest.LogCaptureFixture
) -> str | None:
    """Verify `token`, expecting a refusal; the reason on the request's Attempt."""
    attempt = track_attempt()
    with caplog.at_level(logging.WARNING, logger="app.auth"):
        assert await verifier_.verify_token(token) is None
    return attempt.reason


async def test_refusal_is_counted_logged_and_left_on_the_attempt(
    caplog: pytest.LogCaptureFixture, counted: Counted
) -> None:
    reason = await refused_as(verifier(), hs256(claims(), OTHER_KEY), caplog)
    assert reason == "bad_signature"
    assert current_attempt().expired_at is None
    [record] = [r for r in caplog.records if r.name == "app.auth"]
    assert record.getMessage() == "token rejected"
    assert (record.event, record.reason) == ("authentication", "bad_signature")  # type: ignore[attr-defined]
    assert counted("denied", "bad_signature") == 1


async def test_acceptance_is_counted_on_verify_and_on_cache_hits(counted: Counted) -> None:
    checker, token = verifier(), hs256(claims())
    assert await checker.verify_token(token) is not None
    assert counted("authenticated", "valid_token") == 1
    assert await checker.verify_token(token) is not None
    assert counted("authenticated", "valid_token") == 2


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
async def test_other_hmac_algorithms_with_the_same_key_are_refused(
    algorithm: str, caplog: pytest.LogCaptureFixture
) -> None:
    with warnings.catch_warnings():
        # PyJWT warns that 40 bytes is short for SHA-384/512, and would still verify it.
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        token = jwt.encode(claims(), KEY, algorithm=algorithm)
    assert await refused_as(verifier(), token, caplog) == "algorithm_not_allowed"
    rotating = verifier(hs_keys=[PREVIOUS_KEY, KEY])
    assert await refused_as(rotating, token, caplog) == "algorithm_not_allowed"


async def test_expired_is_expired_whichever_key_signed_it(caplog: pytest.LogCaptureFixture) -> None:
    rotating = verifier(hs_keys=[KEY, PREVIOUS_KEY])
    exp = int(time.time()) - 60
    for key in (KEY, PREVIOUS_KEY):
        token = hs256(claims(exp=exp, iat=exp - 60), key)
        assert await refused_as(rotating, token, caplog) == "expired"
        assert current_attempt().expired_at == exp


async def test_any_of_several_keys_verifies() -> None:
    """Every key but the last is tried in turn (a ring has two; the rule holds for more)."""
    third = b"t" * 40
    several = verifier(hs_keys=[KEY, PREVIOUS_KEY, third])
    for key in (KEY, PREVIOUS_KEY, third):
        assert await several.verify_token(hs256(claims(), key)) is not None


async def test_no_key_and_no_jwks_refuses_every_token(caplog: pytest.LogCaptureFixture) -> None:
    assert await refused_as(verifier(hs_keys=[]), hs256(claims()), caplog) == (
        "algorithm_not_allowed"
    )


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "e30.e30.x", "Bearer x"])
async def test_malformed_tokens_are_labelled(token: str, caplog: pytest.LogCaptureFixture) -> None:
    assert await refused_as(verifier(), token, caplog) == "malformed"


async def test_numeric_string_exp_is_malformed(caplog: pytest.LogCaptureFixture) -> None:
    token = hs256(claims(exp=str(int(time.time()) + 300)))
    assert await refused_as(verifier(), token, caplog) == "malformed"


async def test_fractional_expired_exp_is_expired_without_an_instant(
    caplog: pytest.LogCaptureFixture,
) -> None:
    exp = time.time() - 60.5
    assert await refused_as(verifier(), hs256(claims(exp=exp, iat=exp - 60)), caplog) == "expired"
    assert current_attempt().expired_at is None  # the 401 then says "an earlier time"


async def test_fractional_exp_is_accepted() -> None:
    exp = time.time() + 300.5
    access = await verifier(leeway_seconds=7).verify_token(hs256(claims(exp=exp)))
    assert access is not None
    assert access.expires_at == int(exp) + 7


async def test_default_leeway_is_thirty_seconds() -> None:
    token = hs256(claims())
    access = await JWTVerifier(
        hs_keys=[KEY], issuer=DEFAULT_ISSUER, audience=DEFAULT_AUDIENCE
    ).verify_token(token)
    assert access is not None
    assert access.expires_at == jwt.decode(token, options={"verify_signature": False})["exp"] + 30
    assert access.client_id == access.subject == "alice"
    assert access.token == token


def test_every_pyjwt_error_has_a_label() -> None:
    assert _reason(jwt.InvalidAlgorithmError()) == "algorithm_not_allowed"
    assert _reason(jwt.PyJWKClientConnectionError()) == "jwks_unavailable"
    assert _reason(jwt.PyJWKClientError()) == "unknown_key"
    assert _reason(jwt.DecodeError()) == "malformed"
    assert _reason(jwt.InvalidSignatureError()) == "bad_signature"
    assert _reason(jwt.ExpiredSignatureError()) == "expired"
    assert _reason(jwt.ImmatureSignatureError()) == "not_yet_valid"
    assert _reason(jwt.InvalidIssuerError()) == "wrong_issuer"
    assert _reason(jwt.InvalidAudienceError()) == "wrong_audience"
    assert _reason(jwt.MissingRequiredClaimError("exp")) == "missing_claim"
    assert _reason(jwt.InvalidTokenError()) == "invalid"
    assert _reason(jwt.PyJWTError()) == "invalid"


# --- the lifetime bound and the cache's expiry, on a held clock -----------------------


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """One instant for the verifier and for PyJWT's claim checks alike."""
    held = Clock(float(int(time.time())))

    class HeldDatetime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> HeldDatetime:
            return cls.fromtimestamp(held.now, tz)

    monkeypatch.setattr(app.auth, "time", held)
    monkeypatch.setattr(jwt.api_jwt, "datetime", HeldDatetime)
    return held


async def test_lifetime_bound_is_max_lifetime_plus_leeway(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    checker = verifier(max_lifetime_seconds=3600, leeway_seconds=5)
    now = int(clock.now)
    assert await checker.verify_token(hs256(claims(iat=now, exp=now + 3605))) is not None
    token = hs256(claims(iat=now, exp=now + 3606))
    assert await refused_as(checker, token, caplog) == "lifetime_too_long"


async def test_default_lifetime_bound_is_a_week(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    now, week = int(clock.now), 7 * 24 * 3600
    assert await verifier().verify_token(hs256(claims(exp=now + week + 5)))
    token = hs256(claims(exp=now + week + 6))
    assert await refused_as(verifier(), token, caplog) == "lifetime_too_long"


async def test_remembered_token_is_refused_once_expired(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """The cache re-checks exp (plus leeway) on every hit, to the instant."""
    checker = verifier(leeway_seconds=5)
    now = int(clock.now)
    token = hs256(claims(iat=now, exp=now + 60))
    access = await checker.verify_token(token)
    assert access is not None
    assert access.expires_at == now + 65
    clock.now = now + 64.5
    assert await checker.verify_token(token) is access  # served from the cache
    clock.now = now + 65
    assert await refused_as(checker, token, caplog) == "expired"
    assert token not in checker._verified


# --- the verified-token cache --------------------------------------------------------


async def test_cache_forgets_the_least_recently_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.auth, "VERIFIED_CACHE_SIZE", 2)
    checker = verifier()
    a, b, c = (hs256(claims(sub=sub)) for sub in "abc")
    await checker.verify_token(a)
    await checker.verify_token(b)
    await checker.verify_token(a)  # a hit makes "a" the most recent
    await checker.verify_token(c)
    assert list(checker._verified) == [a, c]


async def test_refusals_are_not_remembered() -> None:
    checker = verifier()
    await checker.verify_token(hs256(claims(), OTHER_KEY))
    assert len(checker._verified) == 0


# --- revocation ----------------------------------------------------------------------


async def test_revoked_token_is_refused_before_and_after_caching(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    key_clock = Clock(100.0)
    monkeypatch.setattr(app.key_files, "time", key_clock)
    path = tmp_path / "denylist"
    path.write_text("")
    checker = verifier(denylist=Denylist(path))
    kept, revoked = hs256(claims(jti="keep")), hs256(claims(jti="gone"))
    assert await checker.verify_token(kept) is not None
    assert await checker.verify_token(revoked) is not None  # cached now
    path.write_text("gone\n")
    key_clock.now += 2
    assert await refused_as(checker, revoked, caplog) == "revoked"
    assert await checker.verify_token(kept) is not None
    fresh = hs256(claims(jti="gone", sub="bob"))
    assert await refused_as(checker, fresh, caplog) == "revoked"


async def test_a_non_string_jti_is_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "denylist"
    path.write_text("7\n")
    checker = verifier(denylist=Denylist(path))
    assert await refused_as(checker, hs256(claims(jti=7)), caplog) == "invalid"  # PyJWT's rule


# --- keys that follow their files -----------------------------------------------------


async def test_verifier_follows_the_key_ring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    key_clock = Clock(100.0)
    monkeypatch.setattr(app.key_files, "time", key_clock)
    current = tmp_path / "current"
    current.write_bytes(KEY)
    ring = KeyRing(KEY, None, current_file=current)
    checker = verifier(hs_keys=[OTHER_KEY], key_ring=ring)  # the ring, not hs_keys, decides
    old = hs256(claims(), KEY)
    assert await checker.verify_token(old) is not None
    fresh = current.with_name("fresh")
    fresh.write_bytes(OTHER_KEY)
    fresh.replace(current)
    key_clock.now += 2
    # The key changed: the remembered token is verified afresh, and fails.
    assert await refused_as(checker, old, caplog) == "bad_signature"
    new = hs256(claims(), OTHER_KEY)
    first = await checker.verify_token(new)
    assert first is not None
    key_clock.now += 2
    assert await checker.verify_token(new) is first  # remembered again once the keys settle


async def test_a_ring_that_already_changed_is_followed_from_its_generation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_clock = Clock(100.0)
    monkeypatch.setattr(app.key_files, "time", key_clock)
    current = tmp_path / "current"
    current.write_bytes(KEY)
    ring = KeyRing(KEY, None, current_file=current)
    current.unlink()
    current.write_bytes(OTHER_KEY)
    key_clock.now += 2
    ring.refresh()
    checker = verifier(key_ring=ring)
    assert await checker.verify_token(hs256(claims(), OTHER_KEY)) is not None
    assert await checker.verify_token(hs256(claims(), KEY)) is None


# --- JWKS: labels, and which family of keys a token goes to ---------------------------


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/jwks.json"


async def test_unreachable_jwks_is_jwks_unavailable(
    closed_port_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    token = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    assert await refused_as(verifier(jwks_url=closed_port_url), token, caplog) == (
        "jwks_unavailable"
    )


async def test_unknown_kid_is_unknown_key(jwks_url: str, caplog: pytest.LogCaptureFixture) -> None:
    token = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "nope"})
    assert await refused_as(verifier(jwks_url=jwks_url), token, caplog) == "unknown_key"


async def test_hs256_goes_to_the_shared_key_when_both_are_configured(jwks_url: str) -> None:
    access = await verifier(jwks_url=jwks_url).verify_token(hs256(claims()))
    assert access is not None
    assert access.subject == "alice"


async def test_hs256_without_a_shared_key_is_not_sent_to_the_jwks(
    jwks_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    checker = verifier(hs_keys=[], jwks_url=jwks_url)
    assert await refused_as(checker, hs256(claims()), caplog) == "algorithm_not_allowed"


async def test_rs256_without_jwks_is_algorithm_not_allowed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    assert await refused_as(verifier(), token, caplog) == "algorithm_not_allowed"


async def test_an_unlisted_algorithm_with_jwks_is_algorithm_not_allowed(
    jwks_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    token = jwt.encode(claims(), RSA_KEY, algorithm="PS256", headers={"kid": "rsa-1"})
    assert await refused_as(verifier(jwks_url=jwks_url), token, caplog) == ("algorithm_not_allowed")


# --- a key family that does not fit the header's algorithm; revoking a subject ---------


@pytest.mark.parametrize(("alg", "kid"), [("ES256", "rsa-1"), ("RS256", "ec-1")])
async def test_an_algorithm_that_does_not_fit_the_key_is_refused(
    jwks_url: str, alg: str, kid: str, caplog: pytest.LogCaptureFixture
) -> None:
    header = b64(json.dumps({"alg": alg, "typ": "JWT", "kid": kid}).encode())
    payload = b64(json.dumps(claims()).encode())
    token = f"{header}.{payload}.{b64(b'x' * 64)}"
    assert await refused_as(verifier(jwks_url=jwks_url), token, caplog) == "algorithm_not_allowed"


async def test_a_subject_line_revokes_every_token_of_that_subject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(app.key_files, "time", Clock(100.0))
    path = tmp_path / "denylist"
    path.write_text("sub:alice\n")
    checker = verifier(denylist=Denylist(path, frozenset({"sub:alice"})))
    assert await refused_as(checker, hs256(claims(sub="alice", jti="a")), caplog) == "revoked"
    assert await refused_as(checker, hs256(claims(sub="alice", jti="b")), caplog) == "revoked"
    assert await checker.verify_token(hs256(claims(sub="bob", jti="c"))) is not None
    # "alice" as a jti line is a token id, not a subject.
    assert await checker.verify_token(hs256(claims(sub="sub:alice", jti="d"))) is not None


async def test_a_refusal_marks_which_kind_of_token_it_was(
    caplog: pytest.LogCaptureFixture,
) -> None:
    attempt = track_attempt()
    app.auth.refuse(app.logs.SampledLog(logging.getLogger("t"), "m", "e"), "expired", 5)
    assert (attempt.reason, attempt.expired_at, attempt.signin) == ("expired", 5, False)
    app.auth.refuse(app.logs.SampledLog(logging.getLogger("t"), "m", "e"), "revoked", signin=True)
    assert (attempt.reason, attempt.expired_at, attempt.signin) == ("revoked", None, True)
