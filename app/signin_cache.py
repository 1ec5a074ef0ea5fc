"""Remember the OAuth proxy's check of a sign-in token until the earlier of its expiries.

FastMCP's proxy checks its own token on every request by reading two entries
from the sign-in store (the token's mapping, then the upstream tokens,
decrypted) and verifying the upstream ID token's signature: about 0.9 ms of
CPU on the build machine, most of it the two store reads (docs/benchmarks.md).

The answer depends only on the token itself and on when it is asked:
- the token's own signature and `exp`;
- the stored mapping and upstream tokens, which FastMCP writes once per
  token and deletes only when they expire (access tokens are not revoked
  in the store; their mapping lives until the token's `exp`);
- the upstream ID token's signature and `exp`.
So a positive answer stays true until the earliest of the two expiries, and
this cache keeps it exactly that long, never longer. Whatever
PolicyOIDCProxy.load_access_token decides itself (revocation by the
deny-list, for instance) runs above it, on every request. Negative answers
are never kept. While the store is away, a token this replica has already checked keeps
working until it expires; a token it has not seen gets the 503.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict

import jwt
from fastmcp.server.auth.oidc_proxy import OIDCProxy
from mcp.server.auth.provider import AccessToken

MAX_TOKENS = 4096  # ~2 KB each: a few MB at most, the least recently used go first


class CachedTokenChecks(OIDCProxy):
    """OIDCProxy whose positive token checks are remembered until the token or upstream expires."""

    async def load_access_token(self, token: str) -> AccessToken | None:  # type: ignore[override]
        checked: OrderedDict[bytes, tuple[AccessToken, float]] = self.__dict__.setdefault(
            "_checked", OrderedDict()
        )
        key = hashlib.sha256(token.encode()).digest()
        now = time.time()
        remembered = checked.get(key)
        if remembered is not None:
            if now < remembered[1]:
                checked.move_to_end(key)
                return remembered[0]
            del checked[key]
        loaded = await super().load_access_token(token)
        if loaded is not None:
            until = _valid_until(token, loaded)
            if until > now:
                checked[key] = (loaded, until)
                if len(checked) > MAX_TOKENS:
                    checked.popitem(last=False)
        return loaded


def _valid_until(token: str, loaded: AccessToken) -> float:
    """The earlier of the proxy token's `exp` and the upstream token's (0: do not keep)."""
    # The proxy has just verified this token's signature: its exp is authentic.
    own = jwt.decode(token, options={"verify_signature": False}).get("exp")
    expiries = [e for e in (own, loaded.expires_at) if isinstance(e, int | float)]
    return float(min(expiries)) if len(expiries) == 2 else 0.0
