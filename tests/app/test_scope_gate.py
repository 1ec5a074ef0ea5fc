"""The scope gate on crafted bodies: single messages, batches, bad JSON, routing headers.

The gate is called in-process with a recording downstream app, so each test
sees both what the client got and exactly what the transport would have read.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

import pytest

from app.asgi import DECISIONS_KEY
from app.scope_gate import ScopeGate
from tests.app.conftest import Answer, Counted, Downstream, call, http_scope, user

METADATA = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
PUBLIC = "get_public_info"
CONFIDENTIAL = "get_confidential_info"


def tool_call(name: Any, request_id: int = 1) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": name, "arguments": {}},
    }


def other(method: str = "tools/list", request_id: int = 9) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method}


async def send(
    value: Any,
    scopes: list[str] = ["public:read"],  # noqa: B006 - never mutated
    headers: list[tuple[bytes, bytes]] | None = None,
    metadata: str | None = METADATA,
) -> tuple[Answer, Downstream, MutableMapping[str, Any]]:
    downstream = Downstream()
    scope = http_scope(user=user(scopes), headers=headers)
    body = value if isinstance(value, bytes) else json.dumps(value).encode()
    answer = await call(ScopeGate(downstream, metadata), scope, [body])
    return answer, downstream, scope


def assert_denied(answer: Answer, request_id: Any, tool: str, needed: str) -> None:
    assert answer.status == 403
    assert answer.json() == {
        "jsonrpc": "2.0",
        "id": request_id,
        "error": {
            "code": -32003,  # the code MCP servers use for "permission denied"
            "message": f"Permission denied: the call needs the scope {needed} (tool '{tool}')",
            "data": {"tool": tool, "required_scope": needed},
        },
    }
    assert answer.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", '
        f'error_description="the call needs the scope {needed}", '
        f'scope="{needed}", resource_metadata="{METADATA}"'
    )


async def test_granted_call_reaches_the_transport_as_canonical_json(counted: Counted) -> None:
    body = b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call",  "params": {"name": "%s"}}' % (
        PUBLIC.encode()
    )
    answer, downstream, scope = await send(body)
    assert answer.status == 200
    assert downstream.bodies == [
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_public_info"}}'
    ]
    assert scope[DECISIONS_KEY] == [
        {
            "event": "authorization",
            "subject": "alice",
            "scopes": ["public:read"],
            "tool": PUBLIC,
            "decision": "allowed",
            "reason": "scope_granted",
        }
    ]
    assert counted("allowed", "scope_granted") == 1


async def test_missing_scope_gets_403_challenge(counted: Counted) -> None:
    answer, downstream, scope = await send(tool_call(CONFIDENTIAL, request_id=7))
    assert_denied(answer, 7, CONFIDENTIAL, "confidential:read")
    assert downstream.calls == []
    assert scope[DECISIONS_KEY][0]["decision"] == "denied"
    assert scope[DECISIONS_KEY][0]["reason"] == "missing_scope"
    assert counted("denied", "missing_scope") == 1


async def test_challenge_without_metadata_url_names_none() -> None:
    answer, _, _ = await send(tool_call(CONFIDENTIAL), metadata=None)
    assert answer.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", '
        'error_description="the call needs the scope confidential:read", '
        'scope="confidential:read"'
    )


@pytest.mark.parametrize("name", ["no_such_tool", None, 7])
async def test_unknown_tool_is_left_to_fastmcp(name: Any, counted: Counted) -> None:
    answer, downstream, scope = await send(tool_call(name), scopes=[])
    assert answer.status == 200
    assert len(downstream.calls) == 1
    decision = scope[DECISIONS_KEY][0]
    assert (decision["tool"], decision["decision"], decision["reason"]) == (
        name if isinstance(name, str) else None,
        "allowed",
        "unknown_tool",
    )
    assert counted("allowed", "unknown_tool") == 1


async def test_params_that_are_not_an_object_name_no_tool() -> None:
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": [PUBLIC]}
    answer, _, scope = await send(message, scopes=[])
    assert answer.status == 200
    assert scope[DECISIONS_KEY][0]["tool"] is None


async def test_the_transport_still_hears_the_client_leave() -> None:
    downstream = Downstream(await_disconnect=True)
    scope = http_scope(user=user(["public:read"]))
    body = json.dumps(tool_call(PUBLIC)).encode()
    assert (await call(ScopeGate(downstream, METADATA), scope, [body])).status == 200
    assert len(downstream.bodies) == 1


async def test_other_methods_pass_without_a_decision() -> None:
    answer, downstream, scope = await send(other(), scopes=[])
    assert answer.status == 200
    assert len(downstream.calls) == 1
    assert DECISIONS_KEY not in scope


@pytest.mark.parametrize(
    "batch",
    [
        [tool_call(PUBLIC, 1), tool_call(CONFIDENTIAL, 2)],  # not only the first message
        [other(), tool_call(CONFIDENTIAL, 2)],  # the scan goes past other methods
        ["not a message", 5, tool_call(CONFIDENTIAL, 2)],  # and past junk
        [tool_call(CONFIDENTIAL, 2), tool_call(PUBLIC, 3)],
    ],
)
async def test_any_denied_call_in_a_batch_refuses_the_batch(batch: list[Any]) -> None:
    answer, downstream, _ = await send(batch)
    assert_denied(answer, 2, CONFIDENTIAL, "confidential:read")
    assert downstream.calls == []


async def test_batch_of_granted_calls_passes_with_every_decision_recorded() -> None:
    batch = [tool_call(PUBLIC, 1), other(), tool_call(CONFIDENTIAL, 2)]
    answer, downstream, scope = await send(batch, scopes=["public:read", "confidential:read"])
    assert answer.status == 200
    assert json.loads(downstream.bodies[0]) == batch
    assert [d["tool"] for d in scope[DECISIONS_KEY]] == [PUBLIC, CONFIDENTIAL]
    assert scope[DECISIONS_KEY][0]["scopes"] == ["confidential:read", "public:read"]


async def test_oversize_body_gets_413_before_any_parsing() -> None:
    downstream = Downstream()
    chunk = b" " * (512 * 1024)  # two halves of the 1 MiB limit, then a byte over
    scope = http_scope(user=user([]))
    answer = await call(ScopeGate(downstream, METADATA), scope, [chunk, chunk, b"{}"])
    assert answer.status == 413
    assert answer.json() == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {
            "code": -32700,
            "message": "Parse error: the body is larger than 1048576 bytes",
        },
    }
    assert downstream.calls == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "Parse error: the body is not valid JSON"),
        (b"\xff\xfe{}", "Parse error: the body is not UTF-8"),
        (b'{"a": 1, "a": 2}', "Parse error: duplicate keys in a JSON object"),
    ],
)
async def test_bad_json_gets_400_parse_error(body: bytes, message: str) -> None:
    answer, downstream, _ = await send(body)
    assert answer.status == 400
    assert answer.json()["error"] == {"code": -32700, "message": message}
    assert downstream.calls == []


async def test_unauthenticated_and_non_post_requests_are_not_read() -> None:
    downstream = Downstream()
    gate = ScopeGate(downstream, METADATA)
    raw = b'{"id": 1,  "method": "tools/call"}'
    assert (await call(gate, http_scope(), [raw])).status == 200
    assert downstream.bodies == [raw]  # passed on as sent, not re-serialised
    get = http_scope(method="GET", user=user([]))
    assert (await call(gate, get)).status == 200
    assert len(downstream.calls) == 2


# --- 2026-07-28 routing headers must agree with the body ------------------------------


def routing(method: str | None = None, name: str | None = None) -> list[tuple[bytes, bytes]]:
    headers = []
    if method is not None:
        headers.append((b"mcp-method", method.encode()))
    if name is not None:
        headers.append((b"mcp-name", name.encode()))
    return headers


@pytest.mark.parametrize(
    ("value", "headers", "message"),
    [
        (
            tool_call(PUBLIC),
            routing("tools/call") * 2,
            "the mcp-method header is sent more than once",
        ),
        (
            [tool_call(PUBLIC)],
            routing("tools/call", PUBLIC),
            "routing headers need a single JSON-RPC message, not a batch",
        ),
        (
            tool_call(PUBLIC),
            routing("tools/list", PUBLIC),
            "the mcp-method header does not match the body's method",
        ),
        (
            tool_call(PUBLIC),
            routing(name=PUBLIC),
            "the mcp-method header does not match the body's method",
        ),
        (
            tool_call(PUBLIC),
            routing("tools/call", CONFIDENTIAL),
            "the mcp-name header does not match the body's 'name'",
        ),
        (
            tool_call(PUBLIC),
            routing("tools/call"),
            "the mcp-name header does not match the body's 'name'",
        ),
    ],
)
async def test_routing_headers_that_disagree_get_400(
    value: Any, headers: list[tuple[bytes, bytes]], message: str
) -> None:
    answer, downstream, _ = await send(value, headers=headers)
    assert answer.status == 400
    assert answer.json() == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32020, "message": message},
    }
    assert downstream.calls == []


@pytest.mark.parametrize(
    ("value", "headers"),
    [
        (tool_call(PUBLIC), routing("tools/call", PUBLIC)),
        (tool_call(PUBLIC), routing("tools/call", "=?base64?Z2V0X3B1YmxpY19pbmZv?=")),
        (other(), routing("tools/list")),  # no name-bearing method: no name to compare
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/call"}, routing("tools/call")),
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": [1]}, routing("tools/call")),
    ],
)
async def test_routing_headers_that_agree_pass(
    value: Any, headers: list[tuple[bytes, bytes]]
) -> None:
    answer, downstream, _ = await send(value, headers=headers)
    assert answer.status == 200
    assert len(downstream.calls) == 1


async def test_headers_are_read_as_latin_1() -> None:
    headers = [(b"mcp-method", b"tools/list"), (b"x-note", b"caf\xe9")]
    answer, _, _ = await send(other(), headers=headers)
    assert answer.status == 200
