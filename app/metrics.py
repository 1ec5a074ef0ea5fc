"""Prometheus metrics, and the ASGI middleware that counts, times and logs every request."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.access_log import log_request

# Each counter and histogram would also export a `*_created` series (when it was
# first counted): nothing here reads it, and GMP bills every series it stores.
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in prometheus_client

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

# Shared stores that could not be reached: the limits were skipped (fail open),
# or sign-in answered 503. Alert policies watch both (infra/mcp_infra/monitoring.py).
LIMIT_STORAGE_ERRORS = Counter(
    "mcp_limit_storage_errors_total",
    "Limit checks served without the limit because MCP_RATE_LIMIT_STORAGE_URL did not answer",
)
OAUTH_STORAGE_ERRORS = Counter(
    "mcp_oauth_storage_errors_total",
    "Sign-in store operations that failed because MCP_OAUTH_STORAGE_URL did not answer",
)

# Clients choose the method; unknown ones share one label so series stay bounded.
METHODS = frozenset({"GET", "POST", "DELETE", "OPTIONS", "HEAD"})


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


@functools.cache
def _tool_calls(tool: str, result: str) -> Counter:
    return TOOL_CALLS.labels(tool, result)


def count_tool_call(tool: str, result: str) -> None:
    """Count one tool call; `tool` is a catalog name or "other", `result` ok or error."""
    _tool_calls(tool, result).inc()


def count_decision(outcome: str, reason: str) -> None:
    """Count one authentication or authorization decision (labels from a fixed set)."""
    _decisions(outcome, reason).inc()


def metrics_endpoint(
    *refresh: Callable[[], object],
) -> Callable[[Request], Awaitable[Response]]:
    """The /metrics route; `refresh` re-reads watched files first (app/key_files.py).

    Files are otherwise re-read only when a request needs them: a pod without
    traffic would keep exporting a replaced key's fingerprint, and look as if
    it disagreed with the busy ones. Each scrape brings it up to date.
    """

    async def endpoint(_: Request) -> Response:
        for look in refresh:
            look()
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return endpoint


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
        size = 0

        async def send_and_record(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                # int(): an HTTPStatus member would be logged as <HTTPStatus.OK: 200>.
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
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
            log_request(scope, route, status, elapsed, self.gcp_project_id, size)
