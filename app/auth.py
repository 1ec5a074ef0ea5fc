"""Bearer-token verification with PyJWT, plugged into FastMCP as its TokenVerifier.

Each request's token is verified once (by FastMCP's authentication middleware,
which calls `verify_token`); everything downstream reads the resulting
AccessToken. Every rejection is counted and logged with its reason, never the token.

Clients send the same token with every request until it expires, so a verified
token is remembered (bounded, until its `exp`): the keys are fixed for the life
of the process, so a token that verified once verifies again until it expires.
Rejections are never cached.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import jwt
from fastmcp.server.auth import AccessToken, TokenVerifier

from app.metrics import count_decision
from app.tokens import HS_ALGORITHM, ScopeClaimError, parse_scopes

log = logging.getLogger("app.auth")

# Each family of keys accepts only its own algorithms: an HS256 token is never
# checked against a JWKS public key, nor an RS256 token against the shared secret
# (the classic algorithm-confusion attack), and "none" is never accepted.
ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")
REQUIRED_CLAIMS = ["exp", "sub", "iss", "aud"]
JWKS_CACHE_SECONDS = 300
VERIFIED_CACHE_SIZE = 4096


class Rejected(Exception):
    """A token failed verification; `reason` is a short, token-free label."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reason(error: jwt.PyJWTError) -> str:
    # Order matters: several of these subclass InvalidTokenError.
    reasons: list[tuple[type[jwt.PyJWTError], str]] = [
        (jwt.ExpiredSignatureError, "expired"),
        (jwt.ImmatureSignatureError, "not_yet_valid"),
        (jwt.InvalidIssuerError, "wrong_issuer"),
        (jwt.InvalidAudienceError, "wrong_audience"),
        (jwt.MissingRequiredClaimError, "missing_claim"),
        (jwt.InvalidSignatureError, "bad_signature"),
        (jwt.InvalidAlgorithmError, "algorithm_not_allowed"),
        (jwt.PyJWKClientConnectionError, "jwks_unavailable"),
        (jwt.PyJWKClientError, "unknown_key"),
        (jwt.DecodeError, "malformed"),
    ]
    return next((label for kind, label in reasons if isinstance(error, kind)), "invalid")


class JWTVerifier(TokenVerifier):
    """Verify HS256 tokens with the shared key(s), and RS256/ES256 ones by the issuer's JWKS."""

    def __init__(
        self,
        *,
        hs_keys: Sequence[bytes],
        issuer: str,
        audience: str,
        leeway_seconds: int = 30,
        jwks_url: str | None = None,
    ) -> None:
        super().__init__()
        self._hs_keys = tuple(hs_keys)
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds
        self._jwks = (
            jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=JWKS_CACHE_SECONDS)
            if jwks_url
            else None
        )
        self._verified: OrderedDict[str, AccessToken] = OrderedDict()

    async def verify_token(self, token: str) -> AccessToken | None:
        cached = self._verified.get(token)
        # exp is re-checked on every hit with the same leeway as a full check; once
        # past it the entry is dropped and the full verification refuses the token.
        if cached is not None and cached.expires_at is not None:
            if time.time() < cached.expires_at + self._leeway:
                self._verified.move_to_end(token)
                count_decision("authenticated", "valid_token")
                return cached
            del self._verified[token]
        access = await self._verify(token)
        if access is not None:
            self._verified[token] = access
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return access

    async def _verify(self, token: str) -> AccessToken | None:
        try:
            claims = await self._decode(token)
            scopes = parse_scopes(claims)
        except Rejected as exc:
            return self._reject(exc.reason)
        except ScopeClaimError:
            return self._reject("bad_scope_claim")
        except jwt.PyJWTError as exc:
            return self._reject(_reason(exc))
        count_decision("authenticated", "valid_token")
        subject = str(claims["sub"])
        return AccessToken(
            token=token,
            client_id=subject,
            subject=subject,
            scopes=scopes,
            expires_at=int(claims["exp"]),
            claims=claims,
        )

    async def _decode(self, token: str) -> dict[str, Any]:
        if self._jwks is None:
            # Shared keys only: jwt.decode refuses any alg but HS256 by itself.
            if not self._hs_keys:
                raise Rejected("algorithm_not_allowed")
            return self._decode_shared(token)
        algorithm = jwt.get_unverified_header(token).get("alg")
        if algorithm == HS_ALGORITHM and self._hs_keys:
            return self._decode_shared(token)
        if algorithm in ASYMMETRIC_ALGORITHMS and self._jwks is not None:
            # PyJWKClient fetches over blocking HTTP on a cache miss: keep it off the loop.
            signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
            return self._check(token, signing_key.key, list(ASYMMETRIC_ALGORITHMS))
        raise Rejected("algorithm_not_allowed")

    def _decode_shared(self, token: str) -> dict[str, Any]:
        # The current key first, then the previous one (rotation without logouts).
        for key in self._hs_keys[:-1]:
            try:
                return self._check(token, key, [HS_ALGORITHM])
            except jwt.InvalidSignatureError:
                continue
        return self._check(token, self._hs_keys[-1], [HS_ALGORITHM])

    def _check(self, token: str, key: Any, algorithms: list[str]) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=self._audience,
            issuer=self._issuer,
            leeway=self._leeway,
            options={"require": REQUIRED_CLAIMS},
        )
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise Rejected("missing_claim")
        return claims

    @staticmethod
    def _reject(reason: str) -> None:
        count_decision("denied", reason)
        log.warning("token rejected", extra={"event": "authentication", "reason": reason})
        return None
