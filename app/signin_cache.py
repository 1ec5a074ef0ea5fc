"""Remember what a sign-in token was found to be until the earlier of its expiries.

For one of its own tokens, PolicyOIDCProxy.load_access_token works out, on a
first call (docs/benchmarks.md has what each step costs):
- the token's HS256 signature, `exp` and claims: its id (`jti`), the identity
  in `upstream_claims`, its signed scopes;
- FastMCP's check: two reads from the sign-in store (the token's mapping,
  then the upstream tokens, decrypted) and the upstream ID token's signature;
- what the scope policy (read once, at start) would ever give that identity,
  and the answer the request carries (pydantic copies of it).

All of that depends only on the token and on when it is asked: FastMCP writes
a token's stored state once and deletes it only when it expires (access tokens
are not revoked in the store), and the upstream verification can only change
its answer when the upstream token expires. So a positive answer stays true
until the earlier of the token's `exp` and the upstream token's, and
`CheckedTokens` keeps it exactly that long, never longer. What can change in
between, the deny-list, is asked on every call before a kept answer is used
(PolicyOIDCProxy.load_access_token), as the static-token path does. Refusals
are never kept. While the store is away, a token this replica has already
checked keeps working until it expires; a token it has not seen gets the 503.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from fastmcp.server.auth import AccessToken

MAX_TOKENS = 4096  # ~3 KB each: a few MB at most, the least recently used go first


@dataclass(frozen=True)
class CheckedToken:
    """A sign-in token's answer, and what the deny-list is asked about it on each call."""

    access: AccessToken
    jti: str
    principal: str
    until: float  # the earlier of the token's and the upstream token's expiry (Unix time)


class CheckedTokens:
    """Positive answers by token, each until its `until`; at most MAX_TOKENS of them."""

    def __init__(self) -> None:
        self._answers: OrderedDict[str, CheckedToken] = OrderedDict()

    def get(self, token: str) -> CheckedToken | None:
        checked = self._answers.get(token)
        if checked is None:
            return None
        if time.time() >= checked.until:
            del self._answers[token]
            return None
        self._answers.move_to_end(token)
        return checked

    def keep(self, token: str, checked: CheckedToken) -> None:
        if checked.until <= time.time():
            return
        self._answers[token] = checked
        if len(self._answers) > MAX_TOKENS:
            self._answers.popitem(last=False)


def valid_until(own_exp: object, upstream_expires_at: int | None) -> float:
    """The earlier of the two expiries; 0 (keep nothing) when either is unknown."""
    expiries = [e for e in (own_exp, upstream_expires_at) if isinstance(e, int | float)]
    return float(min(expiries)) if len(expiries) == 2 else 0.0
