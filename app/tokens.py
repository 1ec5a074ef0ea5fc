"""Token claims shared by the server and the CLIs: defaults, minting, scope parsing."""

from __future__ import annotations

import argparse
import os
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

import jwt

DEFAULT_ISSUER = "secure-mcp-server"
DEFAULT_AUDIENCE = "mcp-server"
HS_ALGORITHM = "HS256"
MIN_KEY_BYTES = 32
MAX_EXPIRES_IN = 7 * 24 * 3600


class ScopeClaimError(ValueError):
    """The token carries a scope claim of a shape we do not accept."""


def mint_token(
    secret: str | bytes,
    sub: str,
    scopes: Sequence[str],
    expires_in: int = 3600,
    issuer: str = DEFAULT_ISSUER,
    audience: str = DEFAULT_AUDIENCE,
) -> str:
    """Sign an HS256 access token with RFC 9068 claims (`scope` space-separated)."""
    key = secret.encode() if isinstance(secret, str) else secret
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"signing key must be at least {MIN_KEY_BYTES} bytes")
    if not sub:
        raise ValueError("sub must not be empty")
    if not 0 < expires_in <= MAX_EXPIRES_IN:
        raise ValueError(f"expires_in must be between 1 and {MAX_EXPIRES_IN} seconds")
    for scope in scopes:
        if not scope or any(ch.isspace() for ch in scope):
            raise ValueError(f"invalid scope {scope!r}: scopes are non-empty, without spaces")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + expires_in,
        "scope": " ".join(scopes),
        # A random id, so one token can be revoked (MCP_JWT_DENYLIST_FILE) without the rest.
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(claims, key, algorithm=HS_ALGORITHM)


def token_id(token: str) -> str:
    """The `jti` of a token this project minted (read without verifying: for display only)."""
    return str(jwt.decode(token, options={"verify_signature": False}).get("jti", ""))


def parse_scopes(claims: Mapping[str, Any]) -> list[str]:
    """Scopes from `scope` (space-separated string) or a `scp`/`scopes` list of strings.

    No scope claim means no scopes; any other shape raises ScopeClaimError, so a
    token we cannot read is refused rather than guessed at.
    """
    if "scope" in claims:
        value = claims["scope"]
        if not isinstance(value, str):
            raise ScopeClaimError("'scope' must be a space-separated string")
        return value.split()
    for name in ("scp", "scopes"):
        if name in claims:
            value = claims[name]
            if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
                raise ScopeClaimError(f"'{name}' must be a list of strings")
            return [s for s in value if s]
    return []


def add_claim_arguments(parser: argparse.ArgumentParser) -> None:
    """The claim options every token CLI takes, with the server's defaults."""
    parser.add_argument("--sub", required=True, help="the token's subject (who it is for)")
    parser.add_argument(
        "--scopes",
        default="",
        help="comma-separated scopes, e.g. public:read,confidential:read (default: none)",
    )
    parser.add_argument(
        "--expires-in",
        type=int,
        default=3600,
        metavar="SECONDS",
        help=f"lifetime in seconds, 1 to {MAX_EXPIRES_IN} (default: 3600)",
    )
    parser.add_argument(
        "--issuer",
        default=os.environ.get("MCP_JWT_ISSUER", DEFAULT_ISSUER),
        help="iss claim (default: $MCP_JWT_ISSUER or %(default)s)",
    )
    parser.add_argument(
        "--audience",
        default=os.environ.get("MCP_JWT_AUDIENCE", DEFAULT_AUDIENCE),
        help="aud claim (default: $MCP_JWT_AUDIENCE or %(default)s)",
    )


def mint_from_arguments(secret: str | bytes, args: argparse.Namespace) -> str:
    """mint_token with the options of add_claim_arguments; ValueError on a bad one."""
    return mint_token(
        secret,
        sub=args.sub,
        scopes=[s.strip() for s in args.scopes.split(",") if s.strip()],
        expires_in=args.expires_in,
        issuer=args.issuer,
        audience=args.audience,
    )
