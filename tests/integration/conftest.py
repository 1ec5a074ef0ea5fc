from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import pytest

from app.tokens import mint_token
from tests.server_process import ServerProcess

StartServer = Callable[..., ServerProcess]


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
    started: list[ServerProcess] = []
    log_dir = tmp_path_factory.mktemp("server-logs")

    def start(**env: str) -> ServerProcess:
        environment = {"MCP_JWT_SECRET_KEY": signing_key, **env}
        server = ServerProcess(log_dir, environment)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def server(start_server: StartServer) -> ServerProcess:
    """The shared server: both limits off so the suite's volume is not throttled."""
    return start_server(MCP_RATE_LIMIT_PER_MINUTE="0", MCP_AUTH_FAILURE_LIMIT_PER_MINUTE="0")
