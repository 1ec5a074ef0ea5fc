"""The drain's signal handling: the first signal drains, a second Ctrl-C forces the exit."""

from __future__ import annotations

import asyncio
import signal

import uvicorn
from starlette.responses import PlainTextResponse

from app.probes import Lifecycle
from app.uvicorn_server import DrainingServer


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
