"""The 401 and 403 answers: Bearer challenges, refusal descriptions, RequireToken."""

from __future__ import annotations

import json
import time

import pytest

from app.asgi import DECISIONS_KEY
from app.auth import track_attempt
from app.challenges import (
    DESCRIPTIONS,
    MINT_HINT,
    POLICY_ALLOWS_CLAIM,
    SIGNIN_HINT,
    UNAUTHENTICATED,
    RequireToken,
    challenge,
    describe_missing_scope,
    describe_refusal,
)
from tests.app.conftest import Counted, Downstream, call, http_scope, user

METADATA = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"


def test_challenge_header_and_default_body() -> None:
    response = challenge(401, "invalid_token", 'say "hi" \\ bye', METADATA, scope="a:b")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer error="invalid_token", error_description="say \\"hi\\" \\\\ bye", '
        f'scope="a:b", resource_metadata="{METADATA}"'
    )
    assert json.loads(bytes(response.body)) == {
        "error": "invalid_token",
        "error_description": 'say "hi" \\ bye',
    }


def test_challenge_without_scope_or_metadata_and_with_a_body() -> None:
    response = challenge(403, "insufficient_scope", "no", None, body={"x": 1})
    assert response.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", error_description="no"'
    )
    assert json.loads(bytes(response.body)) == {"x": 1}


def test_expired_names_the_instant_and_how_to_renew() -> None:
    assert describe_refusal("expired", 0) == (
        "the token expired at 1970-01-01T00:00:00Z; mint one (make token, or mcp-key token on GKE)"
    )
    assert describe_refusal("expired", 86_400 + 3_661, signin=True) == (
        "the token expired at 1970-01-02T01:01:01Z; "
        "sign in again (your MCP client does so when it sees this answer)"
    )


def test_expired_without_an_instant() -> None:
    assert describe_refusal("expired", None) == f"the token expired at an earlier time; {MINT_HINT}"


# Every label a refusal can carry (app.auth's verifier, the guards, sign-in): the
# contract of docs/reference.md's refusal table, written out so a label that loses
# its entry in DESCRIPTIONS fails here instead of dropping out of a parametrize.
REASONS = [
    "missing_token",
    "not_bearer",
    "not_yet_valid",
    "wrong_issuer",
    "wrong_audience",
    "missing_claim",
    "bad_signature",
    "algorithm_not_allowed",
    "jwks_unavailable",
    "unknown_key",
    "key_published",
    "malformed",
    "bad_scope_claim",
    "lifetime_too_long",
    "revoked",
    "signin_unknown",
    "signin_state_unavailable",
    "signin_upstream_refused",
]


@pytest.mark.parametrize("reason", REASONS)
def test_every_reason_has_its_words(reason: str) -> None:
    unknown = describe_refusal("no_such_reason", None)
    words = describe_refusal(reason, None)
    assert words != unknown, f"{reason} falls back to the generic words"
    others = {describe_refusal(other, None) for other in REASONS if other != reason}
    assert words not in others, f"{reason} shares its words with another reason"
    # A new token is the fix, or it is not: either way the mode changes only the hint.
    in_signin = describe_refusal(reason, None, signin=True)
    if MINT_HINT in words:
        assert in_signin == words.replace(MINT_HINT, SIGNIN_HINT)
    else:
        assert in_signin == words


@pytest.mark.parametrize("reason", ["not_bearer", "not_yet_valid", "jwks_unavailable"])
def test_a_new_token_does_not_fix_these(reason: str) -> None:
    assert describe_refusal(reason, None) == DESCRIPTIONS[reason][0]
    assert describe_refusal(reason, None, signin=True) == DESCRIPTIONS[reason][0]


def test_an_unknown_reason_is_still_described() -> None:
    assert describe_refusal("something_new", None) == f"the token was refused; {MINT_HINT}"


# --- RequireToken ---------------------------------------------------------------------


def expected_401(description: str) -> dict[str, object]:
    return {
        "jsonrpc": "2.0",
        "id": None,
        "error": {
            "code": UNAUTHENTICATED,
            "message": f"Unauthorized: {description}",
            "data": {"error": "invalid_token", "error_description": description},
        },
    }


