"""The live checks' view of the cloud: gcloud, kubectl and a port-forward to the Service."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from .chart import workload
from .framework import CheckFailed, Context, last_lines
from .infra import terraform_output
from .process import answers_health, free_port, stop_process


def gcloud_value(ctx: Context, *args: str) -> list[str]:
    """`gcloud ... --format=value(...)` split into its tab-separated fields."""
    project = terraform_output(ctx, "project_id")
    out = ctx.run("gcloud", *args, "--project", project, timeout=120).stdout.strip()
    return out.split("\t") if out else []


def cluster_args(ctx: Context) -> tuple[str, str]:
    return terraform_output(ctx, "cluster_name"), terraform_output(ctx, "cluster_location")


def kubectl(ctx: Context, *args: str) -> str:
    return ctx.run("kubectl", *args, timeout=60).stdout.strip()


@contextlib.contextmanager
def port_forward(ctx: Context) -> Iterator[str]:
    """`kubectl port-forward` to the chart's Service on a free local port, stopped afterwards."""
    deployed = workload(ctx)
    port = free_port()
    process = subprocess.Popen(
        [
            "kubectl", "-n", deployed.namespace, "port-forward",
            f"svc/{deployed.service}", f"{port}:{deployed.service_port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if process.poll() is not None:
                error = process.stderr.read() if process.stderr else ""
                raise CheckFailed(f"kubectl port-forward exited: {last_lines(error)}")
            if answers_health(base):
                break
            time.sleep(0.3)
        else:
            raise CheckFailed("the port-forward did not answer /health within 20 s")
        yield f"{base}/mcp"
    finally:
        stop_process(process)


def deployed_token(ctx: Context, scopes: str, expires_in: int = 600, sub: str = "verify") -> str:
    """A token signed with the deployed key (mcp-key token; the key is never shown)."""
    project = terraform_output(ctx, "project_id")
    result = ctx.run(
        Path(ctx.python).with_name("mcp-key"),
        "--project",
        project,
        "token",
        "--sub",
        sub,
        "--scopes",
        scopes,
        "--expires-in",
        str(expires_in),
        timeout=60,
    )
    return result.stdout.strip()
