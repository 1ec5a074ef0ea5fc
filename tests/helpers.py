"""Shared test helpers: tool lookup, and skipping that turns into failure in CI."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS_BIN = ROOT / ".tools" / "bin"


def in_ci() -> bool:
    """CI sets CI=true; there a missing tool or engine is a failure, not a skip."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    """Skip the calling test with `reason` when `condition` is false (fail under CI=true)."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"required under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def tool(name: str) -> str:
    """Path of a validator installed by `make tools` (or on PATH); skips/fails if absent."""
    candidate = TOOLS_BIN / name
    path = str(candidate) if candidate.exists() else shutil.which(name)
    require(path is not None, f"{name} not installed; run `make tools`")
    assert path is not None
    return path


class StubHandler(BaseHTTPRequestHandler):
    """A quiet request handler for the stand-in servers tests run on loopback."""

    def answer(self, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def loopback_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` on a free loopback port for the block; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # shutdown() waits for the loop's next poll: 0.5 s by default, at every test's end.
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def eventually(check: Callable[[], bool], within: float = 15.0, every: float = 0.2) -> bool:
    """Poll `check` until it holds or `within` seconds pass; for state a server reaches later."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True
