"""How often the verifier asks the issuer's JWKS endpoint, counted at a real loopback endpoint.

The verifier keeps the issuer's key set for five minutes (app.auth's
JWKS_CACHE_SECONDS) and then fetches it again, so one request serves every
token in between, and a key the issuer retires is refused within five minutes.
PyJWT's clock (the `time` its JWKS client and cache modules import) is the
test's Clock, so "five minutes later" takes no time; a PyJWT that moves those
modules fails here on the monkeypatch, loudly.
"""

from __future__ import annotations

import jwt.api_jwk
import jwt.jwk_set_cache
import jwt.jwks_client
import pytest

from app.auth import JWTVerifier
from app.tokens import DEFAULT_AUDIENCE, DEFAULT_ISSUER
from tests.app.conftest import NEW_KEY, OLD_KEY, Clock, Issuer, jwk

FIVE_MINUTES = 300.0


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
