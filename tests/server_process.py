"""Start `python -m app` as a real process on a free loopback port, and stop it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

from tests.helpers import ROOT


def clean_env(**overrides: str) -> dict[str, str]:
    """This process's environment without any MCP_* setting, plus `overrides`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MCP_")}
    environment.update(overrides)
    return environment


def run_python(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python ARGS` from the repository root with a clean MCP_* environment."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=clean_env(**(env or {})),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_cli(
    name: str, *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """Run one of the project's console scripts (mcp-token, ...) as the learner does.

    The script `make install` put beside the tests' interpreter (.venv/bin/NAME),
    from the repository root (or `cwd`) with a clean MCP_* environment.
    """
    script = Path(sys.executable).with_name(name)
    assert script.is_file(), f"{script} is missing: run make install"
    # The checkout under test's mcp_cli, as `python -m app` takes its app from the
    # working directory: the same code as the editable install's, except in a copy
    # of the checkout that borrows this venv (tests/docs/fork.py).
    return subprocess.run(
        [str(script), *args],
        cwd=cwd,
        env=clean_env(**{"PYTHONPATH": str(ROOT), **(env or {})}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# A start takes ~4 s here (no bytecode cache); a busy 2-core laptop can take many
# times that. The deadline only bounds a hang: a ready server returns at once.
READY_TIMEOUT = 90.0


def wait_until_ready(
    base_url: str,
    exited: Callable[[], bool],
    logs: Callable[[], str],
    timeout: float | None = None,
) -> None:
    """Poll `base_url`/ready until it answers 200; fail with the logs if the server dies first."""
    timeout = READY_TIMEOUT if timeout is None else timeout
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if exited():
            raise RuntimeError(f"server exited before it was ready:\n{logs()}")
        try:
            if httpx.get(f"{base_url}/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not ready after {timeout}s:\n{logs()}")


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM, and SIGKILL if the process has not ended within `timeout` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """One server process; its combined output goes to a log file the test can read."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base_url}/mcp"
        self.log_path = log_dir / f"server-{self.port}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        environment = clean_env(**{"MCP_PORT": str(self.port), "MCP_LOG_FORMAT": "json", **env})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app"],
            cwd=ROOT,
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_ready(self.base_url, lambda: self.process.poll() is not None, self.logs)
        except BaseException:
            # Nobody holds this object yet, so nobody else could stop the process.
            self.stop()
            raise

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 30.0) -> int:
        code = self.process.wait(timeout=timeout)
        self._log.close()
        return code

    def stop(self) -> None:
        if self.process.poll() is None:
            self.terminate()
            try:
                self.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self._log.closed:
            self._log.close()


StartServer = Callable[..., ServerProcess]


@contextmanager
def server_starter(log_dir: Path, base_env: dict[str, str]) -> Iterator[StartServer]:
    """`start(**env)` starts a server with `base_env` updated by `env`; every server it
    started is stopped when the block ends, however it ends."""
    started: list[ServerProcess] = []

    def start(**env: str) -> ServerProcess:
        server = ServerProcess(log_dir, {**base_env, **env})
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()
