#!/usr/bin/env python3
"""Start to ready in the container: `docker start` to the first 200 from /ready, median of 5.

Runs the image as Kubernetes does (read-only root filesystem, a tmpfs /tmp,
the non-root user) with host networking on a free loopback port, once per
round, and prints each time and the median. Needs a Docker engine and the
image (`make image`); with the build machines' private engine:

  eval "$(scripts/ci/docker-engine.sh start)" && make image && \\
    .venv/bin/python -m benchmarks.container_start
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime

import httpx

from benchmarks.processes import free_port

DOCKER = "docker"
READY_DEADLINE_SECONDS = 30


def docker(*args: str) -> str:
    return subprocess.run(
        [DOCKER, *args], capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()


def started_at(container: str) -> float:
    """When the engine started the container's process (epoch seconds, from its RFC 3339 time)."""
    stamp = docker("inspect", "--format", "{{.State.StartedAt}}", container)
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    seconds = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
    return seconds + float(f"0.{fraction or 0}")


def start_to_ready(image: str) -> tuple[float, float]:
    """Seconds from `docker start`, and from the process's start, to the first 200 from /ready."""
    port = free_port()
    container = docker(
        "create",
        "--network=host",
        "--read-only",
        "--tmpfs=/tmp",
        f"--env=MCP_PORT={port}",
        f"--env=MCP_JWT_SECRET_KEY={secrets.token_urlsafe(48)}",
        image,
    )
    try:
        started = time.monotonic()
        docker("start", container)
        while time.monotonic() - started < READY_DEADLINE_SECONDS:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                    ready, now = time.monotonic(), time.time()
                    return ready - started, now - started_at(container)
            except httpx.TransportError:
                pass
            time.sleep(0.01)
        raise SystemExit(
            f"error: not ready in {READY_DEADLINE_SECONDS} s:\n{docker('logs', container)}"
        )
    finally:
        docker("rm", "--force", container)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--image", default="mcp-server:latest", help="(mcp-server:latest)")
    parser.add_argument("--rounds", type=int, default=5, help="runs, 1..20 (5)")
    args = parser.parse_args(argv)
    if not 1 <= args.rounds <= 20:
        parser.error("--rounds must be 1..20")
    try:
        docker("image", "inspect", args.image)
    except (OSError, subprocess.CalledProcessError):
        print(
            f"error: no Docker engine, or no image {args.image}: run `make image`", file=sys.stderr
        )
        return 2
    runs = []
    for number in range(1, args.rounds + 1):
        runs.append(start_to_ready(args.image))
        print(
            f"run {number}: {runs[-1][0]:.2f} s from docker start, "
            f"{runs[-1][1]:.2f} s from the process's start",
            file=sys.stderr,
        )
    print(
        f"start to ready, median of {args.rounds}: "
        f"{statistics.median(r[0] for r in runs):.2f} s from docker start, "
        f"{statistics.median(r[1] for r in runs):.2f} s from the process's start"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
