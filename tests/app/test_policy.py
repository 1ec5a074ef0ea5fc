"""The scope policy on identities built from ID-token claims, in-process (no provider needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.policy import Identity, PolicyError, load_policy, parse_policy

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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [", None),  # only the start is ours; the rest is the YAML parser's
        ("[]", "the file must be a mapping with a 'rules' list"),
        ("rules: {}", "the file must be a mapping with a 'rules' list"),
        ("rules: []\nzeta: 1\nalpha: 2", "unknown key(s) alpha, zeta"),
        ("rules: []\ngroups_claim: 7", "groups_claim must be a claim name such as 'groups'"),
        (
            "rules: [public:read]",
            "rules[0] must be a mapping with scopes and emails/domains/groups",
        ),
        (
            "rules:\n  - {groups: [a], scopes: [public:read]}\n  - {zeta: 1, alpha: 2, scopes: []}",
            "rules[1]: unknown key(s) alpha, zeta",
        ),
        (
            "rules:\n  - {emails: [a@b.c]}",
            "rules[0].scopes is empty; list at least one of confidential:read, public:read",
        ),
        (
            "rules:\n  - {emails: [a@b.c], scopes: [public:read, zz, aa]}",
            "rules[0].scopes: unknown scope(s) aa, zz; "
            "the server knows confidential:read, public:read",
        ),
        (
            "rules:\n  - {scopes: public:read, emails: [a@b.c]}",
            "rules[0].scopes must be a list of strings",
        ),
        (
            "rules:\n  - {scopes: [public:read], emails: ['']}",
            "rules[0].emails must be a list of strings",
        ),
        (
            "rules:\n  - {scopes: [public:read], domains: [7]}",
            "rules[0].domains must be a list of strings",
        ),
        (
            "rules:\n  - {scopes: [public:read], groups: g}",
            "rules[0].groups must be a list of strings",
        ),
        (
            "rules:\n  - {scopes: [public:read], emails: [], domains: [], groups: []}",
            "rules[0] matches nobody: give it emails, domains or groups",
        ),
    ],
)
def test_a_malformed_policy_is_refused_saying_where_and_how(text: str, message: str | None) -> None:
    """The operator reads this at start, after `MCP_SCOPE_POLICY_FILE: `: it must say where."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    if message is None:
        assert str(caught.value).startswith("not valid YAML or JSON: ")
    else:
        assert str(caught.value) == message


def test_rule_entries_match_whatever_case_the_policy_writes_them_in() -> None:
    policy = parse_policy(
        "groups_claim: roles\n"
        "rules:\n"
        "  - {emails: [Bob@Example.COM], scopes: [confidential:read]}\n"
        "  - {domains: ['@Partner.Example'], scopes: [public:read]}\n"
        "  - {groups: [Auditors], scopes: [confidential:read]}\n"
    )
    assert policy.groups_claim == "roles"
    bob = Identity.from_claims({"email": "bob@example.com", "email_verified": True}, "roles")
    partner = Identity.from_claims({"email": "x@partner.example", "email_verified": True}, "roles")
    assert policy.allowed(bob) == {"confidential:read"}
    assert policy.allowed(partner) == {"public:read"}
    # Groups are names the provider chose: compared exactly, not folded.
    assert policy.allowed(Identity.from_claims({"roles": ["auditors"]}, "roles")) == frozenset()
    assert policy.allowed(Identity.from_claims({"roles": ["Auditors"]}, "roles")) == {
        "confidential:read"
    }


def test_a_policy_file_that_cannot_be_read_is_named_with_the_reason(tmp_path: Path) -> None:
    missing = tmp_path / "absent.yaml"
    with pytest.raises(PolicyError) as caught:
        load_policy(missing)
    assert str(caught.value) == f"cannot read {missing}: No such file or directory"
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("rules: [{emails: [j\xe9@x.y], scopes: [public:read]}]".encode("latin-1"))
    with pytest.raises(PolicyError) as caught:
        load_policy(latin1)
    assert str(caught.value) == f"cannot read {latin1}: not UTF-8 text"
    good = tmp_path / "policy.yaml"
    good.write_text("rules: [{groups: [g], scopes: [public:read]}]", encoding="utf-8")
    assert load_policy(good).groups_claim == "groups"
