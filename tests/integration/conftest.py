from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.tokens import mint_token
from tests.integration.kubelet import KEY_A, KubeletVolume
from tests.server_process import ServerProcess, StartServer, server_starter


@pytest.fixture(scope="session")
def signing_key() -> str:
    return secrets.token_urlsafe(48)


@pytest.fixture(scope="session")
def token_for(signing_key: str) -> Callable[..., str]:
    def make(*scopes: str, sub: str = "alice", expires_in: int = 300) -> str:
        return mint_token(signing_key, sub, list(scopes), expires_in=expires_in)

    return make


@pytest.fixture(scope="session")
def start_server(
    tmp_path_factory: pytest.TempPathFactory, signing_key: str
) -> Iterator[StartServer]:
    """Start servers with the session key; every one is stopped at the end of the session."""
    log_dir = tmp_path_factory.mktemp("server-logs")
    with server_starter(log_dir, {"MCP_JWT_SECRET_KEY": signing_key}) as start:
        yield start


@pytest.fixture(scope="session")
def server(start_server: StartServer) -> ServerProcess:
    """The shared server: both limits off so the suite's volume is not throttled."""
    return start_server(MCP_RATE_LIMIT_PER_MINUTE="0", MCP_AUTH_FAILURE_LIMIT_PER_MINUTE="0")


@pytest.fixture
def mounted_server(tmp_path: Path) -> Iterator[tuple[ServerProcess, KubeletVolume, KubeletVolume]]:
    """A server reading its keys and deny-list from kubelet-style volumes (no key in env)."""
    keys = KubeletVolume(tmp_path / "signing-key", {"current": KEY_A})
    revoked = KubeletVolume(tmp_path / "revoked", {"jti": "# nothing revoked yet\n"})
    server = ServerProcess(
        tmp_path,
        {
            "MCP_JWT_SECRET_FILE": str(keys.path("current")),
            "MCP_JWT_PREVIOUS_SECRET_FILE": str(keys.path("previous")),  # not mounted yet
            "MCP_JWT_DENYLIST_FILE": str(revoked.path("jti")),
            "MCP_RATE_LIMIT_PER_MINUTE": "0",
            "MCP_AUTH_FAILURE_LIMIT_PER_MINUTE": "0",
        },
    )
    yield server, keys, revoked
    server.stop()
