"""Paths with a control character are 404 before any route sees them."""

from __future__ import annotations

import pytest

from app.paths import RefuseControlCharacters
from tests.app.conftest import Downstream, call, http_scope


@pytest.mark.parametrize("path", ["/mcp\n", "/mcp\r", "/\x00mcp", "/mcp\x1f", "/mcp\x7f"])
async def test_control_characters_are_404(path: str) -> None:
    downstream = Downstream()
    answer = await call(RefuseControlCharacters(downstream), http_scope(path=path))
    assert answer.status == 404
    assert answer.json() == {"error": "not_found"}
    assert downstream.calls == []


@pytest.mark.parametrize("path", ["/mcp", "/mcp/ x", "/~caf\u00e9", "/mcp\x80"])
async def test_other_paths_pass(path: str) -> None:
    downstream = Downstream()
    answer = await call(RefuseControlCharacters(downstream), http_scope(path=path))
    assert answer.status == 200
    assert len(downstream.calls) == 1


async def test_only_http_requests_are_judged() -> None:
    downstream = Downstream()
    scope = {"type": "lifespan", "path": "/\n"}
    await RefuseControlCharacters(downstream)(scope, None, None)  # type: ignore[arg-type]
    assert downstream.calls == [scope]
