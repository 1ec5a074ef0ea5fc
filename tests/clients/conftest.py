"""Real MCP client libraries against a real server process with shared-key tokens.

Where a test asserts the server's words on a 401 or 403, it checks for the
descriptions the server puts in `error_description` ("... mint a new one with
make token", "the call needs the scope confidential:read").
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import pytest

from app.tokens import mint_token
from tests.bearer import expired
from tests.server_process import ServerProcess

NEEDS_SCOPE = "the call needs the scope confidential:read"
MINT_HINT = "make token"


@pytest.fixture(scope="session")
def signing_key() -> str:
    return secrets.token_urlsafe(48)


@pytest.fixture(scope="session")
def token_for(signing_key: str) -> Callable[..., str]:
    def make(*scopes: str, expires_in: int = 600) -> str:
        return mint_token(signing_key, "client-test", list(scopes), expires_in=expires_in)

    return make


@pytest.fixture(scope="session")
def expired_token(signing_key: str) -> str:
    """A token that expired well beyond the server's leeway."""
    return expired(signing_key)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, signing_key: str) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("client-server-logs"),
        {"MCP_JWT_SECRET_KEY": signing_key, "MCP_RATE_LIMIT_PER_MINUTE": "0"},
    )
    yield process
    process.stop()


def all_messages(error: BaseException) -> str:
    """An error's message and those of every error grouped inside it (anyio task groups)."""
    inner = error.exceptions if isinstance(error, BaseExceptionGroup) else ()
    return " ".join([f"{type(error).__name__}: {error}", *(all_messages(e) for e in inner)])
