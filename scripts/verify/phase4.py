"""Phase 4, the container image: a hardened Dockerfile, and the image behaves like the server."""

from __future__ import annotations

import json
import re
import time

from app.catalog import TOOL_SCOPES

from .docker import IMAGE_NAME, IMAGE_TAG, docker_host, running_container
from .framework import CheckFailed, Context, check, declare_phase
from .process import FORBIDDEN, UNAUTHORIZED, client, expect_error, expect_output, http_get, mint

declare_phase(4, "04-container.md")

DOCKER_LOGS = "`docker logs` of the container; docs/tutorial/04-container.md"


@check(
    phase=4,
    title="hadolint finds nothing in the Dockerfile",
    hint="`make tools`, then `.tools/bin/hadolint Dockerfile`",
)
def hadolint_clean(ctx: Context) -> None:
    args = [ctx.tool("hadolint")]
    if ctx.path(".hadolint.yaml").is_file():
        args += ["--config", ".hadolint.yaml"]
    ctx.run(*args, "Dockerfile")


@check(
    phase=4,
    title="the Dockerfile runs non-root, exec-form, with a health check",
    hint="docs/tutorial/04-container.md",
)
def dockerfile_is_hardened(ctx: Context) -> None:
    text = ctx.path("Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    if not users or not re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", users[-1]):
        raise CheckFailed(
            f"the final USER is {users[-1] if users else 'missing'}, not a numeric non-root id"
        )
    for needed in ("HEALTHCHECK", "EXPOSE 8080"):
        if not re.search(rf"^{needed}", text, re.M):
            raise CheckFailed(f"the Dockerfile has no {needed}")
    if not re.search(r"^(ENTRYPOINT|CMD)\s+\[", text, re.M):
        raise CheckFailed(
            "the entrypoint is not in exec form, so SIGTERM would not reach the server"
        )


@check(phase=4, title="the image builds", hint="`make image` shows the failing step")
def image_builds(ctx: Context) -> None:
    docker_host(ctx)
    ctx.cache["image"] = "failed"
    ctx.run(
        "make", "--no-print-directory", "image", f"IMAGE={IMAGE_NAME}", f"IMAGE_TAG={IMAGE_TAG}",
        timeout=1200,
    )  # fmt: skip
    ctx.cache["image"] = "built"


@check(phase=4, title="the container answers /health and /ready", hint=DOCKER_LOGS)
def container_health_and_ready(ctx: Context) -> None:
    container = running_container(ctx)
    for path, body in (("/health", {"status": "ok"}), ("/ready", {"status": "ready"})):
        status, text = http_get(f"{container.url}{path}")
        if status != 200 or json.loads(text) != body:
            raise CheckFailed(f"GET {path} answered {status} {text[:100]}")


@check(phase=4, title="the container enforces scoped tokens (401, lists, 403)", hint=DOCKER_LOGS)
def container_enforces_scopes(ctx: Context) -> None:
    container = running_container(ctx)
    url = f"{container.url}/mcp"
    expect_error(client(ctx, url, "", "list"), UNAUTHORIZED, "list without a token")
    public = mint(ctx, container.key, "public:read")
    expect_output(client(ctx, url, public, "list"), ["get_public_info"], "public list")
    full = mint(ctx, container.key, "public:read,confidential:read")
    expect_output(client(ctx, url, full, "list"), list(TOOL_SCOPES), "full list")
    expect_error(
        client(ctx, url, public, "call", "get_confidential_info"),
        FORBIDDEN.format(scope=TOOL_SCOPES["get_confidential_info"]),
        "public call get_confidential_info",
    )


@check(
    phase=4,
    title="it runs non-root on a read-only root filesystem",
    hint="docs/tutorial/04-container.md",
)
def container_non_root_read_only(ctx: Context) -> None:
    container = running_container(ctx)
    uid = ctx.run("docker", "exec", container.name, "id", "-u").stdout.strip()
    if uid in ("", "0"):
        raise CheckFailed(f"the server runs as uid {uid or '?'}")
    touch = ctx.run("docker", "exec", container.name, "touch", "/opt/venv/x", check=False)
    if touch.returncode == 0 or "Read-only file system" not in touch.stderr:
        raise CheckFailed("the root filesystem is writable")


@check(phase=4, title="Docker reports it healthy", hint=DOCKER_LOGS)
def container_healthy(ctx: Context) -> None:
    container = running_container(ctx)
    deadline = time.monotonic() + 60
    status = ""
    while time.monotonic() < deadline:
        status = ctx.run(
            "docker", "inspect", "--format", "{{.State.Health.Status}}", container.name
        ).stdout.strip()
        if status == "healthy":
            return
        time.sleep(1)
    raise CheckFailed(f"Docker health status is {status!r} after 60 s")


@check(phase=4, title="`docker stop` ends it with exit code 0", hint=DOCKER_LOGS)
def container_stops_with_0(ctx: Context) -> None:
    container = running_container(ctx)
    ctx.run("docker", "stop", container.name, timeout=60)
    ctx.cache["container"] = CheckFailed("the container was stopped by the check above")
    code = ctx.run(
        "docker", "inspect", "--format", "{{.State.ExitCode}}", container.name
    ).stdout.strip()
    if code != "0":
        raise CheckFailed(f"`docker stop` ended it with exit code {code}, not 0")
