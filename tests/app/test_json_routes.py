"""The strict JSON rule on the routes around /mcp, in-process: refused bodies never reach them."""

from __future__ import annotations

import pytest
from starlette.types import Scope

from app.json_routes import StrictJsonBody
from tests.app.conftest import Downstream, call, http_scope


def json_scope(content_type: str = "application/json") -> Scope:
    return http_scope(path="/register", headers=[(b"content-type", content_type.encode())])


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", ""])
async def test_deep_json_is_400_with_an_oauth_error(content_type: str) -> None:
    downstream = Downstream()
    deep = b"[" * 5000 + b"]" * 5000
    answer = await call(StrictJsonBody(downstream), json_scope(content_type), [deep])
    assert answer.status == 400
    assert answer.json() == {
        "error": "invalid_request",
        "error_description": "the request body: the body nests deeper than 64 levels",
    }
    assert downstream.calls == []


@pytest.mark.parametrize("body", [b'{"a": 1, "a": 2}', b"[1e400]", b'["\\udc00"]', b"\xff", b"{"])
async def test_anything_the_one_parser_refuses_is_400(body: bytes) -> None:
    downstream = Downstream()
    answer = await call(StrictJsonBody(downstream), json_scope(), [body])
    assert answer.status == 400
    assert answer.json()["error"] == "invalid_request"
    assert downstream.calls == []


async def test_strict_json_reaches_the_handler_byte_for_byte() -> None:
    downstream = Downstream()
    body = b'{"redirect_uris": ["http://127.0.0.1/cb"],  "scope": "public:read"}'
    answer = await call(StrictJsonBody(downstream), json_scope(), [body[:10], body[10:]])
    assert answer.status == 200
    assert downstream.bodies == [body]


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "Application/X-WWW-Form-Urlencoded",
    ],
)
async def test_forms_are_left_to_the_form_parser(content_type: str) -> None:
    downstream = Downstream()
    body = b"grant_type=authorization_code&code=" + b"[" * 100
    answer = await call(StrictJsonBody(downstream), json_scope(content_type), [body])
    assert answer.status == 200
    assert downstream.bodies == [body]


@pytest.mark.parametrize("body", [b"", b"  \r\n"])
async def test_an_empty_body_is_the_handler_s_to_judge(body: bytes) -> None:
    downstream = Downstream()
    answer = await call(StrictJsonBody(downstream), json_scope(), [body])
    assert answer.status == 200


async def test_a_body_over_the_limit_is_413_even_without_the_outer_bound() -> None:
    downstream = Downstream()
    answer = await call(StrictJsonBody(downstream), json_scope(), [b" " * 1024 * 1024, b"1"])
    assert answer.status == 413
    assert downstream.calls == []
