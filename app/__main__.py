"""`python -m app`: check the configuration, then serve; a bad setting exits 2 with one line."""

from __future__ import annotations

import gc
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

# Python collects its youngest generation every 700 net allocations of
# container objects: several passes per tools/call, each walking the objects
# of every request in flight. At 10,000, reference counting frees most of a
# request's objects before a pass sees them; cyclic garbage still goes, a
# little later. Measured side by side with Python's default (benchmarks/run.py,
# "auth on (gc 700)"): more throughput, less CPU per request, a faster start,
# about 1 MB more resident memory; 50,000 gained no more and held 10 MB more
# (docs/benchmarks.md).
GC_YOUNG_THRESHOLD = 10_000


def tune_gc() -> None:
    """Set the youngest generation's threshold; first thing, it speeds up the imports too."""
    gc.set_threshold(GC_YOUNG_THRESHOLD)


def main() -> int:
    tune_gc()
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
