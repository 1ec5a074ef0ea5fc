"""mcp-client says so when a token's scopes grant no tool."""

from __future__ import annotations

from collections.abc import Callable

from tests.server_process import ServerProcess, run_cli


def test_a_token_that_sees_no_tools_says_so(
    server: ServerProcess, token_for: Callable[..., str]
) -> None:
    result = run_cli("mcp-client", server.url, "--token", token_for(), "list")
    assert result.returncode == 0
    assert result.stdout == ""
    assert result.stderr == (
        "note: this token sees no tools: its scopes grant none. Mint one with a tool's scope, "
        "e.g. make token SCOPES=public:read\n"
    )


def test_a_token_that_sees_tools_prints_only_their_names(
    server: ServerProcess, token_for: Callable[..., str]
) -> None:
    result = run_cli("mcp-client", server.url, "--token", token_for("public:read"), "list")
    assert (result.returncode, result.stdout, result.stderr) == (0, "get_public_info\n", "")
