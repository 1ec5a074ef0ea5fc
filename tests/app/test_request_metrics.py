"""The access log's status is the number, whatever the app below sent it as.

The MCP transport answers with `HTTPStatus` members; logged as they came,
the console format printed `status=<HTTPStatus.OK: 200>`.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

import pytest
from starlette.types import Receive, Scope, Send

from app.metrics import RequestMetrics
from tests.app.conftest import call, http_scope


async def answers_with_an_enum(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": HTTPStatus.OK, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def test_the_logged_status_is_a_plain_number(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="app.http"):
        await call(RequestMetrics(answers_with_an_enum), http_scope(path="/mcp"))
    (record,) = [r for r in caplog.records if r.getMessage() == "request"]
    status = record.__dict__["status"]
    assert status == 200
    assert type(status) is int
    assert record.__dict__["httpRequest"]["status"] == 200
