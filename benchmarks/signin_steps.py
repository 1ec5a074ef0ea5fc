#!/usr/bin/env python3
"""What each step of a sign-in token's check costs, one at a time, in this process.

The steps PolicyOIDCProxy.load_access_token (app/signin.py) runs for one of
the OAuth proxy's own tokens, timed alone with `timeit` on a token shaped as
the proxy issues them (HS256, `upstream_claims`, `scope`, `jti`). The first
call runs them all (and FastMCP's store reads and upstream check, which need
Redis and a provider: the `sign-in token` variant of benchmarks/run.py
measures those); every later call until the token expires runs only the
steps marked "every call". No server, no network: microseconds of CPU each.

Example:
  .venv/bin/python -m benchmarks.signin_steps
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
import timeit
from collections.abc import Callable

import jwt
from fastmcp.server.auth import AccessToken

from app.key_files import Denylist, is_revoked
from app.metrics import count_decision
from app.policy import Identity, parse_policy
from app.signin_cache import CheckedToken, CheckedTokens, valid_until

ISSUER = "http://127.0.0.1:8080"
POLICY = "rules:\n  - emails: [alice@example.com]\n    scopes: [public:read]\n"


def proxy_token(key: bytes) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": f"{ISSUER}/mcp",
        "client_id": secrets.token_hex(16),
        "scope": "public:read",
        "exp": now + 3600,
        "iat": now,
        "jti": secrets.token_urlsafe(32),
        "upstream_claims": {
            "iss": "http://127.0.0.1:9400",
            "sub": "alice",
            "email": "alice@example.com",
            "email_verified": True,
            "groups": [],
        },
    }
    return jwt.encode(claims, key, algorithm="HS256")


def steps(token: str, key: bytes) -> list[tuple[str, str, Callable[[], object]]]:
    """(step, when it runs, the step as a call)."""
    policy = parse_policy(POLICY)
    claims = jwt.decode(token, key, algorithms=["HS256"], audience=f"{ISSUER}/mcp", issuer=ISSUER)
    identity = Identity.from_claims(claims["upstream_claims"], "groups")
    upstream = AccessToken(
        token="upstream",  # noqa: S106 (a stand-in for FastMCP's answer, not a secret)
        client_id="c",
        scopes=["public:read"],
        expires_at=claims["exp"],
    )
    access = AccessToken.model_validate(upstream.model_dump())
    checked = CheckedTokens()
    checked.keep(token, CheckedToken(access, claims["jti"], identity.principal, claims["exp"]))
    denylist = Denylist(None)

    def copy_answer() -> object:
        answer = AccessToken.model_validate(upstream.model_dump())
        return answer.model_copy(update={"subject": identity.principal, "claims": {"x": []}})

    def revoked() -> object:
        # What `await denylist.current()` costs when it does not wait (no file change).
        pending = denylist.current()
        try:
            pending.send(None)
        except StopIteration as done:
            return is_revoked(claims["jti"], identity.principal, done.value)
        raise RuntimeError("the deny-list read waited")

    return [
        (
            "telling it from a static token (unverified decode of `iss`)",
            "first call",
            lambda: jwt.decode(token, options={"verify_signature": False}),
        ),
        (
            "the proxy token's HS256 signature and claims",
            "first call",
            lambda: jwt.decode(
                token, key, algorithms=["HS256"], audience=f"{ISSUER}/mcp", issuer=ISSUER
            ),
        ),
        (
            "the identity from `upstream_claims`",
            "first call",
            lambda: Identity.from_claims(claims["upstream_claims"], "groups"),
        ),
        (
            "what the policy would ever allow",
            "first call",
            lambda: sorted(policy.allowed(identity)),
        ),
        ("the answer's pydantic copies", "first call", copy_answer),
        (
            "the earlier expiry, kept",
            "first call",
            lambda: valid_until(claims["exp"], upstream.expires_at),
        ),
        ("the kept answer looked up", "every call", lambda: checked.get(token)),
        ("the deny-list asked", "every call", revoked),
        (
            "the decision counted (metrics)",
            "every call",
            lambda: count_decision("authenticated", "valid_token"),
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--number", type=int, default=2_000, help="calls per step (2,000)")
    args = parser.parse_args(argv)
    key = secrets.token_bytes(32)
    token = proxy_token(key)
    print("| step | when | CPU per call |")
    print("| --- | --- | ---: |")
    for name, when, step in steps(token, key):
        # This process's CPU time, not the clock: other load on the machine does not
        # count; the best of five is the least disturbed still.
        runs = timeit.repeat(step, number=args.number, repeat=5, timer=time.process_time)
        best = min(runs) / args.number
        print(f"| {name} | {when} | {best * 1e6:.1f} us |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
