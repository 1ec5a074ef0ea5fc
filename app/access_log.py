"""The access log: one line per request, with the authorization decisions made for it."""

from __future__ import annotations

import logging
import re
from typing import Any

from starlette.types import Scope

from app.asgi import DECISIONS_KEY, header

# Routes that answer machines, not people: counted and timed, never logged.
QUIET_ROUTES = frozenset({"/health", "/ready", "/metrics"})

log = logging.getLogger("app.http")

# What differs between the calls of one batch; subject and scopes are the request's.
_CALL_FIELDS = ("tool", "decision", "reason")

# W3C trace context: version-traceid-spanid-flags, lowercase hex.
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def log_request(
    scope: Scope,
    route: str,
    status: int,
    elapsed: float,
    project: str | None,
    response_size: int = 0,
) -> None:
    """One line per request, whatever it holds; its authorization decisions ride on it."""
    if route in QUIET_ROUTES:
        return
    fields: dict[str, Any] = {
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "duration_ms": round(elapsed * 1000, 2),
        # Cloud Logging's HttpRequest: the path without the query, which may hold secrets.
        "httpRequest": {
            "requestMethod": scope["method"],
            "requestUrl": scope["path"],
            "status": status,
            "latency": f"{elapsed:.3f}s",
            "userAgent": (header(scope, "user-agent") or "")[:200],
            # The peer uvicorn saw: the client itself when X-Forwarded-For comes from a
            # trusted proxy (MCP_FORWARDED_ALLOW_IPS), else the proxy.
            "remoteIp": (scope.get("client") or ("", 0))[0],
            # int64 fields are strings in the API's JSON (proto3 mapping).
            "responseSize": str(response_size),
            "protocol": f"HTTP/{scope.get('http_version', '1.1')}",
        },
    }
    trace = _TRACEPARENT.match(header(scope, "traceparent") or "")
    if trace is not None and project is not None:
        fields["logging.googleapis.com/trace"] = f"projects/{project}/traces/{trace.group(1)}"
        fields["logging.googleapis.com/spanId"] = trace.group(2)
        # The caller's sampling decision (flag bit 0), so Cloud Trace links the line.
        fields["logging.googleapis.com/trace_sampled"] = bool(int(trace.group(3), 16) & 1)
    decisions = scope.get(DECISIONS_KEY) or []
    if decisions:
        # The last decision is the deciding one: judging stops at the first denial.
        fields.update(decisions[-1])
    if len(decisions) > 1:  # a JSON-RPC batch with several calls: still one line
        fields["calls"] = [{key: d.get(key) for key in _CALL_FIELDS} for d in decisions]
    log.info("request", extra=fields)
