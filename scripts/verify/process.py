"""Processes and HTTP: the local server, tokens, the MCP client, loopback requests."""

from __future__ import annotations

import contextlib
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .framework import CheckFailed, Context, base_env, last_lines

# What mcp-client prints for a refused token and a missing scope.
UNAUTHORIZED = (
    "error: 401 Unauthorized: this server needs a bearer token: send 'Authorization: Bearer "
    "<token>'; mint one (make token, or mcp-key token on GKE)"
)
# The time in it is the token's own exp, so the line is matched, not compared.
EXPIRED = re.compile(
    r"error: 401 Unauthorized: the token expired at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; "
    r"mint one \(make token, or mcp-key token on GKE\)"
)
FORBIDDEN = "error: 403 Forbidden: insufficient_scope, the call needs the scope {scope}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float = 5) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def http_get(url: str, timeout: float = 5) -> tuple[int, str]:
    request = urllib.request.Request(url, method="GET")  # noqa: S310 (loopback http only)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode(errors="replace")


def answers_health(base: str) -> bool:
    """True when GET {base}/health answers 200 (False while nothing listens yet)."""
    with contextlib.suppress(OSError):
        return http_get(f"{base}/health", timeout=1)[0] == 200
    return False


def stop_process(process: subprocess.Popen[str]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return int(process.returncode)


@dataclass
class LocalServer:
    """The server started by the verifier, as `make run` would, with a throwaway key."""

    process: subprocess.Popen[str]
    url: str
    key: str
    log: Path


def local_server(ctx: Context) -> LocalServer:
    """Start `python -m app` once per run on a free loopback port (stopped at exit)."""
    if "server" in ctx.cache:
        server: LocalServer = ctx.cache["server"]
        if server.process.poll() is None:
            return server
    port = free_port()
    key = secrets.token_urlsafe(48)
    log = ctx.scratch / f"server-{port}.log"
    env = {
        **base_env(),
        "MCP_HOST": "127.0.0.1",
        "MCP_PORT": str(port),
        "MCP_JWT_SECRET_KEY": key,
        "MCP_LOG_FORMAT": "json",
        # No clock-skew grace, so a 1-second token is expired 2 seconds later.
        "MCP_JWT_LEEWAY_SECONDS": "0",
    }
    handle = log.open("w")
    process = subprocess.Popen(
        [ctx.python, "-m", "app"],
        cwd=ctx.root,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        text=True,
    )
    handle.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CheckFailed(
                f"the server exited with {process.returncode}: {last_lines(log.read_text())}",
                hint="run `make run` and read its error line",
            )
        if answers_health(base):
            break
        time.sleep(0.2)
    else:
        process.kill()
        raise CheckFailed("the server did not answer /health within 30 s")
    server = LocalServer(process, base, key, log)
    ctx.cache["server"] = server
    ctx.stack.callback(stop_process, process)
    return server


def mint(ctx: Context, key: str, scopes: str, expires_in: int = 600, sub: str = "verify") -> str:
    """A token from mcp-token, signed with `key`."""
    result = ctx.run(
        Path(ctx.python).with_name("mcp-token"),
        "--sub",
        sub,
        "--scopes",
        scopes,
        "--expires-in",
        str(expires_in),
        env={"MCP_JWT_SECRET_KEY": key},
    )
    return result.stdout.strip()


def client(ctx: Context, url: str, token: str, *command: str) -> subprocess.CompletedProcess[str]:
    """mcp-client as the tutorial runs it; the token goes by env, not argv."""
    return ctx.run(
        Path(ctx.python).with_name("mcp-client"),
        url,
        *command,
        env={"MCP_TOKEN": token},
        check=False,
        timeout=60,
    )


def expect_output(result: subprocess.CompletedProcess[str], lines: list[str], what: str) -> None:
    got = result.stdout.strip().splitlines()
    if result.returncode != 0 or got != lines:
        raise CheckFailed(
            f"{what}: expected {lines}, got {got or last_lines(result.stderr)} "
            f"(exit {result.returncode})"
        )


def expect_error(
    result: subprocess.CompletedProcess[str], line: str | re.Pattern[str], what: str
) -> None:
    said = result.stderr.strip()
    matches = line.fullmatch(said) if isinstance(line, re.Pattern) else said == line
    if result.returncode != 1 or not matches:
        raise CheckFailed(
            f"{what}: expected exit 1 and {line!r}, got exit {result.returncode} and "
            f"{last_lines(result.stderr or result.stdout)!r}"
        )
