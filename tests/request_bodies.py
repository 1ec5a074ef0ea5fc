"""Send request bodies the way an attacker would, over a raw socket to a real server process.

httpx cannot show what these tests need: it sends the whole body before it
reads an answer, and it never stalls half way. Here the body is streamed a
chunk at a time (never held in memory), the answer is read as soon as the
server gives one, and a body can stop arriving.
"""

from __future__ import annotations

import json
import select
import socket
import time
from dataclasses import dataclass
from typing import Any

import httpx

from app.jsonrpc_body import MAX_BODY_BYTES, MAX_DEPTH
from tests.server_process import ServerProcess

MIB = 1024 * 1024
# What reading one 100 MiB body would add is far above this; a bounded read stays far below.
RSS_GROWTH_MIB = 48
CHUNK = b"[" * (64 * 1024)  # JSON-looking, so no parser gives up early for the wrong reason


@dataclass
class Answer:
    status: int | None  # None: the server closed without answering
    headers: dict[str, str]
    body: bytes
    sent: int  # body bytes the client got to send before the server answered or closed

    def json(self) -> Any:
        return json.loads(self.body)


def _parse(raw: bytes, sent: int) -> Answer:
    head, _, body = raw.partition(b"\r\n\r\n")
    if not head:
        return Answer(None, {}, b"", sent)
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return Answer(int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body, sent)


def _request_head(port: int, path: str, headers: dict[str, str]) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _read_until_closed(sock: socket.socket, deadline: float) -> bytes:
    raw = b""
    while time.monotonic() < deadline:
        try:
            piece = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not piece:
            break
        raw += piece
        if b"\r\n\r\n" in raw and _complete(raw):
            break
    return raw


def _complete(raw: bytes) -> bool:
    head, _, body = raw.partition(b"\r\n\r\n")
    for line in head.decode("latin-1").split("\r\n"):
        if line.lower().startswith("content-length:"):
            return len(body) >= int(line.split(":", 1)[1])
    return False


def stream_body(
    port: int,
    path: str,
    total: int,
    headers: dict[str, str] | None = None,
    *,
    declare_length: bool = True,
    timeout: float = 60.0,
) -> Answer:
    """POST `total` bytes to `path`, a chunk at a time; stop at the server's answer or close.

    With `declare_length` the request says Content-Length: total; without, the
    body is sent chunked, so the server can only count what arrives.
    """
    fields = {"Content-Type": "application/json", **(headers or {})}
    if declare_length:
        fields["Content-Length"] = str(total)
    else:
        fields["Transfer-Encoding"] = "chunked"
    deadline = time.monotonic() + timeout
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(_request_head(port, path, fields))
        while sent < total and time.monotonic() < deadline:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break  # the server answered (or closed) before the body was complete
            piece = CHUNK[: total - sent]
            frame = piece if declare_length else b"%x\r\n%s\r\n" % (len(piece), piece)
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        else:
            if not declare_length:
                sock.sendall(b"0\r\n\r\n")
        return _parse(_read_until_closed(sock, deadline), sent)


def stalled_body(port: int, path: str, *, timeout: float) -> tuple[Answer, bool]:
    """Announce a 100-byte body, send one byte, stall: the answer, and whether the server closed."""
    fields = {"Content-Type": "application/json", "Content-Length": "100"}
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(_request_head(port, path, fields) + b"{")
        answer = _parse(_read_until_closed(sock, deadline), 1)
        return answer, _closed(sock, deadline)


def _closed(sock: socket.socket, deadline: float) -> bool:
    """Whether the server closed the connection before `deadline` (EOF or reset)."""
    while time.monotonic() < deadline:
        try:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            if sock.recv(1) == b"":
                return True
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
    return False


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


def assert_refused_unread(
    server: ServerProcess, path: str, peak_before: float, *, declare_length: bool
) -> None:
    """A 110 MiB body to `path` is 413 at the first MiB, and the server's peak memory stays flat."""
    answer = stream_body(server.port, path, 110 * MIB, declare_length=declare_length)
    assert answer.status == 413, answer
    assert answer.json()["error"] == "request_too_large"
    assert str(MAX_BODY_BYTES) in answer.json()["error_description"]
    assert answer.headers["connection"] == "close"
    assert answer.sent < 100 * MIB  # the server stopped reading long before the end
    assert peak_rss_mib(server.process.pid) < peak_before + RSS_GROWTH_MIB


def assert_deep_json_refused(
    server: ServerProcess, path: str, content_type: str = "application/json"
) -> None:
    """5,000-deep JSON to `path` is a 400 saying why, never a 500 or a traceback."""
    deep = b"[" * 5000 + b"]" * 5000
    response = httpx.post(
        f"{server.base_url}{path}", content=deep, headers={"Content-Type": content_type}
    )
    assert response.status_code == 400, response.text
    assert response.json() == {
        "error": "invalid_request",
        "error_description": f"the request body: the body nests deeper than {MAX_DEPTH} levels",
    }
    assert "Traceback" not in server.logs()
