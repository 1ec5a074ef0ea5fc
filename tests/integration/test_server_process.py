"""tests/server_process.py stops what it started on every path, a readiness timeout included.

Two servers were left running for 35 minutes after readiness timeouts on a
busy laptop: the constructor raised before any test held the object to stop.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests import server_process
from tests.server_process import ServerProcess


def test_a_server_not_ready_in_time_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def recording_popen(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        process: subprocess.Popen[bytes] = real_popen(*args, **kwargs)
        started.append(process)
        return process

    monkeypatch.setattr(subprocess, "Popen", recording_popen)
    monkeypatch.setattr(server_process, "READY_TIMEOUT", 0.0)  # no time to get ready
    with pytest.raises(RuntimeError, match="not ready after"):
        ServerProcess(tmp_path, {"MCP_JWT_SECRET_KEY": "k" * 48})
    assert len(started) == 1
    assert started[0].poll() is not None, "the server outlived its failed start"
