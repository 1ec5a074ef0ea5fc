"""The Makefile's development signing key: made with the venv's Python, never left empty."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.helpers import ROOT, require


def _make(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    path = shutil.which("make")
    require(path is not None, "make not on PATH")
    assert path is not None
    return subprocess.run(
        [path, "--no-print-directory", "-f", str(ROOT / "Makefile"), "-C", str(workdir), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_failed_key_generation_leaves_no_empty_key(tmp_path: Path) -> None:
    bin_dir = tmp_path / "venv-bin"
    bin_dir.mkdir()
    failing_python = bin_dir / "python"
    failing_python.write_text("#!/bin/sh\nexit 1\n")
    failing_python.chmod(0o755)
    result = _make(tmp_path, ".dev/jwt-secret", f"BIN={bin_dir}", "UV=/bin/true")
    assert result.returncode != 0
    # Left behind, an empty key would count as built and be used by the next `make run`.
    assert not (tmp_path / ".dev" / "jwt-secret").exists()


def test_the_key_waits_for_the_venv_it_is_made_with(tmp_path: Path) -> None:
    plan = _make(tmp_path, "-n", ".dev/jwt-secret").stdout.splitlines()
    makes_venv = next(i for i, line in enumerate(plan) if "-m venv .venv" in line)
    writes_key = next(i for i, line in enumerate(plan) if "token_urlsafe" in line)
    assert makes_venv < writes_key
