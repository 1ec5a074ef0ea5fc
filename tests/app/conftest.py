"""In-process helpers for the guard modules' tests: drive an ASGI layer, read counters.

The layer under test is the real middleware; what stands in for the rest of
the application is `Downstream`, a plain ASGI app that records what reached it
(the scope and the body it read), so a test can tell "refused" from "passed on".
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastmcp.server.auth import AccessToken
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from prometheus_client import REGISTRY
from starlette.types import Message, Receive, Scope, Send

from app.tokens import DEFAULT_AUDIENCE, DEFAULT_ISSUER
from tests.helpers import StubHandler, loopback_server


def decisions(outcome: str, reason: str) -> float:
    """The mcp_auth_decisions_total counter for one label pair (0 when never counted)."""
    value = REGISTRY.get_sample_value(
        "mcp_auth_decisions_total", {"outcome": outcome, "reason": reason}
    )
    return value or 0.0


class Counted:
    """Counter deltas since construction: `counted("denied", "rate_limited") == 1`."""

    def __init__(self) -> None:
        self._start: dict[tuple[str, str], float] = {}
        for metric in REGISTRY.collect():
            if metric.name != "mcp_auth_decisions":
                continue
            for sample in metric.samples:
                if sample.name == "mcp_auth_decisions_total":
                    key = (sample.labels["outcome"], sample.labels["reason"])
                    self._start[key] = sample.value

    def __call__(self, outcome: str, reason: str) -> float:
        return decisions(outcome, reason) - self._start.get((outcome, reason), 0.0)


@pytest.fixture
def counted() -> Counted:
    return Counted()


@dataclass
class Downstream:
    """The app behind the layer under test: records each call and the body it read."""

    calls: list[Scope] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    # Like a streaming transport, read on after the body until the client goes away.
    await_disconnect: bool = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls.append(scope)
        if scope["type"] != "http":
            return
        body = b""
        if scope["type"] == "http" and scope["method"] == "POST":
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    break
            if self.await_disconnect:
                assert (await receive())["type"] == "http.disconnect"
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"downstream"})


class Clock:
    """Stands in for a module's `time` import: the test sets the instant."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def access_token(
    scopes: list[str], subject: str | None = "alice", client_id: str = "client"
) -> AccessToken:
    return AccessToken(
        token="t", client_id=client_id, subject=subject, scopes=scopes, expires_at=None
    )


def user(scopes: list[str], subject: str | None = "alice", client_id: str = "client") -> Any:
    return AuthenticatedUser(access_token(scopes, subject, client_id))


def http_scope(
    *,
    method: str = "POST",
    path: str = "/mcp",
    headers: list[tuple[bytes, bytes]] | None = None,
    client: tuple[str, int] | None = ("192.0.2.7", 40000),
    **extra: Any,
) -> Scope:
    scope: Scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": headers or [],
        "client": client,
    }
    scope.update(extra)
    return scope


async def call(app: Any, scope: Scope, chunks: list[bytes] | None = None) -> Answer:
    """Send one request through `app` (the body in `chunks`) and collect the answer."""
    pending = list(chunks if chunks is not None else [b""])
    sent: list[Message] = []

    async def receive() -> Message:
        if not pending:
            return {"type": "http.disconnect"}
        chunk = pending.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in start.get("headers", [])}
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(start["status"], headers, body)


# An OIDC issuer's keys, published at a real loopback JWKS endpoint.
OLD_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
NEW_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    entry.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return entry


class Issuer:
    """The issuer's JWKS endpoint: the keys it publishes now, and the requests it has had."""

    def __init__(self) -> None:
        self.published = [jwk(OLD_KEY, "old")]
        self.requests = 0
        self.url = ""
        self._serial = 0

    def token(self, key: rsa.RSAPrivateKey, kid: str) -> str:
        """A fresh token each call, so the verifier's own token cache never answers for it."""
        self._serial += 1
        now = int(time.time())  # PyJWT checks iat and exp against the real clock
        claims = {
            "sub": f"user-{self._serial}",
            "iss": DEFAULT_ISSUER,
            "aud": DEFAULT_AUDIENCE,
            "iat": now,
            "exp": now + 600,
            "scope": "public:read",
        }
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    issuer = Issuer()

    class Handler(StubHandler):
        def do_GET(self) -> None:
            issuer.requests += 1
            self.answer(json.dumps({"keys": issuer.published}).encode())

    with loopback_server(Handler) as base:
        issuer.url = f"{base}/jwks.json"
        yield issuer
