"""docs/reference.md and .env.example agree with the code that owns each fact."""

from __future__ import annotations

import os
import re
import subprocess

import httpx
import pytest

from app import config
from app.catalog import TOOL_SCOPES, TOOLS
from app.probes import Lifecycle
from app.shared_key import FALLBACK_PATHS
from scripts import settings_table
from scripts.settings_table import ENV_EXAMPLE, GROUPS, PAGE, env_example, render
from tests.docs.markdown import section
from tests.helpers import ROOT


def _section(title: str) -> str:
    return section(PAGE.read_text(), title)


def test_settings_table_is_generated_from_the_code() -> None:
    page = PAGE.read_text()
    assert render(page) == page, "run: python3 scripts/settings_table.py --write"


def test_env_example_is_generated_from_the_code() -> None:
    assert ENV_EXAMPLE.read_text() == env_example(), (
        "run: python3 scripts/settings_table.py --write"
    )


def test_a_setting_left_out_of_the_env_example_stops_the_generator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings_table, "GROUPS", GROUPS[:-1])
    with pytest.raises(ValueError, match="add \\['rate_limit_storage_url', 'forwarded_allow_ips'"):
        env_example()


def test_the_env_example_exported_as_is_configures_the_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """From the checkout, its set lines alone: the defaults, and the dev key `make run` makes."""
    made = subprocess.run(
        ["make", "-s", ".dev/jwt-secret"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert made.returncode == 0, made.stderr
    for name in [name for name in os.environ if name.startswith("MCP_")]:
        monkeypatch.delenv(name)
    lines = re.findall(r"^(MCP_\w+)=(.*)$", ENV_EXAMPLE.read_text(), flags=re.MULTILINE)
    for name, value in lines:
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(ROOT)
    loaded = config.load()
    assert loaded.keys.keys == ((ROOT / ".dev" / "jwt-secret").read_bytes().strip(),)
    # Every other setting at its default: a value the file sets differently shows here.
    fields = config.Settings.model_fields
    defaults = {name: field.default for name, field in fields.items()}
    assert loaded.settings.model_dump(exclude={"jwt_secret_file"}) == {
        name: value for name, value in defaults.items() if name != "jwt_secret_file"
    }


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
