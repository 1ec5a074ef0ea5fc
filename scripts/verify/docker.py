"""The Docker engine and the phase-4 container: found or skipped, started once per run."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass

from .framework import CheckFailed, CheckSkipped, Context, last_lines
from .process import answers_health, free_port

# The image phase 4 builds and runs; the verifier names it, `make image` builds it.
IMAGE_NAME, IMAGE_TAG = "mcp-server", "verify"
IMAGE = f"{IMAGE_NAME}:{IMAGE_TAG}"


def docker_host(ctx: Context) -> str:
    """A reachable Docker engine (DOCKER_HOST or the default socket), else skip."""
    if "docker" not in ctx.cache:
        reachable = shutil.which("docker") is not None and (
            subprocess.run(
                ["docker", "info"], capture_output=True, timeout=20, check=False
            ).returncode
            == 0
        )
        ctx.cache["docker"] = reachable
    if not ctx.cache["docker"]:
        raise CheckSkipped(
            "no Docker engine reachable: start Docker, or "
            '`eval "$(scripts/ci/docker-engine.sh start)"`'
        )
    return os.environ.get("DOCKER_HOST", "")


@dataclass
class Container:
    name: str
    url: str
    key: str


def running_container(ctx: Context) -> Container:
    """The image run as phase 4 runs it: key from the environment, read-only root."""
    docker_host(ctx)
    if ctx.cache.get("image") != "built":
        raise CheckFailed("there is no image: the build check above failed")
    if "container" in ctx.cache:
        started = ctx.cache["container"]
        if isinstance(started, CheckFailed):
            raise started  # it failed to start once; say so again, do not retry
        container: Container = started
        return container
    try:
        return start_container(ctx)
    except CheckFailed as failure:
        ctx.cache["container"] = failure
        raise


def start_container(ctx: Context) -> Container:
    port = free_port()
    key = secrets.token_urlsafe(48)
    name = f"mcp-verify-{port}"
    ctx.run(
        "docker", "run", "-d", "--name", name, "--network", "host",
        "--read-only", "--tmpfs", "/tmp",  # noqa: S108 (the container's own tmpfs)
        "-e", "MCP_HOST=127.0.0.1", "-e", f"MCP_PORT={port}", "-e", "MCP_JWT_SECRET_KEY",
        IMAGE,
        env={"MCP_JWT_SECRET_KEY": key},
    )  # fmt: skip
    ctx.stack.callback(
        subprocess.run, ["docker", "rm", "-f", name], capture_output=True, check=False
    )
    container = Container(name, f"http://127.0.0.1:{port}", key)
    # Generous: a loaded machine can take far longer than the usual two seconds.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if answers_health(container.url):
            ctx.cache["container"] = container
            return container
        time.sleep(0.3)
    logs = ctx.run("docker", "logs", name, check=False)
    raise CheckFailed(
        f"the container did not answer /health within 90 s: {last_lines(logs.stderr + logs.stdout)}"
    )
