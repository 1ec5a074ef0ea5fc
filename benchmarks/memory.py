#!/usr/bin/env python3
"""Memory under token churn: many distinct valid tokens, resident memory before and after.

Starts the real server (`python -m app`, rate limit on at its default) on a
loopback port and sends --requests tools/call requests spread over --tokens
distinct valid tokens, one subject each, so every token is verified, remembered
in the verified-token cache and gets its own rate-limit bucket. Prints the
server's resident memory (VmRSS) when ready, after warm-up and after each pass:
bounded caches show as a plateau from one pass to the next. A measurement, not
a test: nothing is asserted about the figures. Bounded in requests and time,
loopback only.

Example:
  .venv/bin/python -m benchmarks.memory --requests 10000 --tokens 1000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from app.tokens import mint_token
from benchmarks.processes import free_port, pinned, rss_mb

ROOT = Path(__file__).resolve().parent.parent
BODY = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "get_public_info", "arguments": {}},
}
HEADERS = {"Accept": "application/json, text/event-stream"}
CONCURRENCY = 16
TIME_LIMIT_SECONDS = 300


async def churn(url: str, tokens: list[str], requests: int) -> None:
    """Send `requests` calls, token after token, from CONCURRENCY workers; any non-200 aborts."""
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def worker() -> None:
            for n in counter:
                headers = {**HEADERS, "Authorization": f"Bearer {tokens[n % len(tokens)]}"}
                response = await client.post(url, json=BODY, headers=headers)
                if response.status_code != 200:
                    raise SystemExit(f"error: request {n} got {response.status_code}")

        await asyncio.wait_for(
            asyncio.gather(*(worker() for _ in range(CONCURRENCY))), TIME_LIMIT_SECONDS
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=10_000, help="per pass (10000)")
    parser.add_argument("--tokens", type=int, default=1_000, help="distinct tokens (1000)")
    parser.add_argument("--passes", type=int, default=2, help="passes over the tokens (2)")
    args = parser.parse_args(argv)
    if not 1 <= args.tokens <= args.requests <= 100_000 or not 1 <= args.passes <= 5:
        parser.error("need 1 <= --tokens <= --requests <= 100000 and --passes 1..5")

    key = secrets.token_urlsafe(48)
    # Distinct subjects: each token is its own cache entry and rate-limit bucket.
    tokens = [
        mint_token(key, f"churn-{n}", ["public:read"], expires_in=3600) for n in range(args.tokens)
    ]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_")}
    env.update({"MCP_PORT": str(port), "MCP_JWT_SECRET_KEY": key})
    log = Path(tempfile.mkdtemp(prefix="mcp-memory-")) / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            pinned([sys.executable, "-m", "app"], 0),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/ready", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"error: the server did not become ready; see {log}") from None
                time.sleep(0.05)
        print(f"ready: RSS {rss_mb(server.pid):.1f} MB")
        # Warm-up: every code path runs once, with few tokens (each under its rate limit).
        asyncio.run(churn(f"{base}/mcp", tokens[:20], 200))
        print(f"after 200 requests over 20 tokens: RSS {rss_mb(server.pid):.1f} MB")
        for number in range(1, args.passes + 1):
            started = time.monotonic()
            asyncio.run(churn(f"{base}/mcp", tokens, args.requests))
            print(
                f"after pass {number}: {args.requests} requests over {args.tokens} tokens "
                f"in {time.monotonic() - started:.1f} s: RSS {rss_mb(server.pid):.1f} MB"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
