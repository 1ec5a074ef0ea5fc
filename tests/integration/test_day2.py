"""Day 2 on a real server process: keys and deny-list follow their files as kubelet swaps them.

The files are laid out the way kubelet lays out a Secret or ConfigMap volume:
`name -> ..data/name`, `..data -> ..<timestamp>/`, and an update is an atomic
rename of a new `..data` link onto the old one. Every assertion is made on the
same process (same PID): no restart.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import httpx
import jwt

from app.tokens import mint_token
from tests.integration.kubelet import KEY_A, KEY_B, KubeletVolume, wait_for
from tests.server_process import ServerProcess

CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_public_info"}}
ACCEPT = "application/json, text/event-stream"


def status(server: ServerProcess, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}", "Accept": ACCEPT}
    return httpx.post(server.url, json=CALL, headers=headers, timeout=10).status_code


def test_rotation_and_revocation_without_a_restart(
    mounted_server: tuple[ServerProcess, KubeletVolume, KubeletVolume],
) -> None:
    server, keys, revoked = mounted_server
    pid = server.process.pid
    token_a = mint_token(KEY_A, "alice", ["public:read"])
    token_b = mint_token(KEY_B, "alice", ["public:read"])
    assert status(server, token_a) == 200
    assert status(server, token_b) == 401

    # 1. Rotate: B becomes current, A stays as the previous key. A client keeps
    #    calling with A's token throughout: no request may fail.
    failures: list[int] = []
    stop = threading.Event()

    def keep_calling() -> None:
        while not stop.is_set():
            code = status(server, token_a)
            if code != 200:
                failures.append(code)

    caller = threading.Thread(target=keep_calling)
    caller.start()
    try:
        keys.update({"current": KEY_B, "previous": KEY_A})
        reload_seconds = wait_for(lambda: status(server, token_b) == 200)
    finally:
        stop.set()
        caller.join()
    assert failures == []
    print(f"key reload picked up in {reload_seconds:.2f} s")  # reported in the closing note

    # 2. The rotation ends: A is no longer mounted and stops verifying.
    keys.update({"current": KEY_B})
    wait_for(lambda: status(server, token_a) == 401)
    assert status(server, token_b) == 200

    # 3. Revoke one token by its jti; another token of the same key still works.
    other_b = mint_token(KEY_B, "bob", ["public:read"])
    jti = jwt.decode(token_b, options={"verify_signature": False})["jti"]
    revoked.update({"jti": f"# leaked 2026-12-01\n{jti}  # alice's laptop\n"})
    wait_for(lambda: status(server, token_b) == 401)
    assert status(server, other_b) == 200

    # 4. A key that fails validation is refused; the last good keys stay.
    keys.update({"current": "too-short"})
    time.sleep(1.5)
    assert status(server, other_b) == 200
    assert httpx.get(f"{server.base_url}/ready").status_code == 200
    assert server.process.pid == pid
    assert server.process.poll() is None

    metrics = httpx.get(f"{server.base_url}/metrics").text
    assert 'mcp_auth_decisions_total{outcome="denied",reason="revoked"}' in metrics
    server.stop()
    entries = [json.loads(line) for line in server.logs().splitlines() if line.startswith("{")]
    loaded = [e for e in entries if e.get("message") == "signing keys loaded"]
    assert [len(e["fingerprints"]) for e in loaded] == [2, 1]
    assert all(len(fp) == 12 for e in loaded for fp in e["fingerprints"])
    refused = [e for e in entries if e.get("message", "").startswith("file refused")]
    assert [e["setting"] for e in refused] == ["MCP_JWT_SECRET_FILE"]
    assert any(e.get("reason") == "revoked" for e in entries)
    text = server.logs()
    for secret in (KEY_A, KEY_B, "too-short", token_a, token_b, other_b):
        assert secret not in text


def test_request_lines_are_what_cloud_logging_reads(
    start_server: Callable[..., ServerProcess], token_for: Callable[..., str]
) -> None:
    server = start_server(MCP_GCP_PROJECT_ID="mcp-demo-123456", MCP_RATE_LIMIT_PER_MINUTE="0")
    trace_id, span_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    token = token_for("public:read")
    answer = httpx.post(
        f"{server.url}?access_token={token}",
        json=CALL,
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": ACCEPT,
            "User-Agent": "day2-test/1.0",
            "traceparent": f"00-{trace_id}-{span_id}-01",
        },
    )
    httpx.post(server.url, json=CALL, headers={"Accept": ACCEPT})  # no token: 401
    server.stop()
    entries = [json.loads(line) for line in server.logs().splitlines() if line.strip()]
    assert {e["severity"] for e in entries} <= {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
    assert all("level" not in e and e["message"] for e in entries)
    served, refused = [e for e in entries if e["message"] == "request"]
    assert served["httpRequest"] == {
        "requestMethod": "POST",
        "requestUrl": "/mcp",  # never the query string
        "status": 200,
        "latency": served["httpRequest"]["latency"],
        "userAgent": "day2-test/1.0",
        "remoteIp": "127.0.0.1",
        "responseSize": str(len(answer.content)),
        "protocol": "HTTP/1.1",
    }
    assert served["httpRequest"]["latency"].endswith("s")
    float(served["httpRequest"]["latency"][:-1])
    assert served["logging.googleapis.com/trace"] == f"projects/mcp-demo-123456/traces/{trace_id}"
    assert served["logging.googleapis.com/spanId"] == span_id
    assert served["logging.googleapis.com/trace_sampled"] is True  # flags 01
    assert refused["httpRequest"]["status"] == 401
    assert "logging.googleapis.com/trace" not in refused
    assert token not in server.logs()
