"""`python -m app` turns FastMCP's console logging and telemetry off unless the operator says,
and raises the garbage collector's threshold before anything else."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.server_process import run_python

pytestmark = pytest.mark.other_process

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


def test_main_raises_the_gc_threshold_first_even_when_the_configuration_fails() -> None:
    result = run_python(
        "-c", "import gc, app.__main__ as m; code = m.main(); print(code, gc.get_threshold()[0])"
    )
    assert result.returncode == 0, result.stderr
    assert "MCP_JWT_SECRET_KEY" in result.stderr  # no key: main() returned before serving
    assert result.stdout.split() == ["2", "10000"]
