"""Phase 0, setup: the interpreters, the venv, make, and no lock file with index URLs."""

from __future__ import annotations

import re

from .framework import CheckFailed, CheckSkipped, Context, check, declare_phase

declare_phase(0, "00-setup.md")

MAKE_INSTALL = "run `make install`"


@check(phase=0, title="python3 is 3.11 or newer", hint="install Python 3.11")
def python_version(ctx: Context) -> None:
    result = ctx.run("python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])")
    major, minor = (int(part) for part in result.stdout.strip().split("."))
    if (major, minor) < (3, 11):
        raise CheckFailed(f"python3 is {major}.{minor}")


@check(phase=0, title="Node 20 or newer is on PATH", hint="install Node 20 (phases 5, 6)")
def node_version(ctx: Context) -> None:
    version = ctx.run("node", "--version").stdout.strip()
    match = re.match(r"v(\d+)\.", version)
    if match is None or int(match.group(1)) < 20:
        raise CheckFailed(f"node is {version}")


@check(phase=0, title=".venv has the server, tests and linters", hint=MAKE_INSTALL)
def venv_installed(ctx: Context) -> None:
    if not ctx.path(".venv/bin/python").exists():
        raise CheckFailed(".venv does not exist")
    ctx.run(ctx.python, "-c", "import app, fastmcp, jwt, pytest, ruff, mypy")


@check(phase=0, title="the server and FastMCP 4.2 are installed", hint=MAKE_INSTALL)
def versions_installed(ctx: Context) -> None:
    script = "import app, fastmcp; print(app.__version__, fastmcp.__version__)"
    got = ctx.run(ctx.python, "-c", script).stdout.split()
    if len(got) != 2 or not got[1].startswith("4.2."):
        raise CheckFailed(f"app and fastmcp versions are {got}, expected fastmcp 4.2.x")


@check(phase=0, title="`make help` lists the targets", hint="run from the repository root")
def make_help(ctx: Context) -> None:
    listed = re.sub(r"\x1b\[[0-9;]*m", "", ctx.run("make", "--no-print-directory", "help").stdout)
    names = {line.split()[0] for line in listed.splitlines() if line.strip()}
    missing = [t for t in ("run", "token", "test", "install", "lint", "verify") if t not in names]
    if missing:
        raise CheckFailed(f"`make help` does not list {missing}")


@check(phase=0, title="no lock file with index URLs is tracked", hint="git rm it")
def no_lock_files_tracked(ctx: Context) -> None:
    if not ctx.path(".git").exists():
        raise CheckSkipped("not a git checkout")
    tracked = ctx.run("git", "ls-files", "uv.lock", "package-lock.json", "**/package-lock.json")
    if tracked.stdout.strip():
        raise CheckFailed(f"tracked: {tracked.stdout.split()}")
