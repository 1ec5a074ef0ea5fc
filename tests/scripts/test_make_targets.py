"""The Makefile on a learner's laptop: old make refused, image platform, wrk and redis installs.

Each test runs the real GNU make on the real Makefile, mostly with `-n` (print
the recipes, run nothing but `$(shell ...)`), so no Docker engine or wrk is
needed; the Python check runs its one recipe against a stand-in python3 3.10.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT, require


def make(*args: str) -> subprocess.CompletedProcess[str]:
    path = shutil.which("make")
    require(path is not None, "make not on PATH")
    assert path is not None
    return subprocess.run(
        [path, "--no-print-directory", "-C", str(ROOT), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_old_make_is_refused_with_the_path_fix() -> None:
    """macOS's make 3.81 ignores .SHELLFLAGS: the Makefile stops and says how to replace it.

    Not "type gmake": the recipes' nested `make` calls would run 3.81 again.
    """
    old = make("-n", "help", "MAKE_VERSION=3.81")
    assert old.returncode != 0
    fix = (
        "GNU make 3.81 is too old (3.82+ needed): brew install make, then put it first on PATH: "
        'export PATH="$(brew --prefix make)/libexec/gnubin:$PATH"'
    )
    assert fix in old.stderr
    assert "gmake" not in old.stderr
    assert len(old.stderr.strip().splitlines()) == 1


def test_python_older_than_3_11_is_refused_with_the_package_to_install(tmp_path: Path) -> None:
    """Ubuntu 22.04's python3 is 3.10: the venv is not made from it, and the error says why."""
    python310 = tmp_path / "python3"
    python310.write_text(
        '#!/bin/sh\n[ "$1" = --version ] && { echo "Python 3.10.12"; exit 0; }\n'
        "exec " + sys.executable + ' -c "import sys; sys.exit(1)"\n'
    )
    python310.chmod(0o755)
    venv = tmp_path / "venv"
    result = make("install", f"PYTHON={python310}", f"VENV={venv}")
    assert result.returncode != 0
    assert f"error: {python310} is Python 3.10.12, 3.11+ needed." in result.stderr
    assert "sudo apt-get install python3.11 python3.11-venv" in result.stderr
    assert "uv python install 3.11" in result.stderr
    assert not venv.exists()


def test_this_make_is_accepted() -> None:
    for version in ("3.82", "4.3", "4.4.1"):
        result = make("-n", "help", f"MAKE_VERSION={version}")
        assert result.returncode == 0, result.stderr


def test_image_builds_for_this_machine_unless_platform_is_given() -> None:
    default = make("-n", "image", "DOCKER=docker")
    assert default.returncode == 0, default.stderr
    assert "docker build " in default.stdout
    assert "--platform" not in default.stdout
    amd64 = make("-n", "image", "DOCKER=docker", "PLATFORM=linux/amd64")
    assert "docker build --platform linux/amd64 " in amd64.stdout
