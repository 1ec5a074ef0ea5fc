"""The Makefile's system-package recipe, run by make against stand-in package managers.

Installing real packages cannot be part of a test, so `apt-get`, `brew`, `sudo`,
`uname` and `id` are small scripts on a PATH holding nothing else: each records how
it was called, and an install puts the tool on that PATH, as the real one would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT, require

# The stand-ins' PATH has no chmod: its absolute path, from the test's machine.
CHMOD = shutil.which("chmod") or "/bin/chmod"


class Machine:
    """A PATH of stand-ins: which tools exist, who we are, what each call did."""

    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.bin.mkdir()
        self.log = root / "calls"
        self.log.touch()

    def script(self, name: str, body: str) -> None:
        path = self.bin / name
        path.write_text(f'#!/bin/sh\necho "{name} $*" >> {self.log}\n{body}\n')
        path.chmod(0o755)

    def os_and_user(self, system: str, uid: int) -> None:
        self.script("uname", f"echo {system}")
        self.script("id", f"echo {uid}")

    def package_manager(self, name: str, provides: str) -> None:
        # An install puts `provides` on the PATH; anything else (update) just succeeds.
        self.script(
            name,
            f'case "$*" in *install*) printf "#!/bin/sh\\n" > {self.bin}/{provides}; '
            f"{CHMOD} +x {self.bin}/{provides};; esac",
        )

    def make(self, target: str) -> subprocess.CompletedProcess[str]:
        path = shutil.which("make")
        require(path is not None, "make not on PATH")
        assert path is not None
        return subprocess.run(
            [path, "--no-print-directory", "-C", str(ROOT), target],
            env={"PATH": str(self.bin), "HOME": os.environ.get("HOME", "/")},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def calls(self) -> list[str]:
        return [
            line
            for line in self.log.read_text().splitlines()
            if not line.startswith(("uname", "id"))
        ]


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    return Machine(tmp_path)


def test_a_present_tool_is_left_alone(machine: Machine) -> None:
    machine.os_and_user("Linux", 0)
    machine.package_manager("apt-get", "promtool")
    machine.script("promtool", "")
    result = machine.make("promtool")
    assert result.returncode == 0, result.stderr
    assert machine.calls() == []


def test_as_root_on_debian_the_debian_package_is_installed(machine: Machine) -> None:
    machine.os_and_user("Linux", 0)
    machine.package_manager("apt-get", "promtool")
    result = machine.make("promtool")
    assert result.returncode == 0, result.stderr
    assert machine.calls() == ["apt-get install -y -qq --no-install-recommends prometheus"]
    assert (machine.bin / "promtool").exists()


def test_without_root_passwordless_sudo_installs_it(machine: Machine) -> None:
    # GitHub's Ubuntu runners: not root, but `sudo -n` works.
    machine.os_and_user("Linux", 1001)
    machine.script("sudo", '[ "$1" = -n ] && shift; "$@"')
    machine.package_manager("apt-get", "redis-server")
    result = machine.make("redis-server")
    assert result.returncode == 0, result.stderr
    assert "apt-get install -y -qq --no-install-recommends redis-server" in machine.calls()


def test_on_macos_homebrew_installs_it_under_its_homebrew_name(machine: Machine) -> None:
    machine.os_and_user("Darwin", 501)
    machine.package_manager("brew", "redis-server")
    result = machine.make("redis-server")
    assert result.returncode == 0, result.stderr
    assert machine.calls() == ["brew install redis"]


def test_a_required_tool_with_no_installer_stops_make_with_the_commands(
    machine: Machine,
) -> None:
    machine.os_and_user("Linux", 1001)
    result = machine.make("promtool")
    assert result.returncode != 0
    assert "error: promtool not found" in result.stderr
    assert "sudo apt-get install prometheus" in result.stderr


def test_an_optional_tool_with_no_installer_is_a_note_and_make_goes_on(
    machine: Machine,
) -> None:
    # gh has no Homebrew name: even with brew on the PATH, a Mac only gets the note.
    machine.os_and_user("Darwin", 501)
    machine.package_manager("brew", "gh")
    result = machine.make("gh-cli")
    assert result.returncode == 0, result.stderr
    assert "note: gh not found; the docs' gh commands go unchecked" in result.stderr
    assert "sudo apt-get install gh" in result.stderr
    assert machine.calls() == []
