"""Logging: one JSON object per line (or plain lines for humans), nothing else on stdout."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

# LogRecord attributes that are plumbing, not event fields.
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
}


class JsonFormatter(logging.Formatter):
    """Render a record and its `extra=` fields as a single JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class ConsoleFormatter(logging.Formatter):
    """Human-readable line with the `extra=` fields appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in vars(record).items() if k not in _RESERVED)
        line = f"{self.formatTime(record, '%H:%M:%S')} {record.levelname:<7} {record.getMessage()}"
        return f"{line} {fields}".rstrip()


def configure(level: str, fmt: str) -> None:
    """Send every logger (ours, uvicorn's, FastMCP's) through one handler on stdout."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "fastmcp", "mcp"):
        named = logging.getLogger(name)
        named.handlers[:] = []
        named.propagate = True
    # One line per request comes from app.metrics; the transport's per-request
    # "Terminating session: None" (stateless mode) is noise at INFO.
    logging.getLogger("mcp.server.streamable_http").setLevel(logging.WARNING)
    # We log each request ourselves (path without the query string), so uvicorn's
    # access log, which would print query strings, stays off.
    logging.getLogger("uvicorn.access").disabled = True
