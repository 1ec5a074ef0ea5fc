"""Minting and scope parsing at their exact boundaries, and the CLIs' claim options (mcp_cli)."""

from __future__ import annotations

import argparse
import time

import jwt
import pytest

from app.tokens import (
    DEFAULT_AUDIENCE,
    DEFAULT_ISSUER,
    MIN_KEY_BYTES,
    ScopeClaimError,
    mint_token,
    parse_scopes,
    token_id,
)
from mcp_cli.claims import add_claim_arguments, mint_from_arguments

KEY = b"k" * MIN_KEY_BYTES


def decode(token: str, key: bytes = KEY, audience: str = DEFAULT_AUDIENCE) -> dict[str, object]:
    claims: dict[str, object] = jwt.decode(token, key, algorithms=["HS256"], audience=audience)
    return claims


def test_minted_claims() -> None:
    before = int(time.time())
    token = mint_token(KEY, "alice", ["public:read", "confidential:read"], expires_in=600)
    after = int(time.time())
    claims = decode(token)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert set(claims) == {"sub", "iss", "aud", "iat", "exp", "scope", "jti"}
    assert (claims["sub"], claims["iss"], claims["aud"]) == ("alice", DEFAULT_ISSUER, "mcp-server")
    assert claims["scope"] == "public:read confidential:read"
    assert isinstance(claims["iat"], int)
    assert before <= claims["iat"] <= after
    assert claims["exp"] == claims["iat"] + 600
    assert isinstance(claims["jti"], str)
    assert len(claims["jti"]) == 22  # 16 random bytes, URL-safe base64
    assert token_id(token) == claims["jti"]
    assert token_id(mint_token(KEY, "alice", [])) != claims["jti"]


def test_defaults_and_overrides() -> None:
    claims = decode(mint_token(KEY.decode(), "bob", []))
    assert claims["exp"] == claims["iat"] + 3600  # type: ignore[operator]
    assert claims["scope"] == ""
    other = mint_token(KEY, "bob", [], issuer="https://idp.example", audience="api")
    claims = decode(other, audience="api")
    assert (claims["iss"], claims["aud"]) == ("https://idp.example", "api")


def test_key_length_boundary() -> None:
    mint_token(b"x" * 32, "alice", [])
    mint_token("x" * 32, "alice", [])
    message = r"^signing key must be at least 32 bytes$"
    with pytest.raises(ValueError, match=message):
        mint_token(b"x" * 31, "alice", [])
    with pytest.raises(ValueError, match=message):
        mint_token("x" * 31, "alice", [])
    mint_token("\u00e9" * 16, "alice", [])  # 16 characters, 32 bytes in UTF-8


def test_empty_subject_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^sub must not be empty$"):
        mint_token(KEY, "", [])


# A week: the longest lifetime a minted token may have, written out (not imported) so
# a changed bound in app/tokens.py fails here.
WEEK = 7 * 24 * 3600


@pytest.mark.parametrize("expires_in", [1, WEEK])
def test_lifetime_bounds_are_inclusive(expires_in: int) -> None:
    claims = decode(mint_token(KEY, "alice", [], expires_in=expires_in))
    assert claims["exp"] == claims["iat"] + expires_in  # type: ignore[operator]


@pytest.mark.parametrize("expires_in", [0, -1, WEEK + 1])
def test_lifetime_out_of_bounds_is_refused(expires_in: int) -> None:
    with pytest.raises(ValueError, match=r"^expires_in must be between 1 and 604800 seconds$"):
        mint_token(KEY, "alice", [], expires_in=expires_in)


@pytest.mark.parametrize("scope", ["", "public read", "public\tread", "read\n", "\u00a0x"])
def test_scopes_with_spaces_or_empty_are_refused(scope: str) -> None:
    with pytest.raises(ValueError, match=r"^invalid scope ") as caught:
        mint_token(KEY, "alice", ["public:read", scope])
    assert str(caught.value) == f"invalid scope {scope!r}: scopes are non-empty, without spaces"


