"""Each way around the guards an attacker tried, answered with a refusal (real server process).

The guards are bound to the MCP route, the body is parsed once and strictly,
the verifier's expiry decision is the outcome, and failures are bounded.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

import httpx
import pytest

from app.config import BUNDLED_DOCUMENTS
from tests.bearer import signed
from tests.server_process import ServerProcess

ACCEPT = "application/json, text/event-stream"
CONFIDENTIAL = (BUNDLED_DOCUMENTS / "confidential.md").read_text().strip().splitlines()[0]
MODERN = "2026-07-28"


def call(tool: str, id_: int = 1, **params: object) -> dict[str, object]:
    return {
        "jsonrpc": "2.0",
        "id": id_,
        "method": "tools/call",
        "params": {"name": tool, "arguments": {}, **params},
    }


def modern_call(tool: str) -> dict[str, object]:
    """A 2026-07-28 request: no handshake, the protocol rides in params._meta."""
    meta = {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    return call(tool, _meta=meta)


def send(
    server: ServerProcess,
    body: bytes | object,
    token: str | None,
    path: str = "/mcp",
    headers: list[tuple[str, str]] | None = None,
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    all_headers = [("Content-Type", "application/json"), ("Accept", ACCEPT)]
    if token is not None:
        all_headers.append(("Authorization", f"Bearer {token}"))
    all_headers.extend(headers or [])
    return httpx.post(f"{server.base_url}{path}", content=content, headers=all_headers)


def log_entries(server: ServerProcess) -> list[dict[str, object]]:
    return [json.loads(line) for line in server.logs().splitlines() if line.startswith("{")]


@pytest.mark.parametrize("path", ["/mcp%0A", "/mcp%0D", "/mcp%00", "/mcp%0A%0A", "/mcp%09"])
def test_control_characters_in_the_path_are_404_and_never_reach_the_transport(
    server: ServerProcess, token_for: Callable[..., str], path: str
) -> None:
    response = send(server, call("get_confidential_info"), token_for("public:read"), path)
    assert response.status_code == 404
    assert CONFIDENTIAL not in response.text


@pytest.mark.parametrize("path", ["/MCP", "/mcp/", "//mcp", "/mcp/.", "/mcp;x", "/%2Fmcp"])
def test_other_spellings_never_serve_past_the_gate(
    server: ServerProcess, token_for: Callable[..., str], path: str
) -> None:
    # Either not the MCP route at all, or (where the client normalises the
    # spelling to /mcp) the route with its guards: never the document.
    response = send(server, call("get_confidential_info"), token_for("public:read"), path)
    assert response.status_code in {307, 403, 404, 405}
    assert CONFIDENTIAL not in response.text


def test_percent_encoded_letters_reach_the_route_and_its_guards(
    server: ServerProcess, token_for: Callable[..., str]
) -> None:
    # uvicorn decodes "/%6Dcp" to "/mcp": the router dispatches it, so the guards run.
    response = send(server, call("get_confidential_info"), token_for("public:read"), "/%6Dcp")
    assert response.status_code == 403
    assert 'scope="confidential:read"' in response.headers["www-authenticate"]


def test_foreign_origin_on_a_newline_path_is_not_served(
    server: ServerProcess, token_for: Callable[..., str]
) -> None:
    evil = [("Origin", "https://evil.example")]
    response = send(server, call("get_public_info"), token_for("public:read"), "/mcp%0A", evil)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "origins",
    [
        ["http://localhost:3000", "https://evil.example"],
        ["https://evil.example", "http://localhost:3000"],
        ["http://localhost:3000", "http://localhost:3000"],
    ],
)
def test_more_than_one_origin_header_is_403(
    server: ServerProcess, token_for: Callable[..., str], origins: list[str]
) -> None:
    headers = [("Origin", origin) for origin in origins]
    response = send(server, call("get_public_info"), token_for("public:read"), headers=headers)
    assert response.status_code == 403
    assert response.json()["error"] == "origin_not_allowed"


def test_rate_limited_subject_stays_limited_on_any_spelling(
    start_server: Callable[..., ServerProcess], token_for: Callable[..., str]
) -> None:
    limited = start_server(MCP_RATE_LIMIT_PER_MINUTE="2")
    token = token_for("public:read", sub="limited")
    statuses = [send(limited, call("get_public_info"), token).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert send(limited, call("get_public_info"), token, "/mcp%0A").status_code == 404
    assert send(limited, call("get_public_info"), token, "/%6Dcp").status_code == 429


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32", "utf-32-be", "utf-8-sig"])
@pytest.mark.parametrize("protocol", ["2025-11-25", MODERN])
def test_bodies_that_are_not_strict_utf8_are_400_parse_errors(
    server: ServerProcess, token_for: Callable[..., str], encoding: str, protocol: str
) -> None:
    body = json.dumps(modern_call("get_confidential_info")).encode(encoding)
    headers = [
        ("MCP-Protocol-Version", protocol),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", "get_confidential_info"),
    ]
    response = send(server, body, token_for("public:read"), headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32700
    assert CONFIDENTIAL not in response.text


def test_modern_protocol_call_is_judged_by_the_gate(
    server: ServerProcess, token_for: Callable[..., str]
) -> None:
    headers = [
        ("MCP-Protocol-Version", MODERN),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", "get_confidential_info"),
    ]
    denied = send(
        server, modern_call("get_confidential_info"), token_for("public:read"), headers=headers
    )
    assert denied.status_code == 403
    allowed = send(
        server,
        modern_call("get_confidential_info"),
        token_for("confidential:read"),
        headers=headers,
    )
    assert allowed.status_code == 200
    assert CONFIDENTIAL in allowed.text


@pytest.mark.parametrize(
    "headers",
    [
        [("Mcp-Method", "tools/list")],
        [("Mcp-Method", "tools/call"), ("Mcp-Name", "get_public_info")],
        [("Mcp-Method", "tools/call"), ("Mcp-Method", "tools/call")],
        [("Mcp-Name", "get_public_info")],
    ],
)
def test_routing_headers_that_disagree_with_the_body_are_400(
    server: ServerProcess, token_for: Callable[..., str], headers: list[tuple[str, str]]
) -> None:
    all_headers = [("MCP-Protocol-Version", MODERN), *headers]
    body = modern_call("get_confidential_info")
    response = send(
        server, body, token_for("public:read", "confidential:read"), headers=all_headers
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32020


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (
            b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":'
            + b"[" * 5000
            + b"]" * 5000
            + b"}}",
            "deep",
        ),
        (
            b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":'
            + b"[" * 100
            + b"]" * 100
            + b"}}",
            "deeper than 64",
        ),
        (
            b'{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call",'
            b'"params":{"name":"get_confidential_info"}}',
            "duplicate keys",
        ),
        (b'{"jsonrpc":"2.0","id":NaN,"method":"tools/list"}', "NaN"),
        (b'{"jsonrpc":"2.0","id":1,"method":"tools/list"', "truncated"),
        (b"\xff\xfe", "not UTF-8"),
        (b"", "empty"),
    ],
)
def test_bodies_the_parser_refuses_are_4xx_never_5xx(
    server: ServerProcess, token_for: Callable[..., str], raw: bytes, why: str
) -> None:
    response = send(server, raw, token_for("public:read", "confidential:read"))
    assert response.status_code == 400, why
    assert response.json()["error"]["code"] == -32700
    assert "Traceback" not in server.logs()


def test_oversize_body_is_413(server: ServerProcess, token_for: Callable[..., str]) -> None:
    raw = json.dumps(call("get_public_info", padding="x" * (1024 * 1024))).encode()
    assert send(server, raw, token_for("public:read")).status_code == 413


@pytest.mark.parametrize("shape", ["all", "first", "last"])
def test_every_message_of_a_batch_is_judged(
    server: ServerProcess, token_for: Callable[..., str], shape: str
) -> None:
    listing = {"jsonrpc": "2.0", "id": 9, "method": "tools/list"}
    calls = {
        "all": [call("get_confidential_info", 1), call("get_confidential_info", 2)],
        "first": [call("get_confidential_info", 1), call("get_public_info", 2)],
        "last": [listing, call("get_public_info", 2), call("get_confidential_info", 3)],
    }[shape]
    response = send(server, calls, token_for("public:read"))
    assert response.status_code == 403
    assert CONFIDENTIAL not in response.text


def test_a_token_inside_the_leeway_is_served_and_logged_as_valid(
    start_server: Callable[..., ServerProcess], signing_key: str
) -> None:
    server = start_server(MCP_RATE_LIMIT_PER_MINUTE="0", MCP_JWT_LEEWAY_SECONDS="30")
    now = int(time.time())
    token = signed(signing_key, iat=now - 100, exp=now - 10)  # 10 s past exp, within 30 s
    response = send(server, call("get_public_info"), token)
    assert response.status_code == 200
    server.stop()
    assert not [e for e in log_entries(server) if e.get("message") == "token rejected"]


def test_an_expired_token_is_401_saying_when_it_expired(
    server: ServerProcess, signing_key: str
) -> None:
    now = int(time.time())
    token = signed(signing_key, iat=now - 600, exp=now - 300)
    response = send(server, call("get_public_info"), token)
    assert response.status_code == 401
    expired_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 300))
    assert f"the token expired at {expired_at}" in response.json()["error"]["message"]
    assert f"the token expired at {expired_at}" in response.headers["www-authenticate"]


@pytest.mark.parametrize("ahead", [10 * 365 * 86400, 10**20, 604800 + 3600])
def test_tokens_living_longer_than_the_cap_are_refused(
    start_server: Callable[..., ServerProcess], signing_key: str, ahead: int
) -> None:
    server = start_server(MCP_RATE_LIMIT_PER_MINUTE="0")
    token = signed(signing_key, exp=int(time.time()) + ahead)
    response = send(server, call("get_public_info"), token)
    assert response.status_code == 401
    assert "MCP_JWT_MAX_TOKEN_LIFETIME_SECONDS" in response.json()["error"]["message"]
    metrics = httpx.get(f"{server.base_url}/metrics").text
    assert 'mcp_auth_decisions_total{outcome="denied",reason="lifetime_too_long"} 1.0' in metrics


def test_the_lifetime_cap_is_a_setting(
    start_server: Callable[..., ServerProcess], signing_key: str
) -> None:
    server = start_server(MCP_JWT_MAX_TOKEN_LIFETIME_SECONDS="600", MCP_JWT_LEEWAY_SECONDS="0")
    now = int(time.time())
    assert (
        send(server, call("get_public_info"), signed(signing_key, exp=now + 590)).status_code == 200
    )
    assert (
        send(server, call("get_public_info"), signed(signing_key, exp=now + 700)).status_code == 401
    )


def test_console_logs_cannot_be_forged_through_the_path(
    start_server: Callable[..., ServerProcess], token_for: Callable[..., str]
) -> None:
    server = start_server(MCP_LOG_FORMAT="console")
    forged = "/x%0A12:00:00%20INFO%20%20%20%20request%20decision=allowed"
    httpx.get(f"{server.base_url}{forged}")
    server.stop()
    lines = server.logs().splitlines()
    record = re.compile(r"^\d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")
    assert all(record.match(line) or line.startswith("    | ") for line in lines if line)
    assert not [line for line in lines if line.startswith("12:00:00")]
    assert any("path=/x\\n12:00:00 INFO" in line for line in lines)


def test_refused_tokens_are_limited_per_address_and_logged_sparsely(
    start_server: Callable[..., ServerProcess], token_for: Callable[..., str]
) -> None:
    server = start_server(MCP_AUTH_FAILURE_LIMIT_PER_MINUTE="5", MCP_RATE_LIMIT_PER_MINUTE="0")
    forged = "forged." + token_for("public:read").split(".", 1)[1]
    statuses = [send(server, call("get_public_info"), forged).status_code for _ in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    held_back = send(server, call("get_public_info"), token_for("public:read"))
    assert held_back.status_code == 429  # credentials from this address wait for the budget
    assert 1 <= int(held_back.headers["retry-after"]) <= 12
    # Requests without credentials (probes, metadata) are never held back.
    assert httpx.get(f"{server.base_url}/ready").status_code == 200
    metrics = httpx.get(f"{server.base_url}/metrics").text
    assert 'mcp_auth_decisions_total{outcome="denied",reason="malformed"} 5.0' in metrics
    assert 'mcp_auth_decisions_total{outcome="denied",reason="too_many_failures"} 4.0' in metrics
    server.stop()
    rejected = [e for e in log_entries(server) if e.get("message") == "token rejected"]
    assert len(rejected) == 1  # one line per reason per window; metrics count every one
