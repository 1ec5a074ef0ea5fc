"""Bearer-token verification with PyJWT, plugged into FastMCP as its TokenVerifier.

Each request's token is verified once (by FastMCP's authentication middleware,
which calls `verify_token`); everything downstream reads the resulting
AccessToken. Every rejection is counted and logged with its reason, never the token.

Clients send the same token with every request until it expires, so a verified
token is remembered (bounded, until its `exp`), but never beyond its key. The
shared keys follow their files (app.key_files.KeyRing): when the ring changes (a
rotation, a removed previous key) every remembered token is forgotten and
verified afresh, so a token signed with a key that is gone stops working at
once. A token verified by the issuer's JWKS is answered from memory only while
the key set in force still holds its key (`IssuerKeys`): once a fetch of the
set drops that key, or the set is older than JWKS_CACHE_SECONDS, it is verified
afresh. Revocation (the deny-list) is checked on every request, remembered or
not. Rejections are never cached.

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
from typing import Any, NamedTuple

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
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


# Which key signed a token: its kid and its public key (an issuer may reuse a kid for a new key).
KeyIdentity = tuple[str | None, bytes]


# The key type each asymmetric algorithm is checked with; a set's other keys are never used.
KEY_TYPES = {"RS256": "RSA", "ES256": "EC"}


def published_whole(jwk: jwt.PyJWK) -> bool:
    """Does the issuer's set carry this key's private part? Then anyone who read it can sign."""
    return isinstance(jwk.key, RSAPrivateKey | EllipticCurvePrivateKey)


def key_identity(jwk: jwt.PyJWK) -> KeyIdentity:
    """The identity of a public RSA or EC key of the issuer's set."""
    return jwk.key_id, jwk.key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


class IssuerKeys:
    """The issuer's key set (JWKS), and whether a key that signed a token is still in it.

    PyJWKClient keeps the set for `lifespan` seconds and fetches it again after
    that, or sooner for a token whose kid it does not know (after its cooldown),
    so a key the issuer retires is refused within `lifespan`. `holds` applies the
    same rule to tokens remembered by the verifier, which never reach PyJWT.
    """

    def __init__(self, url: str, lifespan: float) -> None:
        # No per-key cache (cache_keys): PyJWT keeps those keys, retired or not, for
        # the life of the process.
        self._client = jwt.PyJWKClient(url, lifespan=lifespan)
        cache = self._client.jwk_set_cache
        if cache is None:  # PyJWKClient caches the set by default; holds() reads that copy
            raise RuntimeError("PyJWKClient built without its key-set cache")
        self._cache = cache
        self._seen: jwt.PyJWKSet | None = None
        self._held: frozenset[KeyIdentity] = frozenset()

    async def signing_key(self, token: str) -> jwt.PyJWK:
        # PyJWKClient fetches over blocking HTTP on a cache miss: keep it off the loop.
        return await asyncio.to_thread(self._client.get_signing_key_from_jwt, token)

    def holds(self, key: KeyIdentity) -> bool:
        """Is `key` in the set in force? False once the set is older than its lifespan."""
        jwk_set = self._cache.get()  # None when expired: the next verification fetches it
        if jwk_set is None:
            return False
        if jwk_set is not self._seen:  # a fetch replaced the set: what does it hold now?
            self._held = frozenset(
                key_identity(jwk)
                for jwk in jwk_set.keys
                if jwk.key_type in KEY_TYPES.values() and not published_whole(jwk)
            )
            self._seen = jwk_set
        return key in self._held


class Remembered(NamedTuple):
    """A verified token's answer, and the JWKS key that verified it (None: a shared key)."""

    access: AccessToken
    key: KeyIdentity | None


def _key_fits(algorithm: str, key_type: str | None) -> bool:
    # ES256 with an RSA key (or RS256 with an EC key) is not a signature to
    # check but a mismatch to refuse; PyJWT would raise a non-JWT error on it.
    return KEY_TYPES.get(algorithm) == key_type


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
        # it retires is refused within that time, remembered tokens included.
        self._jwks = IssuerKeys(jwks_url, JWKS_CACHE_SECONDS) if jwks_url else None
        self._verified: OrderedDict[str, Remembered] = OrderedDict()

    async def verify_token(self, token: str) -> AccessToken | None:
        self._follow_key_files()
        revoked = await self._denylist.current() if self._denylist else frozenset()
        cached = self._verified.get(token)
        if cached is not None:
            if self._still_good(cached):
                if _revoked(cached.access.claims, revoked):
                    self._reject("revoked")
                    return None
                self._verified.move_to_end(token)
                count_decision("authenticated", "valid_token")
                return cached.access
            # The full verification refuses it with its reason (or remembers it afresh).
            del self._verified[token]
        verified = await self._verify(token, revoked)
        if verified is None:
            return None
        self._verified[token] = verified
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return verified.access

    def _still_good(self, cached: Remembered) -> bool:
        # expires_at already holds the leeway.
        expires_at = cached.access.expires_at
        if expires_at is None or time.time() >= expires_at:
            return False
        # A JWKS token is only as good as its key: still in the issuer's set in force?
        return cached.key is None or (self._jwks is not None and self._jwks.holds(cached.key))

    def _follow_key_files(self) -> None:
        if self._ring is None:
            return
        self._hs_keys = self._ring.refresh()
        if self._ring.generation != self._generation:
            # Tokens verified with a key that is gone must be verified afresh.
            self._generation = self._ring.generation
            self._verified.clear()

    async def _verify(self, token: str, revoked: frozenset[str]) -> Remembered | None:
        try:
            claims, key = await self._decode(token)
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
        access = AccessToken(
            token=token,
            client_id=subject,
            subject=subject,
            scopes=scopes,
            expires_at=int(claims["exp"]) + self._leeway,
            claims=claims,
        )
        return Remembered(access, key)

    async def _decode(self, token: str) -> tuple[dict[str, Any], KeyIdentity | None]:
        """The token's claims, and the JWKS key that verified them (None: a shared key)."""
        if self._jwks is None:
            # Shared keys only: jwt.decode refuses any alg but HS256 by itself.
            if not self._hs_keys:
                raise Rejected("algorithm_not_allowed")
            return self._decode_shared(token), None
        algorithm = jwt.get_unverified_header(token).get("alg")
        if algorithm == HS_ALGORITHM and self._hs_keys:
            return self._decode_shared(token), None
        if algorithm in ASYMMETRIC_ALGORITHMS and self._jwks is not None:
            signing_key = await self._jwks.signing_key(token)
            if not _key_fits(algorithm, signing_key.key_type):
                raise Rejected("algorithm_not_allowed")
            if published_whole(signing_key):
                raise Rejected("key_published")
            return self._check(token, signing_key.key, [algorithm]), key_identity(signing_key)
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
