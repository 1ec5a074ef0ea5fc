"""The upstream identity provider of the sign-in tests: one `oidc-provider-mock` per process.

One per process rather than per pytest session: `make mutate` runs each
mutant's tests as a new session in a child forked from a process that has
started the provider already, and starting one per mutant was most of that
run's time. This module (unlike conftest.py, which pytest imports afresh each
session) keeps the running one across sessions. It stops when the process
that started it ends, however that ends.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import httpx

from tests.helpers import ROOT, require
from tests.server_process import free_port, stop

# The people the provider knows; the policy in conftest.py decides what each may do.
PEOPLE = {
    "alice": {"email": "alice@example.com", "email_verified": True, "groups": []},
    "bob": {"email": "bob@partner.example", "email_verified": True, "groups": []},
    "carol": {"email": "carol@partner.example", "email_verified": False, "groups": []},
    "dave": {"email": "dave@elsewhere.example", "email_verified": True, "groups": ["auditors"]},
    "mallory": {"email": "mallory@elsewhere.example", "email_verified": True, "groups": []},
    # Claims Alice's address, which the provider has not verified: must not act as Alice.
    "eve": {"email": "alice@example.com", "email_verified": False, "groups": ["auditors"]},
}


class Process:
    """A helper process whose output goes to a file shown when it fails."""

    def __init__(
        self, args: list[str], log_path: Path, preexec_fn: Callable[[], None] | None = None
    ) -> None:
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("wb")
        self.process = subprocess.Popen(
            args, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, preexec_fn=preexec_fn
        )

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop(self.process)
        self._log.close()


def wait_until(
    check: Callable[[], bool], process: Process, what: str, timeout: float = 20.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.process.poll() is not None:
            raise RuntimeError(f"{what} exited before it was ready:\n{process.logs()}")
        try:
            if check():
                return
        except (httpx.TransportError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready after {timeout}s:\n{process.logs()}")


# Built once: each new one loads the CA bundle (60 ms), and a forked session asks once.
_TLS = ssl.create_default_context()


def _serving(base: str) -> bool:
    try:
        return httpx.get(f"{base}/.well-known/openid-configuration", verify=_TLS).is_success
    except httpx.TransportError:
        return False


def _die_with_the_starter() -> None:
    """Run in the provider's process before it starts: SIGTERM when its starter ends.

    Also when that ends by os._exit (mutmut's forks) or SIGKILL, which skip
    atexit. Linux only (prctl); elsewhere atexit alone stops it.
    """
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


_running: str | None = None  # the base URL of this process's provider, once started


def provider(log_dir: Path) -> str:
    """The base URL of a running provider (its /.well-known/openid-configuration answers)."""
    global _running
    if _running is not None and _serving(_running):
        return _running
    try:
        import oidc_provider_mock  # noqa: F401  (only checking that it is installed)
    except ImportError:
        require(False, "oidc-provider-mock is not installed; run `make install`")
    port = free_port()
    args = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port)]
    for sub, claims in PEOPLE.items():
        args += ["--user-claims", json.dumps({"sub": sub, **claims})]
    process = Process(args, log_dir / "provider.log", preexec_fn=_die_with_the_starter)
    starter = os.getpid()

    def stop_in_the_starter() -> None:  # a fork that exits normally leaves it running
        if os.getpid() == starter:
            process.stop()

    atexit.register(stop_in_the_starter)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _serving(base), process, "oidc-provider-mock")
    except BaseException:
        process.stop()
        raise
    _running = base
    return base
