"""The sign-in scope policy: which identities get which scopes, default deny.

Read once at start from MCP_SCOPE_POLICY_FILE (YAML, or JSON, which is YAML too):

    groups_claim: groups          # optional; the ID-token claim that lists groups
    rules:
      - emails: [alice@example.com]
        scopes: [public:read, confidential:read]
      - domains: [example.com]
        scopes: [public:read]
      - groups: [mcp-admins]
        scopes: [confidential:read]

An identity gets the union of the scopes of every rule it matches, and nothing
when it matches none. Emails and domains match only an email the provider marks
verified (`email_verified: true`): an unverified address proves nothing. A
client that asks for more than the policy allows gets what it allows; a client
that asks for nothing in particular gets everything the policy allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from app.catalog import ALL_SCOPES

DEFAULT_GROUPS_CLAIM = "groups"
_MATCHERS = ("emails", "domains", "groups")


class PolicyError(ValueError):
    """The policy file is missing or malformed; the message says where and how to fix it."""


@dataclass(frozen=True)
class Rule:
    emails: frozenset[str]
    domains: frozenset[str]
    groups: frozenset[str]
    scopes: frozenset[str]


@dataclass(frozen=True)
class Identity:
    """What the upstream provider's verified ID token says about the person."""

    issuer: str
    subject: str  # the provider's own stable id for the person (`sub`)
    email: str | None
    email_verified: bool
    groups: frozenset[str]

    @property
    def principal(self) -> str:
        """Who this is, everywhere the server names a person: logs, rate limit, deny-list.

        The provider's stable id qualified by the provider (OpenID Connect: `sub` is
        unique only within its `iss`), never an email, which anyone can claim at a
        provider that does not verify it.
        """
        return f"{self.issuer}|{self.subject}"

    @property
    def verified_email(self) -> str | None:
        return self.email if self.email_verified else None

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any], groups_claim: str) -> Identity:
        email = claims.get("email")
        groups = claims.get(groups_claim)
        return cls(
            issuer=str(claims.get("iss", "")),
            subject=str(claims.get("sub", "")),
            email=email.lower() if isinstance(email, str) and email else None,
            # Some providers send the string "true"; anything else is not verified.
            email_verified=claims.get("email_verified") in (True, "true"),
            groups=frozenset(g for g in groups if isinstance(g, str))
            if isinstance(groups, list)
            else frozenset(),
        )

    def as_claims(self) -> dict[str, Any]:
        """The identity as JSON-safe claims (kept in the issued token to re-check on refresh)."""
        return {
            "iss": self.issuer,
            "sub": self.subject,
            "email": self.email,
            "email_verified": self.email_verified,
            "groups": sorted(self.groups),
        }


@dataclass(frozen=True)
class ScopePolicy:
    rules: tuple[Rule, ...]
    groups_claim: str = DEFAULT_GROUPS_CLAIM

    def allowed(self, identity: Identity) -> frozenset[str]:
        """Every scope the policy gives this identity (empty when no rule matches)."""
        verified_email = identity.verified_email
        domain = verified_email.rpartition("@")[2] if verified_email else None
        granted: set[str] = set()
        for rule in self.rules:
            if (
                (verified_email is not None and verified_email in rule.emails)
                or (domain is not None and domain in rule.domains)
                or (identity.groups & rule.groups)
            ):
                granted |= rule.scopes
        return frozenset(granted)

    def grant(self, identity: Identity, requested: Iterable[str]) -> list[str]:
        """The scopes to issue: what was asked for, cut down to what the policy allows."""
        allowed = self.allowed(identity)
        asked = set(requested) & set(ALL_SCOPES)
        return sorted(allowed & asked if asked else allowed)


def _strings(value: object, where: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise PolicyError(f"{where} must be a list of strings")
    return frozenset(value)


def _rule(raw: object, index: int) -> Rule:
    where = f"rules[{index}]"
    if not isinstance(raw, dict):
        raise PolicyError(f"{where} must be a mapping with scopes and emails/domains/groups")
    unknown = set(raw) - {*_MATCHERS, "scopes"}
    if unknown:
        raise PolicyError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    scopes = _strings(raw.get("scopes"), f"{where}.scopes")
    if not scopes:
        raise PolicyError(f"{where}.scopes is empty; list at least one of {', '.join(ALL_SCOPES)}")
    unknown_scopes = scopes - set(ALL_SCOPES)
    if unknown_scopes:
        raise PolicyError(
            f"{where}.scopes: unknown scope(s) {', '.join(sorted(unknown_scopes))}; "
            f"the server knows {', '.join(ALL_SCOPES)}"
        )
    emails = frozenset(e.lower() for e in _strings(raw.get("emails"), f"{where}.emails"))
    domains = frozenset(
        d.lower().lstrip("@") for d in _strings(raw.get("domains"), f"{where}.domains")
    )
    groups = _strings(raw.get("groups"), f"{where}.groups")
    if not (emails or domains or groups):
        raise PolicyError(f"{where} matches nobody: give it emails, domains or groups")
    return Rule(emails=emails, domains=domains, groups=groups, scopes=scopes)


def parse_policy(text: str) -> ScopePolicy:
    """Parse and check a policy document; raise PolicyError saying what is wrong."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"not valid YAML or JSON: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list):
        raise PolicyError("the file must be a mapping with a 'rules' list")
    unknown = set(raw) - {"rules", "groups_claim"}
    if unknown:
        raise PolicyError(f"unknown key(s) {', '.join(sorted(unknown))}")
    groups_claim = raw.get("groups_claim", DEFAULT_GROUPS_CLAIM)
    if not isinstance(groups_claim, str) or not groups_claim:
        raise PolicyError("groups_claim must be a claim name such as 'groups'")
    rules = tuple(_rule(item, index) for index, item in enumerate(raw["rules"]))
    return ScopePolicy(rules=rules, groups_claim=groups_claim)


def load_policy(path: Path) -> ScopePolicy:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise PolicyError(f"cannot read {path}: {reason}") from None
    return parse_policy(text)
