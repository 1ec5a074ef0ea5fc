"""A differential property test of the guard chain: generated requests against every route.

Shared-key mode, the real server process; tests/guard_properties.py says what
is generated and which promises every answer must keep. Seeded (derandomize)
and bounded (a few hundred examples, seconds), so it runs in `make test` and
fails the same way every time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.guard_properties import (
    PROPERTY_SETTINGS,
    LogReader,
    Request,
    check_guarded,
    requests,
)
from tests.server_process import ServerProcess


@pytest.fixture(scope="module")
def target(start_server: Callable[..., ServerProcess]) -> Iterator[tuple[ServerProcess, LogReader]]:
    server = start_server(
        MCP_RATE_LIMIT_PER_MINUTE="0",
        MCP_AUTH_FAILURE_LIMIT_PER_MINUTE="0",
        PYTHONUNBUFFERED="1",
    )
    reader = LogReader(server)
    yield server, reader
    reader.file.close()


@settings(PROPERTY_SETTINGS, max_examples=300)
@given(
    request=requests(),
    scopes=st.sampled_from([("public:read",), (), ("confidential:read",), None]),
)
def test_no_request_spelling_gets_past_the_guards(
    target: tuple[ServerProcess, LogReader],
    token_for: Callable[..., str],
    request: Request,
    scopes: tuple[str, ...] | None,
) -> None:
    server, log = target
    token = None if scopes is None else token_for(*scopes, sub="prop")
    may_read = scopes is not None and "confidential:read" in scopes
    check_guarded(server, log, request, token, may_read)
