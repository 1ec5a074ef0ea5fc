"""Bearer tokens signed by hand, and the challenge a refused one gets (RFC 6750).

app.tokens.mint_token refuses what these tests need (an expired token, any claims
at all), so they are signed here with PyJWT, the same way a forger or a buggy
issuer would.
"""

from __future__ import annotations

import time

import httpx
import jwt

from app.tokens import DEFAULT_AUDIENCE, DEFAULT_ISSUER

# The server accepts a token this long after its exp (clock skew); EXPIRED is well past it.
EXPIRED_FOR_SECONDS = 300


def signed(key: str, **claims: object) -> str:
    """A token for alice with both scopes, valid 5 minutes, with `claims` changed."""
    now = int(time.time())
    base: dict[str, object] = {
        "sub": "alice",
        "iss": DEFAULT_ISSUER,
        "aud": DEFAULT_AUDIENCE,
        "iat": now,
        "exp": now + 300,
        "scope": "public:read confidential:read",
    }
    base.update(claims)
    return jwt.encode(base, key, algorithm="HS256")


def expired(key: str) -> str:
    """A genuine token (valid signature) whose exp is past the server's leeway."""
    now = int(time.time())
    return signed(key, iat=now - 600, exp=now - EXPIRED_FOR_SECONDS, scope="public:read")


def assert_needs_confidential_scope(response: httpx.Response, base_url: str) -> None:
    """A 403 whose challenge names the missing scope and where to read the resource's metadata."""
    assert response.status_code == 403
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="confidential:read"' in challenge
    metadata = f"{base_url}/.well-known/oauth-protected-resource/mcp"
    assert f'resource_metadata="{metadata}"' in challenge
