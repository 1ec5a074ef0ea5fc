"""Sign-in settings and the scope policy: bad values stop the server at start, naming the fix."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from app import config
from app.policy import Identity, PolicyError, parse_policy
from tests.server_process import run_python

KEY = secrets.token_urlsafe(48)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """A clean MCP_* environment with only a signing key."""
    import os

    for name in [n for n in os.environ if n.startswith("MCP_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MCP_JWT_SECRET_KEY", KEY)
    return monkeypatch


def _error(env: pytest.MonkeyPatch, **settings: str) -> str:
    for name, value in settings.items():
        env.setenv(name, value)
    with pytest.raises(config.ConfigError) as caught:
        config.load()
    return str(caught.value)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        pytest.param(
            {"MCP_OIDC_CLIENT_ID": "x"},
            "MCP_OIDC_CLIENT_ID set without MCP_OIDC_CONFIG_URL",
            id="client id alone",
        ),
        pytest.param(
            {"MCP_OIDC_CONFIG_URL": "accounts.google.com"},
            "MCP_OIDC_CONFIG_URL: 'accounts.google.com' is not an http(s) URL",
            id="config url not a url",
        ),
        pytest.param(
            {"MCP_OIDC_CONFIG_URL": "https://idp.example/.well-known/openid-configuration"},
            "needs MCP_OIDC_CLIENT_ID",
            id="no client id",
        ),
        pytest.param(
            {
                "MCP_OIDC_CONFIG_URL": "https://idp.example/.well-known/openid-configuration",
                "MCP_OIDC_CLIENT_ID": "x",
            },
            "exactly one of MCP_OIDC_CLIENT_SECRET and MCP_OIDC_CLIENT_SECRET_FILE",
            id="no secret",
        ),
        pytest.param(
            {
                "MCP_OIDC_CONFIG_URL": "https://idp.example/.well-known/openid-configuration",
                "MCP_OIDC_CLIENT_ID": "x",
                "MCP_OIDC_CLIENT_SECRET": "s",
            },
            "needs MCP_SCOPE_POLICY_FILE",
            id="no policy",
        ),
        pytest.param(
            {
                "MCP_OIDC_CONFIG_URL": "https://idp.example/.well-known/openid-configuration",
                "MCP_OIDC_CLIENT_ID": "x",
                "MCP_OIDC_CLIENT_SECRET": "s",
                "MCP_SCOPE_POLICY_FILE": "/nonexistent/policy.yaml",
                "MCP_OAUTH_STORAGE_URL": "memcached://10.0.0.3:11211",
            },
            "MCP_OAUTH_STORAGE_URL must be a redis:// or rediss:// URL",
            id="storage not redis",
        ),
        pytest.param(
            {
                "MCP_OIDC_CONFIG_URL": "https://idp.example/.well-known/openid-configuration",
                "MCP_OIDC_CLIENT_ID": "x",
                "MCP_OIDC_CLIENT_SECRET": "s",
                "MCP_SCOPE_POLICY_FILE": "/nonexistent/policy.yaml",
            },
            "MCP_SCOPE_POLICY_FILE: cannot read /nonexistent/policy.yaml",
            id="policy missing",
        ),
    ],
)
def test_incomplete_sign_in_settings_are_refused(
    env: pytest.MonkeyPatch, settings: dict[str, str], expected: str
) -> None:
    assert expected in _error(env, **settings)


def test_an_unreachable_provider_is_refused_naming_the_setting(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("rules: []\n")
    message = _error(
        env,
        MCP_OIDC_CONFIG_URL="http://127.0.0.1:9/.well-known/openid-configuration",
        MCP_OIDC_CLIENT_ID="x",
        MCP_OIDC_CLIENT_SECRET="s",
        MCP_SCOPE_POLICY_FILE=str(policy),
    )
    assert message.startswith("MCP_OIDC_CONFIG_URL: cannot read the provider's configuration")


@pytest.mark.other_process
def test_the_server_exits_2_with_the_policy_error(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("rules:\n  - emails: [a@example.com]\n    scopes: [admin]\n")
    result = run_python(
        "-m",
        "app",
        env={
            "MCP_JWT_SECRET_KEY": KEY,
            "MCP_OIDC_CONFIG_URL": "https://idp.example/.well-known/openid-configuration",
            "MCP_OIDC_CLIENT_ID": "x",
            "MCP_OIDC_CLIENT_SECRET": "s",
            "MCP_SCOPE_POLICY_FILE": str(policy),
        },
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "configuration error: MCP_SCOPE_POLICY_FILE: rules[0].scopes: unknown scope(s) admin; "
        "the server knows confidential:read, public:read"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules: [", "not valid YAML or JSON"),
        ("[]", "a mapping with a 'rules' list"),
        ("rules: []\nextra: 1", "unknown key(s) extra"),
        ("rules:\n  - scopes: [public:read]", "rules[0] matches nobody"),
        ("rules:\n  - emails: [a@b.c]\n    scopes: []", "rules[0].scopes is empty"),
        ("rules:\n  - emails: a@b.c\n    scopes: [public:read]", "rules[0].emails must be a list"),
        ("rules:\n  - email: [a@b.c]\n    scopes: [public:read]", "unknown key(s) email"),
        ('{"rules": [], "groups_claim": ""}', "groups_claim must be a claim name"),
    ],
)
def test_malformed_policies_say_what_is_wrong(text: str, expected: str) -> None:
    with pytest.raises(PolicyError, match=None) as caught:
        parse_policy(text)
    assert expected in str(caught.value)


POLICY = parse_policy(
    """{"groups_claim": "roles", "rules": [
        {"emails": ["Alice@Example.com"], "scopes": ["public:read", "confidential:read"]},
        {"domains": ["partner.example"], "scopes": ["public:read"]},
        {"groups": ["auditors"], "scopes": ["confidential:read"]}]}"""
)


def _who(**claims: object) -> Identity:
    return Identity.from_claims({"sub": "s", **claims}, POLICY.groups_claim)


@pytest.mark.parametrize(
    ("identity", "requested", "granted"),
    [
        (
            _who(email="alice@example.com", email_verified=True),
            [],
            ["confidential:read", "public:read"],
        ),
        (_who(email="ALICE@example.com", email_verified="true"), ["public:read"], ["public:read"]),
        (_who(email="alice@example.com", email_verified=False), [], []),
        (_who(email="alice@example.com"), [], []),
        (_who(email="x@partner.example", email_verified=True), ["confidential:read"], []),
        (
            _who(email="x@partner.example", email_verified=True),
            ["public:read", "confidential:read"],
            ["public:read"],
        ),
        (_who(email="x@sub.partner.example", email_verified=True), [], []),
        (_who(roles=["auditors"]), [], ["confidential:read"]),
        (_who(groups=["auditors"]), [], []),
        (_who(roles="auditors"), [], []),
        (_who(), ["public:read"], []),
    ],
)
def test_the_policy_grants_only_what_it_allows(
    identity: Identity, requested: list[str], granted: list[str]
) -> None:
    assert POLICY.grant(identity, requested) == granted


def test_the_principal_is_the_issuers_subject_never_the_email() -> None:
    claims = {"iss": "https://idp.example", "sub": "42", "email": "Alice@Example.com"}
    unverified = Identity.from_claims({**claims, "email_verified": False}, "groups")
    assert unverified.principal == "https://idp.example|42"
    assert unverified.verified_email is None
    verified = Identity.from_claims({**claims, "email_verified": "true"}, "groups")
    assert verified.principal == "https://idp.example|42"
    assert verified.verified_email == "alice@example.com"
    # What rides in the issued token gives back the same person on refresh.
    assert Identity.from_claims(verified.as_claims(), "groups") == verified
