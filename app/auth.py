"""Bearer-token verification with PyJWT, plugged into FastMCP as its TokenVerifier.

Each request's token is verified once (by FastMCP's authentication middleware,
which calls `verify_token`); everything downstream reads the resulting
AccessToken. Every rejection is counted and logged with its reason, never the token.

Clients send the same token with every request until it expires, so a verified
token is remembered (bounded, until its `exp`). The keys follow their files
(app.key_files.KeyRing): when the ring changes (a rotation, a removed previous
key) every remembered token is forgotten and verified afresh, so a token signed
with a key that is gone stops working at once. Revocation (the deny-list) is
checked on every request, remembered or not. Rejections are never cached.

One expiry rule: the AccessToken's `expires_at` is `exp` plus the leeway, so
FastMCP's own expiry check downstream can never refuse a token this verifier
accepted. The verifier's decision is the outcome.

Why a token was refused is left on the request's `Attempt` (see
`track_attempt`), where the 401 answer and the per-address failure limit read it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import jwt
from fastmcp.server.auth import AccessToken, TokenVerifier

from app.key_files import Denylist, KeyRing, is_revoked
from app.logs import SampledLog
from app.metrics import count_decision
from app.tokens import HS_ALGORITHM, MAX_EXPIRES_IN, ScopeClaimError, parse_scopes

log = logging.getLogger("app.auth")

# Each family of keys accepts only its own algorithms: an HS256 token is never
# checked against a JWKS public key, nor an RS256 token against the shared secret
# (the classic algorithm-confusion attack), and "none" is never accepted.
ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")
REQUIRED_CLAIMS = ["exp", "sub", "iss", "aud"]
JWKS_CACHE_SECONDS = 300
VERIFIED_CACHE_SIZE = 4096


@dataclass
class Attempt:
    """What happened to the bearer token of the request being served."""

    reason: str | None = None  # why it was refused, a label from _reason()
    expired_at: int | None = None  # its `exp`, when it was refused as expired
    signin: bool = False  # the refused token was one the sign-in proxy issued


_attempt: ContextVar[Attempt | None] = ContextVar("app_auth_attempt", default=None)


def track_attempt() -> Attempt:
    """Start recording this request's authentication; outer middleware calls it first."""
    attempt = Attempt()
    _attempt.set(attempt)
    return attempt


def current_attempt() -> Attempt:
    """The request's Attempt (an empty one outside a tracked request)."""
    return _attempt.get() or Attempt()


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


def _token_id(claims: dict[str, Any]) -> str | None:
    token_id = claims.get("jti")
    return token_id if isinstance(token_id, str) else None


def _revoked(claims: dict[str, Any], revoked: frozenset[str]) -> bool:
    subject = claims.get("sub")
    return is_revoked(_token_id(claims), subject if isinstance(subject, str) else None, revoked)


def refuse(
    sampled: SampledLog, reason: str, expired_at: int | None = None, *, signin: bool = False
) -> None:
    """Count, log (sampled) and leave on the request's Attempt why its token was refused.

    The Attempt is what the 401's words and the per-address failure limit read,
    so every verifier that refuses a token goes through here.
    """
    count_decision("denied", reason)
    attempt = current_attempt()
    attempt.reason, attempt.expired_at, attempt.signin = reason, expired_at, signin
    sampled.write(reason)


def _key_fits(algorithm: str, key_type: str | None) -> bool:
    # ES256 with an RSA key (or RS256 with an EC key) is not a signature to
    # check but a mismatch to refuse; PyJWT would raise a non-JWT error on it.
    return {"RS256": "RSA", "ES256": "EC"}.get(algorithm) == key_type


class JWTVerifier(TokenVerifier):
    """Verify HS256 tokens with the shared key(s), and RS256/ES256 ones by the issuer's JWKS."""

    def __init__(
        self,
        *,
        hs_keys: Sequence[bytes] = (),
        issuer: str,
        audience: str,
        leeway_seconds: int = 30,
        max_lifetime_seconds: int = MAX_EXPIRES_IN,
        jwks_url: str | None = None,
        key_ring: KeyRing | None = None,
        denylist: Denylist | None = None,
    ) -> None:
        super().__init__()
        # With a key ring the keys follow their files (live rotation); else they are fixed.
        self._ring = key_ring
        self._generation = key_ring.generation if key_ring else 0
        self._hs_keys = key_ring.keys if key_ring else tuple(hs_keys)
        self._denylist = denylist
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds
        self._max_lifetime = max_lifetime_seconds
        # A flood of bad tokens must not flood the logs (metrics count every one).
        self._rejections = SampledLog(log, "token rejected", "authentication")
        # The issuer's key set is fetched again every JWKS_CACHE_SECONDS, so a key
        # it retires is refused within that time. No per-key cache (cache_keys):
        # PyJWT keeps those keys, retired or not, for the life of the process.
        self._jwks = jwt.PyJWKClient(jwks_url, lifespan=JWKS_CACHE_SECONDS) if jwks_url else None
        self._verified: OrderedDict[str, AccessToken] = OrderedDict()

    async def verify_token(self, token: str) -> AccessToken | None:
        self._follow_key_files()
        revoked = await self._denylist.current() if self._denylist else frozenset()
        cached = self._verified.get(token)
        # expires_at already holds the leeway; once past it the entry is dropped
        # and the full verification refuses the token with its reason.
        if cached is not None and cached.expires_at is not None:
            if time.time() < cached.expires_at:
                if _revoked(cached.claims, revoked):
                    self._reject("revoked")
                    return None
                self._verified.move_to_end(token)
                count_decision("authenticated", "valid_token")
                return cached
            del self._verified[token]
        access = await self._verify(token, revoked)
        if access is not None:
            self._verified[token] = access
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return access

    def _follow_key_files(self) -> None:
        if self._ring is None:
            return
        self._hs_keys = self._ring.refresh()
        if self._ring.generation != self._generation:
            # Tokens verified with a key that is gone must be verified afresh.
            self._generation = self._ring.generation
            self._verified.clear()

    async def _verify(self, token: str, revoked: frozenset[str]) -> AccessToken | None:
        try:
            claims = await self._decode(token)
            scopes = parse_scopes(claims)
            if _revoked(claims, revoked):
                raise Rejected("revoked")
        except Rejected as exc:
            self._reject(exc.reason)
            return None
        except ScopeClaimError:
            self._reject("bad_scope_claim")
            return None
        except jwt.ExpiredSignatureError:
            # PyJWT checks exp only after the signature, so this exp is authentic.
            expired_at = jwt.decode(token, options={"verify_signature": False}).get("exp")
            self._reject("expired", expired_at if isinstance(expired_at, int) else None)
            return None
        except jwt.PyJWTError as exc:
            self._reject(_reason(exc))
            return None
        count_decision("authenticated", "valid_token")
        subject = str(claims["sub"])
        return AccessToken(
            token=token,
            client_id=subject,
            subject=subject,
            scopes=scopes,
            expires_at=int(claims["exp"]) + self._leeway,
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
            if not _key_fits(algorithm, signing_key.key_type):
                raise Rejected("algorithm_not_allowed")
            return self._check(token, signing_key.key, [algorithm])
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
        exp = claims["exp"]
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            raise Rejected("malformed")  # PyJWT also takes numeric strings; we do not
        # A token that lives longer than any this deployment mints was not minted
        # by its tools: refuse it even when the signature holds.
        if exp > time.time() + self._max_lifetime + self._leeway:
            raise Rejected("lifetime_too_long")
        return claims

    def _reject(self, reason: str, expired_at: int | None = None) -> None:
        refuse(self._rejections, reason, expired_at)
