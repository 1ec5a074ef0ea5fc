"""The same server with authentication and authorization switched off: the benchmark baseline.

Never deploy this: every tool is open to anyone who can reach the port. It
exists only so benchmarks/run.py can measure what auth costs.
"""

from __future__ import annotations

import sys

import app.__main__  # FastMCP's environment defaults, before fastmcp loads
from app import config, logs


def main() -> int:
    app.__main__.tune_gc()  # as the real server does
    loaded = config.load()
    if loaded.settings.host not in {"127.0.0.1", "::1", "localhost"}:
        print("error: the no-auth baseline only binds to loopback", file=sys.stderr)
        return 2
    logs.configure(loaded.settings.log_level, loaded.settings.log_format)
    from app.http_app import assemble, limiters
    from app.uvicorn_server import serve

    serve(
        loaded,
        lambda config, lifecycle: assemble(config, lifecycle, None, limiters(config.settings)),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
