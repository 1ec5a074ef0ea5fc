"""Sign-in mode's OAuth routes hold to the same bounds as /mcp, before any token.

FastMCP's OAuth proxy serves /register, /authorize, /token and
/consent; the server's guards wrap them like every other route. Against the
real test provider: a 100+ MiB body (streamed, never held by the test) is 413
at the first MiB and the server's memory stays flat; a body that stops
arriving is 408 and closed; 5,000-deep JSON is a 400 with a JSON error.
"""

from __future__ import annotations

import httpx
import pytest

from tests.request_bodies import (
    assert_deep_json_refused,
    assert_refused_unread,
    peak_rss_mib,
    stalled_body,
)
from tests.server_process import ServerProcess
from tests.signin.conftest import StartServer

OAUTH_ROUTES = ["/register", "/authorize", "/token", "/consent"]


@pytest.fixture(scope="module")
def bounded(start_server: StartServer, signin_env: dict[str, str]) -> tuple[ServerProcess, float]:
    """A sign-in server with a 1 s body timeout, and its peak memory before the tests (MiB)."""
    server = start_server(
        **signin_env, MCP_REQUEST_BODY_TIMEOUT_SECONDS="1", MCP_AUTH_FAILURE_LIMIT_PER_MINUTE="0"
    )
    return server, peak_rss_mib(server.process.pid)


@pytest.mark.parametrize(
    ("path", "declare_length"),
    [(path, True) for path in [*OAUTH_ROUTES, "/mcp"]] + [("/register", False), ("/token", False)],
)
def test_a_100_mib_body_is_413_and_memory_stays_flat(
    bounded: tuple[ServerProcess, float], path: str, declare_length: bool
) -> None:
    server, peak_before = bounded
    assert_refused_unread(server, path, peak_before, declare_length=declare_length)


@pytest.mark.parametrize("path", ["/register", "/token"])
def test_a_body_that_stops_arriving_is_408_and_closed(
    bounded: tuple[ServerProcess, float], path: str
) -> None:
    server, _ = bounded
    answer, closed = stalled_body(server.port, path, timeout=30)
    assert answer.status == 408, answer
    assert closed


@pytest.mark.parametrize("path", OAUTH_ROUTES)
def test_deep_json_is_a_clear_400(bounded: tuple[ServerProcess, float], path: str) -> None:
    server, _ = bounded
    assert_deep_json_refused(server, path)


def test_a_real_registration_still_works(bounded: tuple[ServerProcess, float]) -> None:
    server, _ = bounded
    response = httpx.post(
        f"{server.base_url}/register",
        json={"redirect_uris": ["http://127.0.0.1:53682/callback"], "client_name": "bounds"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["client_id"]
