"""The running container: probes, scoped tokens, non-root, read-only root, health, clean stop.

Everything goes through the container's real HTTP port with the MCP handshake
(initialize, notifications/initialized, then the call), as a client would.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import BUNDLED_DOCUMENTS
from app.tokens import mint_token
from tests.bearer import assert_needs_confidential_scope
from tests.container.conftest import (
    READY_DEADLINE_SECONDS,
    STOP_GRACE_SECONDS,
    Running,
    StartContainer,
)

pytestmark = pytest.mark.container

MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
CONTAINER_UID = "10001"


def rpc(method: str, params: dict[str, Any] | None = None, id_: int | None = 1) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params or {}}
    if id_ is not None:
        message["id"] = id_
    return message


def post(running: Running, body: dict[str, Any], token: str | None) -> httpx.Response:
    headers = dict(MCP_HEADERS)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(running.url, content=json.dumps(body), headers=headers, timeout=10)


def session(running: Running, token: str) -> Callable[[str, dict[str, Any]], httpx.Response]:
    """Do the MCP handshake with `token`; return a function sending further requests."""
    init = post(
        running,
        rpc(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "container-test", "version": "0"},
            },
        ),
        token,
    )
    assert init.status_code == 200, init.text
    assert init.json()["result"]["serverInfo"]["name"] == "secure-mcp-server"
    initialized = post(running, rpc("notifications/initialized", id_=None), token)
    assert initialized.status_code in (200, 202), initialized.text

    def send(method: str, params: dict[str, Any]) -> httpx.Response:
        return post(running, rpc(method, params, id_=2), token)

    return send


def tool_names(running: Running, token: str) -> list[str]:
    response = session(running, token)("tools/list", {})
    assert response.status_code == 200, response.text
    return sorted(tool["name"] for tool in response.json()["result"]["tools"])


def exec_in(running: Running, *command: str) -> tuple[int, str]:
    result = running.container.exec_run(list(command))
    return result.exit_code, result.output.decode(errors="replace")


def test_health_and_ready_answer(server: Running) -> None:
    assert httpx.get(f"{server.base_url}/health", timeout=5).status_code == 200
    assert httpx.get(f"{server.base_url}/ready", timeout=5).status_code == 200


def test_no_token_gets_401(server: Running) -> None:
    response = post(server, rpc("tools/list"), token=None)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")


def test_token_signed_with_another_key_gets_401(server: Running) -> None:
    """Only the key injected through MCP_JWT_SECRET_KEY signs valid tokens."""
    other = mint_token("x" * 48, "mallory", ["public:read", "confidential:read"])
    response = post(server, rpc("tools/list"), token=other)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("scopes", "visible"),
    [
        (["public:read"], ["get_public_info"]),
        (["public:read", "confidential:read"], ["get_confidential_info", "get_public_info"]),
    ],
)
def test_tools_list_shows_only_what_the_scopes_allow(
    server: Running, token_for: Callable[..., str], scopes: list[str], visible: list[str]
) -> None:
    assert tool_names(server, token_for(*scopes)) == visible


def test_unauthorized_call_gets_403_insufficient_scope(
    server: Running, token_for: Callable[..., str]
) -> None:
    send = session(server, token_for("public:read"))
    response = send("tools/call", {"name": "get_confidential_info", "arguments": {}})

    assert_needs_confidential_scope(response, server.base_url)


def test_authorized_call_returns_the_bundled_document(
    server: Running, token_for: Callable[..., str]
) -> None:
    """The documents are package data: they must have made it into the image."""
    send = session(server, token_for("confidential:read"))
    response = send("tools/call", {"name": "get_confidential_info", "arguments": {}})
    assert response.status_code == 200, response.text
    text = response.json()["result"]["content"][0]["text"]
    assert text == (BUNDLED_DOCUMENTS / "confidential.md").read_text()


def test_learner_client_lists_tools(server: Running, token_for: Callable[..., str]) -> None:
    """The command of the tutorial's Verify block, against the container."""
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("mcp-client")),
            server.url,
            *("--token", token_for("public:read"), "list"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "get_public_info\n"


def test_server_process_runs_as_non_root(server: Running) -> None:
    code, status = exec_in(server, "cat", "/proc/1/status")
    assert code == 0, status
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    # Real, effective, saved and filesystem IDs of PID 1, the server itself.
    assert fields["Uid"].split() == [CONTAINER_UID] * 4
    assert fields["Gid"].split() == [CONTAINER_UID] * 4
    code, cmdline = exec_in(server, "cat", "/proc/1/cmdline")
    assert cmdline.split("\0")[:3] == ["/opt/venv/bin/python", "-m", "app"]


def test_works_with_read_only_root_and_tmpfs(server: Running) -> None:
    """The server above is up and answering with this setup; writes outside /tmp fail."""
    host_config = server.container.attrs["HostConfig"]
    assert host_config["ReadonlyRootfs"] is True
    assert "/tmp" in host_config["Tmpfs"]
    code, output = exec_in(server, "touch", "/opt/venv/probe")
    assert code != 0
    assert "Read-only file system" in output
    code, output = exec_in(server, "touch", "/tmp/probe")
    assert code == 0, output


def test_health_status_becomes_healthy(server: Running) -> None:
    """Docker runs the image's HEALTHCHECK (the venv's Python calling /health) and says healthy."""
    deadline = time.monotonic() + READY_DEADLINE_SECONDS
    health: dict[str, Any] = {}
    while time.monotonic() < deadline:
        health = server.state().get("Health") or {}
        if health.get("Status") == "healthy":
            break
        time.sleep(0.5)
    assert health.get("Status") == "healthy", f"health: {health}\n{server.logs()}"
    assert health["Log"][-1]["ExitCode"] == 0
    # The check that ran is the image's own, not one the test supplied.
    test = server.container.attrs["Config"]["Healthcheck"]["Test"]
    assert test[:2] == ["CMD", "/opt/venv/bin/python"]
    assert "/health" in test[-1]


def test_docker_stop_exits_zero_within_the_grace_period(start_container: StartContainer) -> None:
    """SIGTERM reaches the server (exec-form entrypoint), which drains and exits 0.

    Had it not ended within the grace period, Docker would have sent SIGKILL and
    the exit code would be 137; exit code 0 is the proof, without timing anything.
    """
    running = start_container()
    running.container.stop(timeout=STOP_GRACE_SECONDS)
    state = running.state()
    assert state["Status"] == "exited"
    assert state["OOMKilled"] is False
    assert state["ExitCode"] == 0, running.logs()
    assert '"message": "stopped"' in running.logs()


def test_sigterm_drains_first_then_exits_zero(start_container: StartContainer) -> None:
    """During the drain window /ready says 503 (so Kubernetes stops routing) while /health
    stays 200 (so it is not restarted); then the server exits 0 on its own."""
    running = start_container(MCP_SHUTDOWN_DRAIN_SECONDS="5")
    running.container.kill(signal="SIGTERM")
    assert httpx.get(f"{running.base_url}/ready", timeout=5).status_code == 503
    assert httpx.get(f"{running.base_url}/health", timeout=5).status_code == 200
    result = running.container.wait(timeout=STOP_GRACE_SECONDS + 5)
    assert result["StatusCode"] == 0, running.logs()
