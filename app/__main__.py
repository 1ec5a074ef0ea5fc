"""`python -m app`: check the configuration, then serve; a bad setting exits 2 with one line."""

from __future__ import annotations

import os
import sys

# FastMCP's Rich console logging would interleave with our JSON lines; it reads
# this at import time, so set it before anything imports fastmcp.
os.environ.setdefault("FASTMCP_LOG_ENABLED", "false")

from app import config, logs


def main() -> int:
    try:
        loaded = config.load()
    except config.ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    logs.configure(loaded.settings.log_level, loaded.settings.log_format)

    from app.uvicorn_server import serve  # imports FastMCP; after the env var above

    serve(loaded)
    return 0


if __name__ == "__main__":
    sys.exit(main())
