"""Start-up checks and graceful shutdown of the real server process."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from tests.server_process import ServerProcess, run_python

GOOD_KEY = "g" * 48


def run_app(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_python("-m", "app", env=env)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({}, "MCP_JWT_SECRET_KEY"),
        ({"MCP_JWT_SECRET_KEY": "too-short-key"}, "MCP_JWT_SECRET_KEY"),
        ({"MCP_JWT_SECRET_FILE": "/nonexistent/key"}, "MCP_JWT_SECRET_FILE"),
        ({"MCP_JWT_SECRET_KEY": GOOD_KEY, "MCP_PUBLIC_URL": "not a url"}, "MCP_PUBLIC_URL"),
        ({"MCP_JWT_JWKS_URL": "ftp://issuer.example/jwks"}, "MCP_JWT_JWKS_URL"),
        ({"MCP_JWT_SECRET_KEY": GOOD_KEY, "MCP_PORT": "eighty"}, "MCP_PORT"),
        ({"MCP_JWT_SECRET_KEY": GOOD_KEY, "MCP_LOG_FORMAT": "xml"}, "MCP_LOG_FORMAT"),
        (
            {"MCP_JWT_SECRET_KEY": GOOD_KEY, "MCP_ALLOWED_ORIGINS": "localhost"},
            "MCP_ALLOWED_ORIGINS",
        ),
        (
            {"MCP_JWT_SECRET_KEY": GOOD_KEY, "MCP_DOCUMENTS_DIR": "/nonexistent"},
            "MCP_DOCUMENTS_DIR",
        ),
        (
            {"MCP_JWT_SECRET_KEY": GOOD_KEY, "MCP_JWT_SECRET_FILE": "/etc/hostname"},
            "MCP_JWT_SECRET_KEY and MCP_JWT_SECRET_FILE",
        ),
        ({"MCP_JWT_PREVIOUS_SECRET_KEY": GOOD_KEY}, "MCP_JWT_PREVIOUS_SECRET_KEY"),
    ],
)
def test_misconfiguration_fails_at_start_with_one_clear_line(
    env: dict[str, str], names: str
) -> None:
    result = run_app(env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("configuration error: ")
    assert names in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    for name, value in env.items():
        if name.endswith("_KEY"):
            assert value not in result.stderr  # never echo a key


def test_short_key_in_a_file_names_the_file_setting(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("short\n")
    result = run_app({"MCP_JWT_SECRET_FILE": str(key_file)})
    assert result.returncode == 2
    assert "MCP_JWT_SECRET_FILE: the key is 5 bytes, it must be at least 32" in result.stderr


async def _slow_body(first: bytes, rest: bytes, gate: asyncio.Event) -> AsyncIterator[bytes]:
    yield first
    await gate.wait()
    yield rest


async def test_sigterm_drains_in_flight_requests_and_exits_0(
    start_server: Callable[..., ServerProcess], token_for: Callable[..., str]
) -> None:
    # 3 s of drain: room for the /ready request below to land on a busy machine.
    server = start_server(MCP_SHUTDOWN_DRAIN_SECONDS="3", MCP_RATE_LIMIT_PER_MINUTE="0")
    body = json.dumps(
        {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "get_public_info"}}
    ).encode()
    gate = asyncio.Event()
    headers = {
        "Authorization": f"Bearer {token_for('public:read')}",
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "Content-Length": str(len(body)),
    }
    async with httpx.AsyncClient(timeout=20) as client:
        # The request is in flight: headers and half the body are sent when SIGTERM lands.
        in_flight = asyncio.create_task(
            client.post(server.url, content=_slow_body(body[:10], body[10:], gate), headers=headers)
        )
        await asyncio.sleep(1.0)
        server.terminate()
        await asyncio.sleep(0.3)
        ready = await client.get(f"{server.base_url}/ready")
        assert ready.status_code == 503  # readiness turns first, while the listener is open
        gate.set()
        response = await in_flight
    assert response.status_code == 200
    assert "public information" in response.json()["result"]["content"][0]["text"]
    assert await asyncio.to_thread(server.wait, 30) == 0
    logs = server.logs()
    assert "shutdown requested: draining" in logs
    assert "Traceback" not in logs


def test_ctrl_c_also_exits_0(start_server: Callable[..., ServerProcess]) -> None:
    import signal

    server = start_server()
    server.process.send_signal(signal.SIGINT)
    assert server.wait(30) == 0
