"""Repeated security headers are refused, whatever order the copies come in (real server).

Before, the layers disagreed: FastMCP's authentication read the first
`Authorization`, the 401's wording the last, so a good token followed by
garbage passed and garbage followed by a good token was refused. A proxy in
front that keeps the last copy would authenticate someone else than this
server does. Now one rule (app/asgi.py): more than one `Authorization` is 400
invalid_request before anything reads it, and more than one `Origin` is 403.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.integration.test_route_guards import call, send
from tests.server_process import ServerProcess


@pytest.mark.parametrize("good_first", [True, False], ids=["good-then-bad", "bad-then-good"])
def test_two_authorization_headers_are_refused_in_either_order(
    server: ServerProcess, token_for: Callable[..., str], good_first: bool
) -> None:
    good = f"Bearer {token_for('public:read', 'confidential:read')}"
    bad = "Bearer not-a-jwt"
    pair = [good, bad] if good_first else [bad, good]
    answer = send(
        server, call("get_public_info"), None, headers=[("Authorization", v) for v in pair]
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_request"
    challenge = answer.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="invalid_request"' in challenge


def test_two_identical_authorization_headers_are_refused_too(
    server: ServerProcess, token_for: Callable[..., str]
) -> None:
    """Even agreeing copies: the rule does not depend on comparing them."""
    good = f"Bearer {token_for('public:read')}"
    answer = send(server, call("get_public_info"), None, headers=[("Authorization", good)] * 2)
    assert answer.status_code == 400, answer.text


def test_one_authorization_header_still_works(
    server: ServerProcess, token_for: Callable[..., str]
) -> None:
    answer = send(server, call("get_public_info"), token_for("public:read"))
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("allowed_first", [True, False])
def test_two_origin_headers_are_refused_in_either_order(
    server: ServerProcess, token_for: Callable[..., str], allowed_first: bool
) -> None:
    pair = ["http://localhost", "https://evil.test"]
    origins = pair if allowed_first else pair[::-1]
    answer = send(
        server,
        call("get_public_info"),
        token_for("public:read"),
        headers=[("Origin", o) for o in origins],
    )
    assert answer.status_code == 403, answer.text
    assert answer.json()["error"] == "origin_not_allowed"
