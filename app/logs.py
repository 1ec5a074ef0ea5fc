"""Logging: one JSON object per line (or plain lines for humans), nothing else on stdout.

The JSON lines are what Cloud Logging reads from a GKE container: `severity`
(its level names), `message`, `time`, and on request lines an `httpRequest`
object and `logging.googleapis.com/trace` (app.access_log fills those in).
A record with an exception carries its traceback in `stack_trace` and the
ReportedErrorEvent `@type`, the format Error Reporting reads:
https://cloud.google.com/error-reporting/docs/formatting-error-messages
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

# LogRecord attributes that are plumbing, not event fields.
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
}


class SampledLog:
    """Per reason, write the first event of each window; count the rest into the next line.

    For events an attacker can repeat at will (refused tokens): the logs stay
    bounded while metrics still count every event.
    """

    def __init__(
        self, logger: logging.Logger, message: str, event: str, window_seconds: float = 10.0
    ) -> None:
        self.logger = logger
        self.message = message
        self.event = event
        self.window = window_seconds
        self._last: dict[str, float] = {}  # reason -> when it was last written
        self._suppressed: dict[str, int] = {}

    def write(self, reason: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        last = self._last.get(reason)
        if last is not None and now - last < self.window:
            self._suppressed[reason] = self._suppressed.get(reason, 0) + 1
            return
        self._last[reason] = now
        self.logger.warning(
            self.message,
            extra={
                "event": self.event,
                "reason": reason,
                "suppressed": self._suppressed.pop(reason, 0),
            },
        )


REPORTED_ERROR_EVENT = (
    "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent"
)


class JsonFormatter(logging.Formatter):
    """Render a record and its `extra=` fields as a single JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "severity": record.levelname,  # DEBUG, INFO, WARNING, ERROR, CRITICAL
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            # traceback.format_exc()'s text, which Error Reporting parses and groups by;
            # the @type makes it take the entry even when the severity is not ERROR.
            entry["stack_trace"] = self.formatException(record.exc_info)
            entry["@type"] = REPORTED_ERROR_EVENT
        return json.dumps(entry, default=str)


# Anything that could end a line or steer a terminal, and the backslash that
# escapes it: a request path with %0A must not print a second, forged line.
# Lone surrogates too: stdout cannot encode them, and logging would drop the
# whole line ("--- Logging error ---") for one odd character in a claim.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\\]")


def _escape(text: str) -> str:
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class ConsoleFormatter(logging.Formatter):
    """Human-readable line with the `extra=` fields appended as key=value; one record, one line."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(
            f"{_escape(k)}={_escape(str(v))}" for k, v in vars(record).items() if k not in _RESERVED
        )
        message = _escape(record.getMessage())
        line = f"{self.formatTime(record, '%H:%M:%S')} {record.levelname:<7} {message} {fields}"
        if record.exc_info:
            # Tracebacks stay readable, each of their lines indented under the record.
            trace = self.formatException(record.exc_info)
            line += "".join(f"\n    | {_escape(part)}" for part in trace.splitlines())
        return line.rstrip()


def configure(level: str, fmt: str) -> None:
    """Send every logger (ours, uvicorn's, FastMCP's) through one handler on stdout."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Every record would look up its caller's frame, thread and process, fields
    # neither formatter writes (_RESERVED); the logging HOWTO's "Optimization"
    # switches skip that work on each request's line.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
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
