"""What the Redis and sign-in variants of benchmarks/run.py need: Redis, a provider, a token.

- `redis_server()`: the Debian package's redis-server on a free loopback port,
  no persistence, stopped on the way out (the tests' launcher, tests/redis_server.py).
- `oidc_provider()`: the OpenID Connect test provider the sign-in tests use
  (oidc-provider-mock), with one person, alice.
- `signin_token(base_url)`: the OAuth proxy's own access token for alice, got
  the way an MCP client gets it: dynamic registration, PKCE, the consent page,
  the provider's sign-in, the code exchange (the headless browser of the tests).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import httpx

from benchmarks.processes import free_port

ALICE = {"sub": "alice", "email": "alice@example.com", "email_verified": True}
POLICY = "rules:\n  - emails: [alice@example.com]\n    scopes: [public:read]\n"


def _wait(ready: Callable[[], bool], process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"error: {what} exited before it was ready")
        try:
            if ready():
                return
        except (OSError, httpx.TransportError):
            pass
        time.sleep(0.05)
    process.kill()
    raise SystemExit(f"error: {what} not ready after 30 s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    if shutil.which("redis-server") is None:
        raise SystemExit("error: redis-server not installed; `make redis-server` installs it")
    from tests.redis_server import running  # the tests' launcher

    with running(folder, durable=False) as server:
        assert server.process is not None
        if (os.cpu_count() or 1) >= 2:
            # With wrk, off the servers' core: in a cluster Redis runs on its own machine.
            os.sched_setaffinity(server.process.pid, {1})
        yield server.url


@contextmanager
def oidc_provider() -> Iterator[str]:
    """The provider's configuration URL."""
    port = free_port()
    args = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port)]
    process = subprocess.Popen(
        [*args, "--user-claims", json.dumps(ALICE)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    config_url = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
    try:
        _wait(lambda: httpx.get(config_url).status_code == 200, process, "oidc-provider-mock")
        yield config_url
    finally:
        _stop(process)


def signin_token(base_url: str) -> str:
    """Alice's access token from the server's OAuth proxy, as an MCP client gets one."""
    from tests.signin.flow import CLIENT_REDIRECT, Browser  # the tests' headless browser

    registered = httpx.post(
        f"{base_url}/register",
        json={
            "client_name": "benchmark",
            "redirect_uris": [CLIENT_REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        },
    )
    registered.raise_for_status()
    client_id = registered.json()["client_id"]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CLIENT_REDIRECT,
        "state": secrets.token_urlsafe(16),
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
        "scope": "public:read",
        "resource": f"{base_url}/mcp",
    }
    code = asyncio.run(Browser("alice").authorize(f"{base_url}/authorize?{urlencode(query)}"))
    answer = httpx.post(
        f"{base_url}/token",
        data={
            "grant_type": "authorization_code",
            "code": code.code,
            "redirect_uri": CLIENT_REDIRECT,
            "client_id": client_id,
            "code_verifier": verifier,
            "resource": f"{base_url}/mcp",
        },
    )
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token
