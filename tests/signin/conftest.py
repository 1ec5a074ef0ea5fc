"""Sign-in mode against real parts: an OpenID Connect provider, redis-server, server processes.

The identity provider is `oidc-provider-mock` (a real OIDC provider built on
Authlib), started on a loopback port with three people whose claims the tests
know. redis-server (the Debian package, tests/redis_server.py) is started as
a plain process when a test shares OAuth state between two replicas.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.helpers import ROOT, require
from tests.redis_server import running
from tests.server_process import ServerProcess, free_port, server_starter, stop
from tests.server_process import StartServer as StartServer  # the signin tests import it here

# The people the provider knows; the policy below decides what each may do.
PEOPLE = {
    "alice": {"email": "alice@example.com", "email_verified": True, "groups": []},
    "bob": {"email": "bob@partner.example", "email_verified": True, "groups": []},
    "carol": {"email": "carol@partner.example", "email_verified": False, "groups": []},
    "dave": {"email": "dave@elsewhere.example", "email_verified": True, "groups": ["auditors"]},
    "mallory": {"email": "mallory@elsewhere.example", "email_verified": True, "groups": []},
    # Claims Alice's address, which the provider has not verified: must not act as Alice.
    "eve": {"email": "alice@example.com", "email_verified": False, "groups": ["auditors"]},
}
POLICY = """\
rules:
  - emails: [alice@example.com]
    scopes: [public:read, confidential:read]
  - domains: [partner.example]
    scopes: [public:read]
  - groups: [auditors]
    scopes: [confidential:read]
"""
CLIENT_ID = "mcp-server-test"


class Process:
    """A helper process whose output goes to a file shown when it fails."""

    def __init__(self, args: list[str], log_path: Path) -> None:
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("wb")
        self.process = subprocess.Popen(args, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop(self.process)
        self._log.close()


def _wait(check: Callable[[], bool], process: Process, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.process.poll() is not None:
            raise RuntimeError(f"{what} exited before it was ready:\n{process.logs()}")
        try:
            if check():
                return
        except (httpx.TransportError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready after {timeout}s:\n{process.logs()}")


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The upstream provider's base URL (its configuration: /.well-known/openid-configuration)."""
    try:
        import oidc_provider_mock  # noqa: F401  (only checking that it is installed)
    except ImportError:
        require(False, "oidc-provider-mock is not installed; run `make install`")
    port = free_port()
    args = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port)]
    for sub, claims in PEOPLE.items():
        args += ["--user-claims", json.dumps({"sub": sub, **claims})]
    log_dir = tmp_path_factory.mktemp("oidc-provider")
    process = Process(args, log_dir / "provider.log")
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(
            lambda: httpx.get(f"{base}/.well-known/openid-configuration").status_code == 200,
            process,
            "oidc-provider-mock",
        )
        yield base
    finally:
        process.stop()


@pytest.fixture(scope="session")
def policy_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("policy") / "policy.yaml"
    path.write_text(POLICY)
    return path


@pytest.fixture(scope="session")
def signin_env(oidc_provider: str, policy_file: Path) -> dict[str, str]:
    """Everything a server needs for sign-in mode against the test provider."""
    return {
        "MCP_JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "MCP_OIDC_CONFIG_URL": f"{oidc_provider}/.well-known/openid-configuration",
        "MCP_OIDC_CLIENT_ID": CLIENT_ID,
        "MCP_OIDC_CLIENT_SECRET": secrets.token_urlsafe(32),
        "MCP_SCOPE_POLICY_FILE": str(policy_file),
        "MCP_RATE_LIMIT_PER_MINUTE": "0",
        # Every test registers a client from 127.0.0.1; the limit has its own test.
        "MCP_OAUTH_REGISTRATIONS_PER_MINUTE": "0",
    }


@pytest.fixture(scope="session")
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartServer]:
    log_dir = tmp_path_factory.mktemp("signin-server-logs")
    with server_starter(log_dir, {}) as start:
        yield start


@pytest.fixture(scope="session")
def signin_server(start_server: StartServer, signin_env: dict[str, str]) -> ServerProcess:
    return start_server(**signin_env)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port, without persistence."""
    with running(tmp_path_factory.mktemp("redis"), durable=False) as server:
        yield server.url
