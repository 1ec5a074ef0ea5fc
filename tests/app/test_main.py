"""`python -m app` turns FastMCP's console logging and telemetry off unless the operator says."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SHOW = (
    "import app.__main__, fastmcp;"
    "print(fastmcp.settings.telemetry_mode, fastmcp.settings.log_enabled)"
)


def settings_seen(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FASTMCP_")}
    result = subprocess.run(
        [sys.executable, "-c", SHOW],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_off_by_default() -> None:
    assert settings_seen() == "off False"


@pytest.mark.parametrize("mode", ["native", "propagation_only"])
def test_the_operator_can_turn_telemetry_on(mode: str) -> None:
    assert settings_seen(FASTMCP_TELEMETRY_MODE=mode) == f"{mode} False"
