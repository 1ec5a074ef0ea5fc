"""`python -m app`: check the configuration, then serve; a bad setting exits 2 with one line."""

from __future__ import annotations

import os
import sys

from app import config, logs  # neither imports fastmcp

# FastMCP reads its settings at import time, so these are set before anything
# imports fastmcp; an operator's own value wins.
FASTMCP_DEFAULTS = {
    # Its Rich console logging would interleave with our JSON lines.
    "FASTMCP_LOG_ENABLED": "false",
    # Its OpenTelemetry spans: only the API is installed, so they reach no
    # exporter, yet make ~4% of a tools/call's Python calls (docs/benchmarks.md).
    # `native` turns them on for a deployment that adds an SDK.
    "FASTMCP_TELEMETRY_MODE": "off",
}
for _name, _value in FASTMCP_DEFAULTS.items():
    os.environ.setdefault(_name, _value)


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
