"""docs/reference.md and .env.example agree with the code that owns each fact."""

from __future__ import annotations

import re

import httpx
import pytest

from app.catalog import TOOL_SCOPES, TOOLS
from app.config import Settings
from app.probes import Lifecycle
from app.shared_key import FALLBACK_PATHS
from scripts.settings_table import PAGE, render
from tests.docs.markdown import section
from tests.helpers import ROOT

SETTINGS = {f"MCP_{name.upper()}" for name in Settings.model_fields}


def _section(title: str) -> str:
    return section(PAGE.read_text(), title)


def test_settings_table_is_generated_from_the_code() -> None:
    page = PAGE.read_text()
    assert render(page) == page, "run: python3 scripts/settings_table.py --write"


def test_env_example_lists_every_setting_and_no_other() -> None:
    text = (ROOT / ".env.example").read_text()
    named = set(re.findall(r"^#?(MCP_[A-Z_]+)=", text, flags=re.MULTILINE))
    assert named == SETTINGS


def test_tools_table_is_the_tool_to_scope_table() -> None:
    rows = re.findall(r"^\| `(\w+)` \| `([\w:]+)` \|$", _section("Tools and scopes"), re.M)
    assert dict(rows) == dict(TOOL_SCOPES)


TOOL_ROW = re.compile(r"^\| `(\w+)` \| `([\w:]+)` \| `(?:app/documents/)?([\w.]+)` \|$", re.M)


@pytest.mark.parametrize("page", ["README.md", "docs/tutorial/01-server.md"])
def test_tool_tables_are_the_catalog(page: str) -> None:
    rows = TOOL_ROW.findall((ROOT / page).read_text())
    assert rows == [(t.name, t.scope, t.document) for t in TOOLS]


@pytest.mark.parametrize(
    "row", re.findall(r"^\| `(GET|POST) (/[^`]*)` \|", _section("Endpoints"), re.M)
)
async def test_every_endpoint_is_served(
    row: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import config
    from app.http_app import build_app

    monkeypatch.setenv("MCP_JWT_SECRET_KEY", "k" * 40)
    app = build_app(config.load(), Lifecycle())
    method, path = row
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.request(method, path)
    # Served means routed: POST /mcp without a token is refused (401), the OAuth
    # fallbacks of shared-key mode answer 400 saying what to do, the rest 200.
    expected = 401 if path == "/mcp" else 400 if path in FALLBACK_PATHS else 200
    assert response.status_code == expected, (method, path)
    if path in FALLBACK_PATHS:
        assert "make token" in response.json()["error_description"]
