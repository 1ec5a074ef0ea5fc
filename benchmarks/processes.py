"""What the benchmarks need to know about the server processes they start (Linux /proc)."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path


def pinned(command: list[str], cpu: int) -> list[str]:
    """Pin to one core so the load generator does not steal the server's CPU."""
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(cpu), *command]
    return command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mb(pid: int) -> float:
    """Resident memory of the process now, in MB (VmRSS; what a pod's memory limit counts)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1000
    raise RuntimeError(f"no VmRSS for process {pid}")
