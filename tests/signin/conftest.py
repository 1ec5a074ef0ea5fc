"""Sign-in mode against real parts: an OpenID Connect provider, redis-server, server processes.

The identity provider is `oidc-provider-mock` (a real OIDC provider built on
Authlib), started on a loopback port with the people whose claims the tests
know (tests/signin/provider.py). redis-server (the Debian package,
tests/redis_server.py) is started as a plain process when a test shares OAuth
state between two replicas.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redis_server import running
from tests.server_process import ServerProcess, server_starter
from tests.server_process import StartServer as StartServer  # the signin tests import it here
from tests.signin.provider import provider

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


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The upstream provider's base URL (its configuration: /.well-known/openid-configuration)."""
    return provider(tmp_path_factory.mktemp("oidc-provider"))


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
