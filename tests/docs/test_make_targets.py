"""The Makefile on a learner's laptop: old make refused, image platform, wrk and redis installs.

Each test runs the real GNU make on the real Makefile with `-n` (print the
recipes, run nothing but `$(shell ...)`), so no Docker engine or wrk is needed.
"""

from __future__ import annotations

import shutil
import subprocess

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


def test_old_make_is_refused_with_the_gmake_fix() -> None:
    """macOS's make 3.81 ignores .SHELLFLAGS: the Makefile stops and names gmake."""
    old = make("-n", "help", "MAKE_VERSION=3.81")
    assert old.returncode != 0
    fix = "GNU make 3.81 is too old (3.82+ needed): run gmake instead (macOS: brew install make)"
    assert fix in old.stderr
    assert len(old.stderr.strip().splitlines()) == 1


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


def test_bench_installs_wrk_with_brew_or_apt_get_or_says_how() -> None:
    recipe = make("-n", "bench").stdout
    assert "brew install wrk" in recipe
    assert "apt-get install -y -qq wrk" in recipe
    assert "error: wrk not found: brew install wrk (macOS), sudo apt-get install wrk" in recipe


def test_sign_in_tests_install_redis_with_brew_or_apt_get_or_say_how() -> None:
    recipe = make("-n", "redis-server").stdout
    assert "brew install redis" in recipe
    assert "apt-get install -y -qq redis-server" in recipe
    assert "error: redis-server not found: brew install redis (macOS)" in recipe