def test_token_id_of_a_token_without_jti() -> None:
    assert token_id(jwt.encode({"sub": "x"}, KEY, algorithm="HS256")) == ""


# --- parse_scopes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "scopes"),
    [
        ({"scope": "a b  c"}, ["a", "b", "c"]),
        ({"scope": ""}, []),
        ({"scope": "a", "scp": ["b"]}, ["a"]),  # `scope` wins
        ({"scp": ["a", "", "b"]}, ["a", "b"]),
        ({"scopes": ["a"]}, ["a"]),
        ({"scp": ["a"], "scopes": ["b"]}, ["a"]),
        ({}, []),
    ],
)
def test_parse_scopes(claims: dict[str, object], scopes: list[str]) -> None:
    assert parse_scopes(claims) == scopes


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"scope": ["a"]}, "'scope' must be a space-separated string"),
        ({"scope": None}, "'scope' must be a space-separated string"),
        ({"scp": "a b"}, "'scp' must be a list of strings"),
        ({"scp": ["a", 1]}, "'scp' must be a list of strings"),
        ({"scopes": "a"}, "'scopes' must be a list of strings"),
        ({"scopes": [None]}, "'scopes' must be a list of strings"),
    ],
)
def test_parse_scopes_refuses_other_shapes(claims: dict[str, object], message: str) -> None:
    with pytest.raises(ScopeClaimError) as caught:
        parse_scopes(claims)
    assert str(caught.value) == message


# --- the CLIs' claim options --------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(prog="mint")
    add_claim_arguments(result)
    return result


def test_claim_options_default_to_the_servers_claims(monkeypatch: pytest.MonkeyPatch) -> None:
    """A token minted with only --sub passes a server left at its defaults."""
    monkeypatch.delenv("MCP_JWT_ISSUER", raising=False)
    monkeypatch.delenv("MCP_JWT_AUDIENCE", raising=False)
    claims = decode(mint_from_arguments(KEY, parser().parse_args(["--sub", "alice"])))
    assert (claims["sub"], claims["iss"], claims["aud"]) == (
        "alice",
        DEFAULT_ISSUER,
        DEFAULT_AUDIENCE,
    )
    assert "scope" not in claims or claims["scope"] == ""
    assert claims["exp"] == claims["iat"] + 3600  # type: ignore[operator]


def test_issuer_and_audience_default_to_the_servers_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MCP_JWT_ISSUER", "https://idp.example")
    monkeypatch.setenv("MCP_JWT_AUDIENCE", "api")
    args = parser().parse_args(["--sub", "alice"])
    assert (args.issuer, args.audience) == ("https://idp.example", "api")


def test_mint_from_arguments() -> None:
    args = parser().parse_args(
        [
            "--sub", "alice",
            "--scopes", " public:read, ,confidential:read ,",
            "--expires-in", "120",
            "--issuer", "iss-x",
            "--audience", "aud-x",
        ]
    )  # fmt: skip
    claims = decode(mint_from_arguments(KEY, args), audience="aud-x")
    assert claims["scope"] == "public:read confidential:read"
    assert (claims["sub"], claims["iss"]) == ("alice", "iss-x")
    assert claims["exp"] == claims["iat"] + 120  # type: ignore[operator]
    args.expires_in = 0
    with pytest.raises(ValueError, match="expires_in"):
        mint_from_arguments(KEY, args)


def test_scope_splits_on_ascii_space_only() -> None:
    # RFC 6749 3.3: U+2003 and friends are part of a scope token, not separators.
    assert parse_scopes({"scope": "public:read\u2003confidential:read"}) == [
        "public:read\u2003confidential:read"
    ]
    assert parse_scopes({"scope": " public:read  confidential:read "}) == [
        "public:read",
        "confidential:read",
    ]
    assert parse_scopes({"scope": "a\tb"}) == ["a\tb"]
