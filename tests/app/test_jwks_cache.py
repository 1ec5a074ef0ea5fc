"""How often the verifier asks the issuer's JWKS endpoint, counted at a real loopback endpoint.

The verifier keeps the issuer's key set for five minutes (app.auth's
JWKS_CACHE_SECONDS) and then fetches it again, so one request serves every
token in between, and a key the issuer retires is refused within five minutes.
PyJWT's clock (the `time` its JWKS client and cache modules import) is the
test's Clock, so "five minutes later" takes no time; a PyJWT that moves those
modules fails here on the monkeypatch, loudly.

A token the verifier already accepted is remembered, but never beyond the key
set it was verified with: once a fetch of the set drops its key, the next call
with it is refused, not only at its `exp`.
"""

from __future__ import annotations

import json

import jwt.algorithms
import jwt.api_jwk
import jwt.jwk_set_cache
import jwt.jwks_client
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.auth import JWTVerifier
from app.tokens import DEFAULT_AUDIENCE, DEFAULT_ISSUER
from tests.app.conftest import NEW_KEY, OLD_KEY, Clock, Issuer, jwk

FIVE_MINUTES = 300.0
KEPT_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
# PyJWT refetches the set for an unknown kid at most once per cooldown (30 s by default).
PAST_THE_COOLDOWN = 31.0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    for module in (jwt.api_jwk, jwt.jwk_set_cache, jwt.jwks_client):
        monkeypatch.setattr(module, "time", clock)
    return clock


def verifier(issuer: Issuer) -> JWTVerifier:
    return JWTVerifier(issuer=DEFAULT_ISSUER, audience=DEFAULT_AUDIENCE, jwks_url=issuer.url)


async def test_one_request_serves_every_token_for_five_minutes_then_it_is_fetched_again(
    issuer: Issuer, clock: Clock
) -> None:
    checker = verifier(issuer)
    for _ in range(3):
        assert await checker.verify_token(issuer.token(OLD_KEY, "old")) is not None
    assert issuer.requests == 1

    clock.now += FIVE_MINUTES - 0.5
    assert await checker.verify_token(issuer.token(OLD_KEY, "old")) is not None
    assert issuer.requests == 1

    clock.now += 1
    assert await checker.verify_token(issuer.token(OLD_KEY, "old")) is not None
    assert issuer.requests == 2


async def test_a_key_the_issuer_retires_is_refused_within_five_minutes(
    issuer: Issuer, clock: Clock
) -> None:
    checker = verifier(issuer)
    assert await checker.verify_token(issuer.token(OLD_KEY, "old")) is not None

    issuer.published = [jwk(NEW_KEY, "new")]
    clock.now += FIVE_MINUTES + 0.5
    assert await checker.verify_token(issuer.token(OLD_KEY, "old")) is None
    assert await checker.verify_token(issuer.token(NEW_KEY, "new")) is not None
    assert issuer.requests == 2


async def test_a_remembered_token_is_refused_once_a_refetch_drops_its_key(
    issuer: Issuer, clock: Clock
) -> None:
    issuer.published = [jwk(OLD_KEY, "old"), jwk(KEPT_KEY, "kept")]
    checker = verifier(issuer)
    retired, kept = issuer.token(OLD_KEY, "old"), issuer.token(KEPT_KEY, "kept")
    remembered = await checker.verify_token(retired)
    assert remembered is not None
    assert await checker.verify_token(retired) is remembered  # answered from memory
    kept_answer = await checker.verify_token(kept)
    assert kept_answer is not None

    # The issuer retires "old"; a token of its new key makes the verifier fetch the set.
    issuer.published = [jwk(KEPT_KEY, "kept"), jwk(NEW_KEY, "new")]
    clock.now += PAST_THE_COOLDOWN
    assert await checker.verify_token(issuer.token(NEW_KEY, "new")) is not None
    assert issuer.requests == 2

    assert await checker.verify_token(retired) is None
    # A key still in the set keeps its tokens' answers: only the retired key's are forgotten.
    assert await checker.verify_token(kept) is kept_answer
    assert issuer.requests == 2


@pytest.mark.parametrize("still_published", [False, True], ids=["retired", "kept"])
async def test_after_five_minutes_a_remembered_token_is_judged_by_the_set_fetched_again(
    issuer: Issuer, clock: Clock, still_published: bool
) -> None:
    checker = verifier(issuer)
    token = issuer.token(OLD_KEY, "old")
    remembered = await checker.verify_token(token)
    assert remembered is not None
    assert await checker.verify_token(token) is remembered

    # No other token arrives: the remembered one alone must send the verifier back
    # to the issuer once its copy of the set is five minutes old.
    issuer.published = [jwk(NEW_KEY, "new")] + ([jwk(OLD_KEY, "old")] if still_published else [])
    clock.now += FIVE_MINUTES + 0.5
    assert (await checker.verify_token(token) is not None) is still_published
    assert issuer.requests == 2


async def test_a_key_published_whole_is_refused_and_the_sets_other_keys_still_serve(
    issuer: Issuer, clock: Clock
) -> None:
    leaked = jwk(KEPT_KEY, "leaked")
    leaked.update(json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEPT_KEY)))  # d, p, q...
    issuer.published = [jwk(OLD_KEY, "old"), leaked]
    checker = verifier(issuer)
    token = issuer.token(OLD_KEY, "old")
    remembered = await checker.verify_token(token)
    assert remembered is not None
    assert await checker.verify_token(issuer.token(KEPT_KEY, "leaked")) is None
    # The remembered token is checked against the set in force, which holds the leaked key too.
    assert await checker.verify_token(token) is remembered
    assert issuer.requests == 1


async def test_a_remembered_token_is_refused_once_its_kid_names_another_key(
    issuer: Issuer, clock: Clock
) -> None:
    issuer.published = [jwk(OLD_KEY, "reused")]
    checker = verifier(issuer)
    replaced = issuer.token(OLD_KEY, "reused")
    assert await checker.verify_token(replaced) is not None

    # The issuer puts a new key under the same kid; a token of another new kid
    # makes the verifier fetch the set: the kid is still there, its key is not.
    issuer.published = [jwk(NEW_KEY, "reused"), jwk(KEPT_KEY, "kept")]
    clock.now += PAST_THE_COOLDOWN
    assert await checker.verify_token(issuer.token(KEPT_KEY, "kept")) is not None
    assert issuer.requests == 2
    assert await checker.verify_token(replaced) is None
