"""Prometheus metrics, and the ASGI middleware that times every HTTP request."""

from __future__ import annotations

import functools
import logging
import re
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.asgi import DECISIONS_KEY

REQUESTS = Counter(
    "mcp_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "mcp_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
AUTH_DECISIONS = Counter(
    "mcp_auth_decisions_total",
    "Authentication and authorization decisions",
    ["outcome", "reason"],
)
TOOL_CALLS = Counter("mcp_tool_calls_total", "Tool calls by tool and result", ["tool", "result"])

# Routes that answer machines, not people: counted and timed, never logged.
QUIET_ROUTES = frozenset({"/health", "/ready", "/metrics"})

# Clients choose the method; unknown ones share one label so series stay bounded.
METHODS = frozenset({"GET", "POST", "DELETE", "OPTIONS", "HEAD"})

log = logging.getLogger("app.http")


# Label sets are few and fixed, so each bound child is looked up once and kept:
# `labels()` takes a lock and hashes on every call, on the hot path of every request.
@functools.cache
def _decisions(outcome: str, reason: str) -> Counter:
    return AUTH_DECISIONS.labels(outcome, reason)


@functools.cache
def _requests(method: str, route: str, status: int) -> Counter:
    return REQUESTS.labels(method, route, str(status))


@functools.cache
def _latency(method: str, route: str) -> Histogram:
    return LATENCY.labels(method, route)


def count_decision(outcome: str, reason: str) -> None:
    """Count one authentication or authorization decision (labels from a fixed set)."""
    _decisions(outcome, reason).inc()


async def metrics_endpoint(_: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class RequestMetrics:
    """Count, time and log every request by route and status (never the query string)."""

    def __init__(self, app: ASGIApp, gcp_project_id: str | None = None) -> None:
        self.app = app
        self.gcp_project_id = gcp_project_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            # The route the router dispatched to (Starlette records it in the scope),
            # never the raw path: labels stay bounded and match what actually ran.
            matched = scope.get("route")
            route = getattr(matched, "path", None) or "other"
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            elapsed = time.perf_counter() - start
            _requests(method, route, status).inc()
            _latency(method, route).observe(elapsed)
            if route not in QUIET_ROUTES:
                _log_request(scope, status, elapsed, self.gcp_project_id)


# W3C trace context: version-traceid-spanid-flags, lowercase hex.
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


def _log_request(scope: Scope, status: int, elapsed: float, project: str | None) -> None:
    """One line per request; a tools/call's authorization decision rides on it."""
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