async def test_authenticated_requests_pass() -> None:
    downstream = Downstream()
    scope = http_scope(user=user([]))
    assert (await call(RequireToken(downstream, METADATA), scope)).status == 200
    assert downstream.calls == [scope]


async def test_no_authorization_header_is_missing_token(counted: Counted) -> None:
    track_attempt()
    downstream = Downstream()
    scope = http_scope()
    answer = await call(RequireToken(downstream, METADATA), scope)
    description = describe_refusal("missing_token", None)
    assert answer.status == 401
    assert answer.json() == expected_401(description)
    assert answer.headers["www-authenticate"] == (
        f'Bearer error="invalid_token", error_description="{description}", '
        f'resource_metadata="{METADATA}"'
    )
    assert scope[DECISIONS_KEY] == [
        {"event": "authentication", "decision": "denied", "reason": "missing_token"}
    ]
    assert downstream.calls == []
    assert counted("denied", "missing_token") == 1


async def test_a_non_bearer_header_is_not_bearer(counted: Counted) -> None:
    track_attempt()
    scope = http_scope(headers=[(b"authorization", b"Basic YTpi")])
    answer = await call(RequireToken(Downstream(), None), scope)
    description = describe_refusal("not_bearer", None)
    assert answer.json() == expected_401(description)
    assert answer.headers["www-authenticate"] == (
        f'Bearer error="invalid_token", error_description="{description}"'
    )
    assert counted("denied", "not_bearer") == 1


async def test_the_verifiers_reason_is_used_and_not_counted_twice(counted: Counted) -> None:
    attempt = track_attempt()
    attempt.reason, attempt.expired_at = "expired", int(time.time()) - 60
    attempt.signin = True  # the sign-in proxy refused its own token
    scope = http_scope(headers=[(b"authorization", b"Bearer x")])
    answer = await call(RequireToken(Downstream(), METADATA, signin=True), scope)
    description = describe_refusal("expired", attempt.expired_at, signin=True)
    assert answer.json() == expected_401(description)
    assert scope[DECISIONS_KEY][0]["reason"] == "expired"
    assert counted("denied", "expired") == 0  # the verifier counted it
    assert counted("denied", "not_bearer") == 0


def test_an_exp_no_clock_can_show_is_an_earlier_time() -> None:
    for exp in (-(10**18), 10**18):
        assert describe_refusal("expired", exp).startswith("the token expired at an earlier time;")
    assert describe_refusal("expired", 0).startswith("the token expired at 1970-01-01T00:00:00Z;")


async def test_a_static_token_refused_in_sign_in_mode_is_told_to_mint_one() -> None:
    attempt = track_attempt()
    attempt.reason, attempt.expired_at = "expired", int(time.time()) - 60  # signin stays False
    scope = http_scope(headers=[(b"authorization", b"Bearer x")])
    answer = await call(RequireToken(Downstream(), METADATA, signin=True), scope)
    description = answer.json()["error"]["data"]["error_description"]
    assert description.endswith(MINT_HINT)
    # No token at all in sign-in mode: signing in is the way.
    track_attempt()
    answer = await call(RequireToken(Downstream(), METADATA, signin=True), http_scope())
    assert answer.json()["error"]["data"]["error_description"].endswith(SIGNIN_HINT)


def test_a_scope_the_policy_never_grants_is_told_apart_from_a_missing_one() -> None:
    never = describe_missing_scope("confidential:read", "iss|bob", {POLICY_ALLOWS_CLAIM: []})
    assert never == (
        "the server's scope policy does not grant the scope confidential:read to iss|bob; "
        "signing in again will not change that: ask the server's administrator"
    )
    allowed = {POLICY_ALLOWS_CLAIM: ["confidential:read"]}
    assert describe_missing_scope("confidential:read", "iss|alice", allowed) == (
        "the call needs the scope confidential:read"
    )
    # A static token carries no policy: the plain answer.
    assert describe_missing_scope("confidential:read", "learner", {}) == (
        "the call needs the scope confidential:read"
    )
