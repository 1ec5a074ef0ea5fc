"""The drain's signal handling: the first signal drains, a second Ctrl-C forces the exit."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.responses import PlainTextResponse

from app.probes import Lifecycle
from app.uvicorn_server import DrainingServer
from tests.helpers import ROOT
from tests.server_process import clean_env, free_port


async def test_second_ctrl_c_forces_exit_and_a_second_sigterm_changes_nothing() -> None:
    lifecycle = Lifecycle()
    server = DrainingServer(
        uvicorn.Config(PlainTextResponse("ok"), log_config=None), lifecycle, drain_seconds=0
    )
    server._on_signal(signal.SIGTERM)
    assert lifecycle.draining
    assert not server.force_exit
    server._on_signal(signal.SIGTERM)
    assert not server.force_exit
    server._on_signal(signal.SIGINT)
    assert server.force_exit
    assert server._drain_task is not None
    await server._drain_task  # drain_seconds=0: it sets should_exit at once
    assert server.should_exit
    await asyncio.sleep(0)


# A server whose only route answers after 0.3 s, shut down while a request is in flight.
SLOW_SERVER = """
import asyncio, os, sys
from starlette.responses import PlainTextResponse
from app import config
from app.uvicorn_server import serve

async def slow(scope, receive, send):
    if scope["type"] != "http":
        return
    print("in-flight", flush=True)
    await asyncio.sleep(0.3)
    await PlainTextResponse("done")(scope, receive, send)

serve(config.load(), build=lambda _config, _lifecycle: slow)
"""


@pytest.mark.other_process
def test_a_fractional_shutdown_timeout_still_lets_in_flight_requests_finish(
    tmp_path: Path,
) -> None:
    # With 0.5 s truncated to 0, uvicorn cancelled the request at once: no answer.
    key = tmp_path / "key"
    key.write_text("k" * 48)
    port = free_port()
    env = clean_env(
        MCP_PORT=str(port),
        MCP_JWT_SECRET_FILE=str(key),
        MCP_SHUTDOWN_TIMEOUT_SECONDS="0.5",
    )
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_SERVER],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        answer: list[httpx.Response] = []

        def call() -> None:
            answer.append(httpx.get(f"http://127.0.0.1:{port}/", timeout=30))

        _wait_for_port(port, process)
        caller = threading.Thread(target=call)
        caller.start()
        assert process.stdout is not None
        while "in-flight" not in process.stdout.readline():
            pass
        process.send_signal(signal.SIGTERM)
        caller.join(timeout=30)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
    assert [r.text for r in answer] == ["done"]


def _wait_for_port(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited before it listened"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the server never listened")
