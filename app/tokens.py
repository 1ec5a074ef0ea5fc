"""Token claims shared by the server and the CLIs: defaults, minting, scope parsing."""

from __future__ import annotations

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
        # RFC 6749 3.3: scope tokens are separated by ASCII space only. str.split()
        # would also split on U+2003 and friends, turning one unknown scope into
        # two known ones.
        return [s for s in value.split(" ") if s]
    for name in ("scp", "scopes"):
        if name in claims:
            value = claims[name]
            if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
                raise ScopeClaimError(f"'{name}' must be a list of strings")
            return [s for s in value if s]
    return []
