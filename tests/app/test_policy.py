"""The scope policy on identities built from ID-token claims, in-process (no provider needed)."""

from __future__ import annotations

from typing import Any

from app.policy import Identity, parse_policy

POLICY = parse_policy(
    """
rules:
  - emails: [alice@example.com]
    scopes: [public:read]
  - domains: [partner.example]
    scopes: [public:read]
  - groups: [auditors]
    scopes: [confidential:read]
"""
)


def who(**claims: Any) -> Identity:
    """The identity these claims give under POLICY (which names no groups_claim: `groups`)."""
    return Identity.from_claims(
        {"iss": "https://idp.example", "sub": "s-1", **claims}, POLICY.groups_claim
    )


def test_scopes_of_every_matching_rule_add_up() -> None:
    alice = who(email="Alice@Example.com", email_verified=True, groups=["auditors"])
    assert POLICY.allowed(alice) == {"public:read", "confidential:read"}


def test_an_email_the_provider_has_not_verified_grants_nothing() -> None:
    """Anyone can claim alice@example.com at a provider that does not verify it."""
    for verified in (False, None, "yes"):
        claimed = who(email="alice@example.com", email_verified=verified)
        assert POLICY.allowed(claimed) == frozenset()
        assert claimed.principal == "https://idp.example|s-1"  # never named by the email


def test_groups_come_from_the_groups_claim_and_only_strings_count() -> None:
    identity = who(groups=["auditors", 7, None])
    assert identity.groups == {"auditors"}
    assert POLICY.allowed(identity) == {"confidential:read"}
    assert who(groups="auditors").groups == frozenset()  # a string is no list of groups


def test_the_domain_is_what_follows_the_last_at_sign() -> None:
    quoted = who(email='"a@b"@partner.example', email_verified="true")
    assert POLICY.allowed(quoted) == {"public:read"}


def test_a_missing_or_empty_email_is_none() -> None:
    assert who().email is None
    assert who(email="", email_verified=True).verified_email is None
    assert who(email=42, email_verified=True).email is None


def test_missing_issuer_and_subject_stay_empty_never_the_word_none() -> None:
    assert Identity.from_claims({}, POLICY.groups_claim).principal == "|"


def test_an_identity_survives_its_claims_round_trip() -> None:
    identity = who(email="bob@partner.example", email_verified=True, groups=["b", "a"])
    assert Identity.from_claims(identity.as_claims(), POLICY.groups_claim) == identity
