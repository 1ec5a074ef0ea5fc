"""The learner's commands exactly as the tutorial shows them, run as real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import tomllib
from pathlib import Path

import jwt
import pytest

from app.tokens import DEFAULT_AUDIENCE, DEFAULT_ISSUER, mint_token
from tests.helpers import ROOT
from tests.server_process import (
    READY_TIMEOUT,
    ServerProcess,
    clean_env,
    free_port,
    run_cli,
    wait_until_ready,
)

# The console scripts pyproject.toml declares (make install puts them in .venv/bin).
DECLARED = sorted(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"])


@pytest.fixture
def key_file(tmp_path: Path, signing_key: str) -> Path:
    path = tmp_path / "key"
    path.write_text(signing_key + "\n")
    return path


@pytest.mark.parametrize("name", DECLARED)
def test_every_declared_command_is_installed_and_answers_help(name: str) -> None:
    """The entry point resolves to a module and function that run, under its own name."""
    result = run_cli(name, "--help")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith(f"usage: {name} ")


def test_mcp_token_prints_only_a_valid_token(key_file: Path, signing_key: str) -> None:
    result = run_cli(
        "mcp-token",
        "--sub",
        "alice",
        "--scopes",
        "public:read,confidential:read",
        "--expires-in",
        "600",
        "--secret-file",
        str(key_file),
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout == token + "\n"
    claims = jwt.decode(token, signing_key, algorithms=["HS256"], audience=DEFAULT_AUDIENCE)
    assert claims["sub"] == "alice"
    assert claims["iss"] == DEFAULT_ISSUER
    assert claims["scope"] == "public:read confidential:read"
    assert claims["exp"] - claims["iat"] == 600
    # A random id per token, printed on stderr so it can be revoked later.
    assert len(claims["jti"]) >= 16
    assert result.stderr == f"jti: {claims['jti']}\n"


def test_mcp_token_key_order(key_file: Path, signing_key: str) -> None:
    other = "z" * 40
    from_flag = run_cli(
        "mcp-token",
        "--sub",
        "a",
        "--secret",
        other,
        env={"MCP_JWT_SECRET_KEY": signing_key},
    ).stdout.strip()
    jwt.decode(from_flag, other, algorithms=["HS256"], audience=DEFAULT_AUDIENCE)
    from_env = run_cli(
        "mcp-token", "--sub", "a", env={"MCP_JWT_SECRET_KEY": signing_key}
    ).stdout.strip()
    jwt.decode(from_env, signing_key, algorithms=["HS256"], audience=DEFAULT_AUDIENCE)


def test_mcp_token_falls_back_to_the_checkouts_dev_key(tmp_path: Path) -> None:
    """No key given: the checkout's .dev/jwt-secret (make's), from any working directory."""
    made = subprocess.run(
        ["make", "-s", ".dev/jwt-secret"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert made.returncode == 0, made.stderr
    result = run_cli("mcp-token", "--sub", "a", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    dev_key = (ROOT / ".dev" / "jwt-secret").read_text().strip()
    jwt.decode(result.stdout.strip(), dev_key, algorithms=["HS256"], audience=DEFAULT_AUDIENCE)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sub", "a", "--secret", "short"], "at least 32 bytes"),
        (["--sub", "a", "--secret-file", "/nonexistent"], "cannot read the key file"),
        (["--sub", "a", "--secret", "x" * 40, "--expires-in", "0"], "expires_in"),
        (["--scopes", "public:read"], "--sub"),
    ],
)
def test_mcp_token_errors(args: list[str], message: str) -> None:
    result = run_cli("mcp-token", *args)
    assert result.returncode != 0
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_client_lists_and_calls_through_the_scopes(server: ServerProcess, key_file: Path) -> None:
    def token(scopes: str) -> str:
        result = run_cli(
            "mcp-token",
            "--sub",
            "learner",
            "--scopes",
            scopes,
            "--secret-file",
            str(key_file),
        )
        return result.stdout.strip()

    public, full = token("public:read"), token("public:read,confidential:read")
    listed = run_cli("mcp-client", server.url, "--token", public, "list")
    assert (listed.returncode, listed.stdout) == (0, "get_public_info\n")
    listed = run_cli("mcp-client", server.url, "--token", full, "list")
    assert listed.stdout == "get_public_info\nget_confidential_info\n"

    called = run_cli("mcp-client", server.url, "--token", full, "call", "get_confidential_info")
    assert called.returncode == 0
    assert called.stdout.startswith("# Secure MCP Server: confidential information")

    refused = run_cli("mcp-client", server.url, "--token", public, "call", "get_confidential_info")
    assert refused.returncode == 1
    assert refused.stderr == (
        "error: 403 Forbidden: insufficient_scope, the call needs the scope confidential:read\n"
    )
    anonymous = run_cli("mcp-client", server.url, "list")
    assert anonymous.returncode == 1
    assert anonymous.stderr == (
        "error: 401 Unauthorized: this server needs a bearer token: send 'Authorization: "
        "Bearer <token>'; mint one (make token, or mcp-key token on GKE)\n"
    )


def test_client_reports_an_unreachable_server() -> None:
    result = run_cli("mcp-client", "http://127.0.0.1:9/mcp", "--token", "t", "list")
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot reach http://127.0.0.1:9/mcp")


def test_make_token_mints_with_the_dev_key() -> None:
    result = subprocess.run(
        ["make", "-s", "token", "SCOPES=public:read,confidential:read", "SUB=maker"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    dev_key = (ROOT / ".dev" / "jwt-secret").read_text().strip()
    claims = jwt.decode(token, dev_key, algorithms=["HS256"], audience=DEFAULT_AUDIENCE)
    assert claims["sub"] == "maker"
    assert claims["scope"] == "public:read confidential:read"
    assert ((ROOT / ".dev" / "jwt-secret").stat().st_mode & 0o077) == 0  # private to the owner


def test_make_run_serves_with_the_dev_key(tmp_path: Path) -> None:
    """`make run` from the README: the server answers, then stops cleanly on SIGTERM."""
    port = free_port()
    process = subprocess.Popen(
        ["make", "-s", "run"],
        cwd=ROOT,
        env=clean_env(MCP_PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        wait_until_ready(
            f"http://127.0.0.1:{port}",
            lambda: process.poll() is not None,
            lambda: "make run exited",
            timeout=READY_TIMEOUT + 60,  # make checks its installs first
        )
        dev_key = (ROOT / ".dev" / "jwt-secret").read_text().strip()
        token = mint_token(dev_key, "learner", ["public:read"])
        listed = run_cli("mcp-client", f"http://127.0.0.1:{port}/mcp", "--token", token, "list")
        assert listed.stdout == "get_public_info\n"
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the learner's terminal
        try:
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # never leave make or the server running
            process.communicate()
            raise
    # make reports the interrupt itself; the server inside drained and stopped cleanly.
    assert "stopped" in output
    assert "Traceback" not in output
    assert "make token SCOPES=public:read" in output  # it tells the learner how to get a token
