"""Liveness and readiness: /health says the process runs, /ready says send it traffic."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


@dataclass
class Lifecycle:
    """Shared between the HTTP routes and the signal handler that starts the drain."""

    draining: bool = False


Endpoint = Callable[[Request], Awaitable[Response]]


def probe_routes(lifecycle: Lifecycle) -> dict[str, Endpoint]:
    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(_: Request) -> Response:
        # Keys and documents are loaded before the app exists, so the only way
        # to be unready is to be shutting down.
        if lifecycle.draining:
            return JSONResponse({"status": "draining"}, status_code=503)
        return JSONResponse({"status": "ready"})

    return {"/health": health, "/ready": ready}
