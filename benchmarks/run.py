#!/usr/bin/env python3
"""What does the secured server cost, against itself without auth and against stock FastMCP?

Starts one process per variant on loopback ports and drives them with wrk in
rounds: every variant once a round, the order reversed every other round, and
each ratio is the median of its per-round ratios, so a load spike on the
machine lands on both sides of a ratio, or on one round only:

  peer          stock FastMCP (benchmarks/peer_fastmcp.py --stock): the same
                tool, stateless JSON, no auth, uvicorn as `pip install fastmcp`
                brings it (h11 parser), asyncio loop
  peer httptools  the same peer under uvicorn's defaults in this venv, which
                pick up httptools (as with uvicorn[standard] installed)
  auth off      this server with no auth provider (benchmarks/server_without_auth.py)
  auth on (gc 700)  this server with Python's default garbage-collector
                threshold (benchmarks/server_default_gc.py): what app's own gives
  auth on       this server, `python -m app`, every guard on (the rate limit off)
  limits in memory  auth on with the per-subject rate limit on too, counted in
                the process (a budget no request reaches: the cost, not 429s)
  limits in Redis  the same, both limits counted in a local redis-server
                (MCP_RATE_LIMIT_STORAGE_URL)
  sign-in token  sign-in mode, its state in that redis-server, called with the
                OAuth proxy's own token for a person signed in at the test
                provider (benchmarks/stores.py); limits as "limits in memory"

The servers share one CPU core and wrk (and redis-server, which in a cluster
runs elsewhere) gets the other, when the machine has two. Bounded: rounds x
duration seconds of load per variant, loopback only. With --write, the
results table and the picture go into docs/.

Example:
  .venv/bin/python -m benchmarks.run --rounds 6 --duration 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import httpx

from app.tokens import mint_token
from benchmarks.processes import free_port, pinned, rss_mb
from benchmarks.stores import POLICY, oidc_provider, redis_server, signin_token

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "benchmarks" / "tools_call.lua"
DOC = ROOT / "docs" / "benchmarks.md"
PICTURE = ROOT / "docs" / "benchmarks.png"
MAX_DURATION = 60
MAX_ROUNDS = 20
# docs/benchmarks.md's results live between these two lines; the rest is prose.
BEGIN = "<!-- results: written by benchmarks/run.py --write; do not edit by hand -->"
END = "<!-- end of results -->"


@dataclass(frozen=True)
class Variant:
    name: str
    command: list[str]
    token: str  # "" (none), "static" (make token's kind) or "signin" (the OAuth proxy's)
    stock_env: bool  # the peer runs with FastMCP's defaults, not this project's settings
    # MCP_* settings on top of start()'s; {redis}, {oidc}, {policy}, {public} filled in.
    env: tuple[tuple[str, str], ...] = ()


# A budget no run reaches: the limit's cost is measured, not its 429s.
LIMITS = (("MCP_RATE_LIMIT_PER_MINUTE", "1000000"),)
SIGNIN = (
    ("MCP_OIDC_CONFIG_URL", "{oidc}"),
    ("MCP_OIDC_CLIENT_ID", "benchmark"),
    ("MCP_OIDC_CLIENT_SECRET", "{client_secret}"),
    ("MCP_SCOPE_POLICY_FILE", "{policy}"),
    ("MCP_OAUTH_STORAGE_URL", "{redis}"),
    ("MCP_PUBLIC_URL", "{public}"),
)
# In the order of a round: each goal's baseline (limits in memory) stands between
# the two variants measured against it, so each pair runs back to back.
VARIANTS = (
    Variant("peer", ["-m", "benchmarks.peer_fastmcp", "--stock"], "", True),
    Variant("peer httptools", ["-m", "benchmarks.peer_fastmcp"], "", True),
    Variant("auth off", ["-m", "benchmarks.server_without_auth"], "", False),
    Variant("auth on (gc 700)", ["-m", "benchmarks.server_default_gc"], "static", False),
    Variant("auth on", ["-m", "app"], "static", False),
    Variant(
        "limits in Redis",
        ["-m", "app"],
        "static",
        False,
        (*LIMITS, ("MCP_RATE_LIMIT_STORAGE_URL", "{redis}")),
    ),
    Variant("limits in memory", ["-m", "app"], "static", False, LIMITS),
    Variant("sign-in token", ["-m", "app"], "signin", False, (*LIMITS, *SIGNIN)),
)
# The goals: (variant, baseline, least throughput ratio).
COMPARED = (
    ("limits in Redis", "limits in memory", 0.8),
    ("sign-in token", "limits in memory", 0.7),
)


@dataclass(frozen=True)
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_request: float


@dataclass
class Server:
    variant: Variant
    process: subprocess.Popen[bytes]
    url: str
    ready_seconds: float
    results: list[Result]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (Linux /proc), so other load cancels out."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(variant: Variant, key: str, log: Path, context: dict[str, str]) -> Server:
    port = free_port()
    drop = ("MCP_", "FASTMCP_") if variant.stock_env else ("MCP_",)
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    if variant.stock_env:
        variant_command = [*variant.command, "--port", str(port)]
        # The one default changed: the banner's update check would ask PyPI at
        # every start, making the peer's start a network measurement.
        env["FASTMCP_CHECK_FOR_UPDATES"] = "off"
    else:
        variant_command = variant.command
        env.update(
            {
                "MCP_PORT": str(port),
                "MCP_JWT_SECRET_KEY": key,
                # Off for the benchmark: one subject sends every request, so any
                # real budget would turn the measurement into a count of 429s.
                "MCP_RATE_LIMIT_PER_MINUTE": "0",
            }
        )
    base = f"http://127.0.0.1:{port}"
    env.update({name: value.format(**context, public=base) for name, value in variant.env})
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(
            pinned([sys.executable, *variant_command], 0),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    # Ready = the first HTTP answer of any kind: the peer has no /ready route,
    # and uvicorn answers nothing before the app's startup has finished.
    deadline = started + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/ready", timeout=1)
            return Server(variant, process, f"{base}/mcp", time.monotonic() - started, [])
        except httpx.TransportError:
            time.sleep(0.02)
    process.kill()
    raise SystemExit(f"error: {variant.name} did not become ready; see {log}")


def run_wrk(url: str, token: str, seconds: int, connections: int, *options: str) -> str:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", *options, "-s", str(LUA), url]
    return subprocess.run(
        pinned(command, 1),
        env={**os.environ, "BENCH_TOKEN": token},
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout


def warm_up(url: str, token: str, connections: int) -> None:
    """Two seconds of load, not measured, with up to 30 s for each answer.

    A first call can take seconds on a busy machine (the stock peer's first
    tool call, a sign-in token's first check); wrk's own 2 s would drop it.
    """
    run_wrk(url, token, 2, connections, "--timeout", "30s")


def wrk(url: str, token: str, seconds: int, connections: int, pid: int) -> Result:
    cpu_before = cpu_seconds(pid)
    output = run_wrk(url, token, seconds, connections, "--latency")
    cpu = cpu_seconds(pid) - cpu_before
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    data = json.loads(line.removeprefix("BENCH "))
    if data["errors"] or not data["requests"]:
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


@dataclass(frozen=True)
class Ratio:
    """One variant over another: the median of the per-round ratios, and their range."""

    median: float
    low: float
    high: float

    def spread(self) -> str:
        return f"{self.median:.3f} (rounds {self.low:.2f} to {self.high:.2f})"


def ratio(a: Server, b: Server, field: str) -> Ratio:
    """a over b, round by round: both were measured in the same round, close in time."""
    pairs = zip(a.results, b.results, strict=True)
    per_round = [getattr(x, field) / getattr(y, field) for x, y in pairs]
    return Ratio(statistics.median(per_round), min(per_round), max(per_round))


def report(servers: list[Server], rss: dict[str, float], argv: list[str]) -> str:
    """The results as markdown: the table, the ratios, and where they were measured."""
    medians = {s.variant.name: median(s.results) for s in servers}
    by_name = {s.variant.name: s for s in servers}
    lines = [
        f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, FastMCP {version('fastmcp')}, "
        f"uvicorn {version('uvicorn')}, one process per server, "
        f"{datetime.now(UTC):%Y-%m-%d}. `{' '.join(['python -m benchmarks.run', *argv])}`:",
        "",
        "| server | req/s | p50 ms | p99 ms | server CPU per request "
        "| start to ready | RSS after load |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for server in servers:
        name = server.variant.name
        r = medians[name]
        lines.append(
            f"| {name} | {r.requests_per_second:.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} "
            f"| {r.cpu_us_per_request:.0f} us | {server.ready_seconds:.2f} s "
            f"| {rss[name]:.0f} MB |"
        )
    lines.append("")
    on = by_name["auth on"]
    ready = {s.variant.name: s.ready_seconds for s in servers}
    for other in ("auth off", "peer", "peer httptools", "auth on (gc 700)"):
        o = by_name[other]
        lines.append(
            f"- **auth on / {other}**: throughput {ratio(on, o, 'requests_per_second').median:.3f}"
            f", CPU per request {ratio(on, o, 'cpu_us_per_request').median:.3f}"
            f", p99 {ratio(on, o, 'p99_ms').median:.3f}"
            f", start to ready {ready['auth on'] / ready[other]:.2f}"
            f", RSS {rss['auth on'] / rss[other]:.2f}"
        )
    for name, baseline, goal in COMPARED:
        v, b = by_name[name], by_name[baseline]
        throughput = ratio(v, b, "requests_per_second")
        lines.append(
            f"- **{name} / {baseline}**: throughput {throughput.spread()}"
            f", CPU per request {ratio(v, b, 'cpu_us_per_request').median:.3f}"
            f", p50 {ratio(v, b, 'p50_ms').median:.3f}, p99 {ratio(v, b, 'p99_ms').median:.3f}"
            f"; goal at least {goal}: {'met' if throughput.median >= goal else 'NOT met'}"
        )
    return "\n".join(lines) + "\n"


def write_doc(results: str, picture: Path) -> None:
    text = DOC.read_text()
    head, found, rest = text.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not found or not found_end:
        raise SystemExit(f"error: {DOC} lacks the results markers ({BEGIN!r} ... {END!r})")
    block = f"{BEGIN}\n{results}\n![Throughput and latency per server]({picture.name})\n{END}"
    DOC.write_text(head + block + tail)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds (default 6)")
    parser.add_argument(
        "--duration", type=int, default=3, help=f"seconds per run, max {MAX_DURATION} (default 3)"
    )
    parser.add_argument("--connections", type=int, default=16, help="open connections (16)")
    parser.add_argument(
        "--write", action="store_true", help=f"write the results into {DOC.name} and the picture"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= MAX_DURATION or not 1 <= args.rounds <= MAX_ROUNDS:
        parser.error(f"--duration must be 1..{MAX_DURATION} and --rounds 1..{MAX_ROUNDS}")
    if shutil.which("wrk") is None:
        print(
            "error: wrk is not installed; run `make bench` or `apt-get install wrk`",
            file=sys.stderr,
        )
        return 2

    key = secrets.token_urlsafe(48)
    static = mint_token(key, "bench", ["public:read"], expires_in=3600)
    logs = Path(tempfile.mkdtemp(prefix="mcp-bench-"))
    servers: list[Server] = []
    tokens: dict[str, str] = {}
    rss: dict[str, float] = {}
    with ExitStack() as stores:
        policy = logs / "policy.yaml"
        policy.write_text(POLICY)
        context = {
            "redis": stores.enter_context(redis_server(logs)),
            "oidc": stores.enter_context(oidc_provider()),
            "policy": str(policy),
            "client_secret": secrets.token_urlsafe(32),
        }
        try:
            for variant in VARIANTS:  # one at a time, so each starts on a quiet core
                log = logs / f"{variant.name.replace(' ', '-')}.log"
                servers.append(start(variant, key, log, context))
            for server in servers:
                kind = server.variant.token
                base = server.url.removesuffix("/mcp")
                tokens[server.variant.name] = (
                    signin_token(base) if kind == "signin" else static if kind else ""
                )
            measure(servers, tokens, args.rounds, args.duration, args.connections)
            rss = {s.variant.name: rss_mb(s.process.pid) for s in servers}
        finally:
            for server in servers:
                server.process.terminate()
                server.process.wait(timeout=30)

    results = report(servers, rss, argv)
    print(results)
    if args.write:
        from benchmarks.chart import draw

        draw({s.variant.name: median(s.results) for s in servers}, PICTURE)
        write_doc(results, PICTURE)
        print(f"wrote {DOC.relative_to(ROOT)} and {PICTURE.relative_to(ROOT)}", file=sys.stderr)
    return 0


def measure(
    servers: list[Server], tokens: dict[str, str], rounds: int, duration: int, connections: int
) -> None:
    for server in servers:  # warm up every server before measuring
        warm_up(server.url, tokens[server.variant.name], connections)
    for round_number in range(rounds):
        order = servers if round_number % 2 == 0 else servers[::-1]
        for server in order:
            result = wrk(
                server.url,
                tokens[server.variant.name],
                duration,
                connections,
                server.process.pid,
            )
            server.results.append(result)
            print(
                f"round {round_number + 1}/{rounds} {server.variant.name:>16}: "
                f"{result.requests_per_second:7.0f} req/s  p50 {result.p50_ms:6.2f} ms  "
                f"p99 {result.p99_ms:6.2f} ms  cpu {result.cpu_us_per_request:5.0f} us/req",
                file=sys.stderr,
            )


if __name__ == "__main__":
    sys.exit(main())
