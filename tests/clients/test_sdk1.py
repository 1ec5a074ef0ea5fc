"""The Python SDK 1.x (`mcp<2`, the most deployed line), in a venv of its own.

With a token it lists and calls what the token allows. Its 401 and 403 are
httpx errors ("Client error '403 Forbidden' for url ...") that carry none of
the server's words, and a 403 on a call is raised inside its transport, which
ends the whole session: the next call on it fails too. docs/clients.md says
what to do (list before calling, reconnect, or move to SDK 2.x).

The venv is made once under .tools/clients/sdk1 (git-ignored) and reused.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, require
from tests.server_process import ServerProcess

VENV = ROOT / ".tools" / "clients" / "sdk1"
SDK1 = "mcp>=1.30,<2"

# Runs inside the SDK 1.x venv: one session, the calls given, one JSON line per step.
PROBE = """
import asyncio, json, sys
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

url, token, *calls = sys.argv[1:]
headers = {"Authorization": f"Bearer {token}"} if token != "-" else {}

def describe(error):
    inner = getattr(error, "exceptions", None)
    return " | ".join(describe(e) for e in inner) if inner else f"{type(error).__name__}: {error}"

async def main():
    try:
        async with streamablehttp_client(url, headers=headers) as (read, write, _), \\
                ClientSession(read, write) as session:
            await session.initialize()
            tools = sorted(t.name for t in (await session.list_tools()).tools)
            print(json.dumps({"tools": tools}), flush=True)
            for name in calls:
                try:
                    result = await asyncio.wait_for(session.call_tool(name, {}), 10)
                    text = result.content[0].text[:40]
                    print(json.dumps({"call": name, "text": text}), flush=True)
                except BaseException as error:
                    print(json.dumps({"call": name, "raised": describe(error)}), flush=True)
    except BaseException as error:
        print(json.dumps({"session": describe(error)}), flush=True)

asyncio.run(main())
"""


def _sdk1_python() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        made = subprocess.run(
            [sys.executable, "-m", "venv", str(VENV)], capture_output=True, text=True, check=False
        )
        installed = made.returncode == 0 and (
            subprocess.run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    SDK1,
                ],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            ).returncode
            == 0
        )
        if not installed:
            shutil.rmtree(VENV, ignore_errors=True)
            require(False, f"cannot install {SDK1} into {VENV} (no package index?)")
    return python


def _probe(server: ServerProcess, token: str | None, *calls: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        [str(_sdk1_python()), "-c", PROBE, server.url, token or "-", *calls],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def sdk1_version() -> str:
    python = _sdk1_python()
    return subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('mcp'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_sdk1_lists_and_calls_with_a_token(
    server: ServerProcess, token_for: Callable[..., str], sdk1_version: str
) -> None:
    assert sdk1_version.startswith("1.")
    steps = _probe(server, token_for("public:read"), "get_public_info")
    assert steps == [
        {"tools": ["get_public_info"]},
        {"call": "get_public_info", "text": steps[1].get("text", "")},
    ]
    assert steps[1]["text"].startswith("# ")


def test_sdk1_a_forbidden_call_ends_the_session(
    server: ServerProcess, token_for: Callable[..., str]
) -> None:
    steps = _probe(server, token_for("public:read"), "get_confidential_info", "get_public_info")
    assert steps[0] == {"tools": ["get_public_info"]}
    # The 403 is raised inside the transport: this call and the next one both fail...
    assert "raised" in steps[1]
    assert "raised" in steps[2]
    # ...and the session ends with the bare HTTP status, without the server's words.
    assert "403 Forbidden" in steps[-1]["session"]


def test_sdk1_a_refused_token_shows_the_bare_status(server: ServerProcess) -> None:
    steps = _probe(server, None)
    assert len(steps) == 1
    assert "401 Unauthorized" in steps[0]["session"]
