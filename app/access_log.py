"""The access log: one line per request, with the authorization decisions made for it."""

from __future__ import annotations

import logging
import re
from typing import Any

from starlette.datastructures import Headers
from starlette.types import Scope

from app.asgi import DECISIONS_KEY

# Routes that answer machines, not people: counted and timed, never logged.
QUIET_ROUTES = frozenset({"/health", "/ready", "/metrics"})

log = logging.getLogger("app.http")

# W3C trace context: version-traceid-spanid-flags, lowercase hex.
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


def log_request(scope: Scope, route: str, status: int, elapsed: float, project: str | None) -> None:
    """One line per request; a tools/call's authorization decision rides on it."""
    if route in QUIET_ROUTES:
        return
    headers = Headers(scope=scope)
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
            "userAgent": headers.get("user-agent", "")[:200],
            # The peer, or the client a trusted proxy named (MCP_FORWARDED_ALLOW_IPS).
            "remoteIp": (scope.get("client") or ("",))[0],
        },
    }
    trace = _TRACEPARENT.match(headers.get("traceparent", ""))
    if trace is not None and project is not None:
        fields["logging.googleapis.com/trace"] = f"projects/{project}/traces/{trace.group(1)}"
        fields["logging.googleapis.com/spanId"] = trace.group(2)
    decisions = scope.get(DECISIONS_KEY) or [{}]
    log.info("request", extra={**fields, **decisions[0]})
    for extra in decisions[1:]:  # a JSON-RPC batch with several calls
        log.info("authorization decision", extra={**fields, **extra})
