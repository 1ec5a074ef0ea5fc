"""The 401 and 403 answers of the MCP route, each saying what to do next.

A person reads these through their client: "the token expired at ...; mint a
new one" tells them more than "invalid_token". RFC 6750 carries the same words
in `WWW-Authenticate`'s `error_description` and in the JSON body.
"""

from __future__ import annotations

import time
from typing import Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from starlette.types import ASGIApp, Receive, Scope, Send

from app.asgi import DECISIONS_KEY, Refusal, error_body, header
from app.auth import current_attempt
from app.metrics import count_decision

# Sign-in tokens carry, in their AccessToken's claims, every scope the policy
# would give the person (app/signin.py): a scope outside it no sign-in brings.
POLICY_ALLOWS_CLAIM = "policy_allows"
MINT_HINT = "mint one (make token, or mcp-key token on GKE)"
SIGNIN_HINT = "sign in again (your MCP client does so when it sees this answer)"
# JSON-RPC code for "not authenticated": MCP SDK clients show an error body's
# `message` only when the body is a JSON-RPC error, so a 401 carries one.
UNAUTHENTICATED = -32001

# Why a token was refused (app.auth's labels) -> what went wrong, and whether a
# new token is the fix (the hint then says how to get one in this mode).
DESCRIPTIONS: dict[str, tuple[str, bool]] = {
    "missing_token": (
        "this server needs a bearer token: send 'Authorization: Bearer <token>'",
        True,
    ),
    "not_bearer": ("the Authorization header must read 'Bearer <token>'", False),
    "not_yet_valid": (
        "the token is not valid yet (nbf or iat lies ahead); "
        "check the clock of the machine that minted it",
        False,
    ),
    "wrong_issuer": ("the token's issuer (iss) is not the one this server expects", True),
    "wrong_audience": ("the token's audience (aud) is not this server", True),
    "missing_claim": ("the token lacks a required claim (exp, sub, iss, aud)", True),
    "bad_signature": ("the token was not signed with this server's key", True),
    "algorithm_not_allowed": ("the token's signing algorithm is not accepted here", True),
    "jwks_unavailable": (
        "the issuer's signing keys could not be fetched; try again shortly",
        False,
    ),
    "unknown_key": ("the token's key id (kid) is not among the issuer's keys", True),
    "key_published": (
        "the issuer publishes this key's private part, so anyone could have signed the token",
        True,
    ),
    "malformed": ("the token is not a well-formed JWT", True),
    "bad_scope_claim": (
        "the token's scope claim must be a space-separated string (or a scp/scopes list)",
        True,
    ),
    "lifetime_too_long": (
        "the token lives longer than this server accepts (MCP_JWT_MAX_TOKEN_LIFETIME_SECONDS); "
        "use a shorter --expires-in",
        True,
    ),
    "revoked": ("the token was revoked", True),
    # Sign-in tokens point at state the server keeps (MCP_OAUTH_STORAGE_URL).
    "signin_unknown": (
        "the server no longer knows this sign-in (its stored state expired or was removed)",
        True,
    ),
    "signin_state_unavailable": (
        "the server cannot reach its sign-in state store (MCP_OAUTH_STORAGE_URL); "
        "try again shortly",
        False,
    ),
    "signin_upstream_refused": (
        "the identity provider no longer accepts this sign-in",
        True,
    ),
}


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def challenge(
    status: int,
    error: str,
    description: str,
    resource_metadata_url: str | None,
    *,
    scope: str | None = None,
    body: dict[str, Any] | None = None,
) -> Refusal:
    """A Bearer challenge (RFC 6750, RFC 9728) with the same description in header and body."""
    params = [f'error="{error}"', f'error_description="{_quoted(description)}"']
    if scope is not None:
        params.append(f'scope="{scope}"')
    if resource_metadata_url is not None:
        params.append(f'resource_metadata="{resource_metadata_url}"')
    return Refusal(
        status,
        body if body is not None else error_body(error, description),
        {"WWW-Authenticate": "Bearer " + ", ".join(params)},
    )


def _moment(seconds: int | None) -> str:
    """A Unix time as UTC text; any `exp` a signed token can carry, however far off."""
    if seconds is None:
        return "an earlier time"
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
    except (ValueError, OverflowError, OSError):  # e.g. exp = -10**18
        return "an earlier time"


def describe_refusal(reason: str, expired_at: int | None, *, signin: bool = False) -> str:
    """What went wrong with the token, and how to get a good one (`signin`: by signing in)."""
    if reason == "expired":
        when = _moment(expired_at)
        problem, renew = f"the token expired at {when}", True
    else:
        problem, renew = DESCRIPTIONS.get(reason, ("the token was refused", True))
    if not renew:
        return problem
    return f"{problem}; {SIGNIN_HINT if signin else MINT_HINT}"


def describe_missing_scope(needed: str, subject: str | None, claims: dict[str, Any]) -> str:
    """Why a call was refused for its scope, and whether asking again can help."""
    allows = claims.get(POLICY_ALLOWS_CLAIM)
    if isinstance(allows, list) and needed not in allows:
        # A step-up sign-in would bring the same answer: say so, so clients stop asking.
        return (
            f"the server's scope policy does not grant the scope {needed} to {subject}; "
            "signing in again will not change that: ask the server's administrator"
        )
    return f"the call needs the scope {needed}"


class RequireToken:
    """401 with the reason in words for any request that did not authenticate."""

    def __init__(
        self, app: ASGIApp, resource_metadata_url: str | None, *, signin: bool = False
    ) -> None:
        self.app = app
        self.resource_metadata_url = resource_metadata_url
        self.signin = signin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if isinstance(scope.get("user"), AuthenticatedUser):
            await self.app(scope, receive, send)
            return
        attempt = current_attempt()
        reason = attempt.reason
        if reason is None:
            # The verifier never ran: no Authorization header, or not a Bearer one.
            sent = header(scope, "authorization")
            reason = "missing_token" if sent is None else "not_bearer"
            count_decision("denied", reason)
        scope[DECISIONS_KEY] = [{"event": "authentication", "decision": "denied", "reason": reason}]
        # A refused token gets the hint for its own kind (a `make token` token in
        # sign-in mode is minted again, not signed in for); no token, the mode's.
        signin = attempt.signin if attempt.reason is not None else self.signin
        description = describe_refusal(reason, attempt.expired_at, signin=signin)
        body = {
            "jsonrpc": "2.0",
            "id": None,
            "error": {
                "code": UNAUTHENTICATED,
                "message": f"Unauthorized: {description}",
                "data": {"error": "invalid_token", "error_description": description},
            },
        }
        response = challenge(
            401, "invalid_token", description, self.resource_metadata_url, body=body
        )
        await response(scope, receive, send)
