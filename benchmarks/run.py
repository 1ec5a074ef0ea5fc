#!/usr/bin/env python3
"""What does auth cost? tools/call throughput and latency, auth on vs off, side by side.

Starts two server processes on loopback ports (the real server, and the same
app with auth switched off, benchmarks/server_without_auth.py), then drives
both with wrk in alternating rounds so machine noise hits both alike. The
servers share one CPU core and wrk gets the other, when the machine has two.
Bounded: rounds x duration seconds of load per server, loopback only.

Example:
  .venv/bin/python benchmarks/run.py --rounds 3 --duration 8
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.tokens import mint_token

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "benchmarks" / "tools_call.lua"
MAX_DURATION = 60


@dataclass(frozen=True)
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_request: float


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (Linux /proc), so other load cancels out."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pinned(command: list[str], cpu: int) -> list[str]:
    """Pin to one core so the load generator does not steal the server's CPU."""
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(cpu), *command]
    return command


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(module: str, key: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_")}
    env.update(
        {
            "MCP_PORT": str(port),
            "MCP_JWT_SECRET_KEY": key,
            # Large enough never to trigger, so the limiter's bookkeeping is still measured.
            "MCP_RATE_LIMIT_PER_MINUTE": "1000000000",
            "FASTMCP_LOG_ENABLED": "false",
        }
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            pinned([sys.executable, "-m", module], 0),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                return process, f"{base}/mcp"
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"error: {module} did not become ready; see {log}")


def wrk(url: str, token: str, seconds: int, connections: int, pid: int) -> Result:
    cpu_before = cpu_seconds(pid)
    command = pinned(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(LUA), url], 1
    )
    output = subprocess.run(
        command,
        env={**os.environ, "BENCH_TOKEN": token},
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    cpu = cpu_seconds(pid) - cpu_before
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    data = json.loads(line.removeprefix("BENCH "))
    if data["errors"]:
        raise SystemExit(f"error: {data['errors']} failed requests against {url}:\n{output}")
    return Result(
        data["requests"] / data["seconds"],
        data["p50_ms"],
        data["p99_ms"],
        cpu / data["requests"] * 1e6,
    )


def median(results: list[Result]) -> Result:
    return Result(
        statistics.median(r.requests_per_second for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        statistics.median(r.cpu_us_per_request for r in results),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument(
        "--duration", type=int, default=8, help=f"seconds per run, max {MAX_DURATION} (default 8)"
    )
    parser.add_argument("--connections", type=int, default=16, help="open connections (16)")
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= MAX_DURATION or not 1 <= args.rounds <= 10:
        parser.error(f"--duration must be 1..{MAX_DURATION} and --rounds 1..10")
    if shutil.which("wrk") is None:
        print(
            "error: wrk is not installed; run `make bench` or `apt-get install wrk`",
            file=sys.stderr,
        )
        return 2

    key = secrets.token_urlsafe(48)
    token = mint_token(key, "bench", ["public:read"], expires_in=3600)
    logs = Path(tempfile.mkdtemp(prefix="mcp-bench-"))
    servers = {
        "auth off": start("benchmarks.server_without_auth", key, logs / "off.log"),
        "auth on": start("app", key, logs / "on.log"),
    }
    tokens = {"auth off": "", "auth on": token}
    results: dict[str, list[Result]] = {name: [] for name in servers}
    try:
        for name, (process, url) in servers.items():  # warm up both before measuring
            wrk(url, tokens[name], 2, args.connections, process.pid)
        for round_number in range(args.rounds):
            order = list(servers) if round_number % 2 == 0 else list(reversed(servers))
            for name in order:
                process, url = servers[name]
                result = wrk(url, tokens[name], args.duration, args.connections, process.pid)
                results[name].append(result)
                print(
                    f"round {round_number + 1}/{args.rounds} {name:>8}: "
                    f"{result.requests_per_second:7.0f} req/s  p50 {result.p50_ms:6.2f} ms  "
                    f"p99 {result.p99_ms:6.2f} ms  cpu {result.cpu_us_per_request:5.0f} us/req",
                    file=sys.stderr,
                )
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=30)

    off, on = median(results["auth off"]), median(results["auth on"])
    print("| server | req/s | p50 ms | p99 ms | server CPU per request |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, r in (("auth off", off), ("auth on", on)):
        print(
            f"| {name} | {r.requests_per_second:.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} "
            f"| {r.cpu_us_per_request:.0f} us |"
        )
    ratio = on.requests_per_second / off.requests_per_second
    cpu_ratio = on.cpu_us_per_request / off.cpu_us_per_request
    print(f"\nauth on / auth off throughput: {ratio:.3f} (auth costs {100 * (1 - ratio):.1f}%)")
    print(f"auth on / auth off CPU per request: {cpu_ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
