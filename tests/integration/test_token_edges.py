"""Edges of the static-token path over the real transport: odd claims and deny-list files.

A signed token with an absurd `exp`, a scope string split on a Unicode space, a
deny-list saved with a byte order mark or rewritten in place with its old mtime,
a deny-list whose re-read blocks: each against `python -m app` under uvicorn.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import jwt

from app.tokens import mint_token
from tests.helpers import eventually
from tests.server_process import ServerProcess, StartServer

ACCEPT = "application/json, text/event-stream"


def _call(server: ServerProcess, token: str, tool: str, timeout: float = 15) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Accept": ACCEPT}
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": tool, "arguments": {}},
    }
    return httpx.post(server.url, headers=headers, json=message, timeout=timeout)


def _list(server: ServerProcess, token: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Accept": ACCEPT}
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    return httpx.post(server.url, headers=headers, json=message, timeout=15)


def _signed(signing_key: str, **claims: Any) -> str:
    now = int(time.time())
    base = {
        "sub": "learner",
        "iss": "secure-mcp-server",
        "aud": "mcp-server",
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(base | claims, signing_key, algorithm="HS256")


def _minted(signing_key: str) -> tuple[str, str]:
    """A `make token` token and its jti."""
    token = mint_token(signing_key, "learner", ["public:read"])
    return token, str(jwt.decode(token, options={"verify_signature": False})["jti"])


def test_an_exp_far_in_the_past_is_a_401(server: ServerProcess, signing_key: str) -> None:
    answer = _call(server, _signed(signing_key, exp=-(10**18)), "get_public_info")
    assert answer.status_code == 401
    assert "the token expired at an earlier time" in answer.headers["www-authenticate"]


def test_scope_splits_on_ascii_space_only(server: ServerProcess, signing_key: str) -> None:
    # One scope token "public:read\u2003confidential:read" (RFC 6749 3.3), which names nothing.
    token = _signed(signing_key, scope="public:read\u2003confidential:read")
    assert _call(server, token, "get_confidential_info").status_code == 403
    assert _call(server, token, "get_public_info").status_code == 403
    assert _list(server, token).json()["result"]["tools"] == []


def test_a_denylist_with_a_byte_order_mark_denies_its_first_id(
    start_server: StartServer, signing_key: str, tmp_path: Path
) -> None:
    token, jti = _minted(signing_key)
    denylist = tmp_path / "revoked"
    denylist.write_bytes(b"\xef\xbb\xbf" + jti.encode() + b"\r\n")  # as Notepad saves it
    server = start_server(MCP_JWT_DENYLIST_FILE=str(denylist))
    answer = _call(server, token, "get_public_info")
    assert answer.status_code == 401
    assert "revoked" in answer.headers["www-authenticate"]


def test_a_denylist_rewritten_in_place_with_its_old_mtime_is_read_again(
    start_server: StartServer, signing_key: str, tmp_path: Path
) -> None:
    token, jti = _minted(signing_key)
    denylist = tmp_path / "revoked"
    denylist.write_text(secrets.token_urlsafe(16) + "\n")  # another id, of the same length
    server = start_server(MCP_JWT_DENYLIST_FILE=str(denylist))
    assert _call(server, token, "get_public_info").status_code == 200

    # The new list, the same size, given the old file's mtime; `cp -p` then writes
    # it into the same inode and sets that mtime back.
    staged = tmp_path / "staged"
    staged.write_text(jti + "\n")
    subprocess.run(["touch", "-r", str(denylist), str(staged)], check=True)
    inode = denylist.stat().st_ino
    subprocess.run(["cp", "-p", str(staged), str(denylist)], check=True)
    assert denylist.stat().st_ino == inode
    assert denylist.stat().st_size == staged.stat().st_size

    assert eventually(lambda: _call(server, token, "get_public_info").status_code == 401), (
        "the rewritten deny-list was never read again"
    )


def test_the_denylist_reread_does_not_hold_up_the_server(
    start_server: StartServer, signing_key: str, tmp_path: Path
) -> None:
    # The new list is a FIFO: reading it blocks until the test writes into it,
    # as a huge list would take seconds to read. Meanwhile the server must answer.
    denylist = tmp_path / "revoked"
    denylist.write_text("# none yet\n")
    server = start_server(MCP_JWT_DENYLIST_FILE=str(denylist))
    token, jti = _minted(signing_key)
    fifo = tmp_path / "revoked.fifo"
    os.mkfifo(fifo)
    os.replace(fifo, denylist)  # a new inode at the path, as kubelet's swap makes
    time.sleep(1.2)  # past the once-a-second look at the file
    # This request starts the re-read (and waits for it); its answer comes later.
    waiting: dict[str, httpx.Response] = {}
    first = threading.Thread(
        target=lambda: waiting.update(answer=_call(server, token, "get_public_info", timeout=60))
    )
    first.start()
    try:
        time.sleep(0.5)
        # While the read is blocked: probes answer, other tokens are served.
        assert httpx.get(f"{server.base_url}/health", timeout=10).status_code == 200
        other = mint_token(signing_key, "other", ["public:read"])
        assert _call(server, other, "get_public_info", timeout=10).status_code == 200
    finally:
        with denylist.open("w") as writer:  # unblocks the reader
            writer.write(jti + "\n")
        first.join(timeout=60)
    assert waiting["answer"].status_code == 401  # the list it waited for revokes it


def test_the_shared_key_how_to_names_the_gke_command(server: ServerProcess) -> None:
    answer = httpx.post(f"{server.base_url}/register", json={"redirect_uris": []}, timeout=15)
    assert answer.status_code == 400
    description = answer.json()["error_description"]
    assert "make token SCOPES=" in description
    assert "mcp-key --project PROJECT token" in description
