"""The one JSON parser of request bodies, every route: strict, bounded, the same rules everywhere.

The scope gate must judge the same messages the transport acts on. Two parsers
(ours and the transport's) can disagree on encodings, duplicate keys, escapes
or depth, so there is one: the body is parsed here with strict rules and the
transport receives this parse re-serialised as canonical JSON. Whatever passes
the gate is, byte for byte, what the transport reads. The routes around the
MCP route (OAuth's /register, /token, /authorize, ...) have their JSON bodies
judged by the same rules before their handlers see them (app.json_routes).

Strict means: UTF-8 without a BOM, no duplicate keys, only finite numbers (no
NaN/Infinity, no 1e400), no lone surrogates (a \\ud800 escape is no character
and cannot be written back out as UTF-8), at most MAX_DEPTH levels of nesting,
at most MAX_BODY_BYTES. Anything else is a parse error (HTTP 400), never a 5xx.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from typing import Any

from app.body_limit import MAX_BODY_BYTES

MAX_DEPTH = 64  # MCP messages nest a few levels; recursion trouble starts near 1,000
# Larger bodies are parsed on a worker thread: a few of them at once would
# otherwise hold the event loop (and /health) for seconds.
OFF_LOOP_BYTES = 64 * 1024
_SURROGATE = re.compile("[\ud800-\udfff]")

__all__ = ["MAX_BODY_BYTES", "MAX_DEPTH", "BodyError", "canonical", "parse", "parse_off_loop"]


class BodyError(ValueError):
    """The body is not one we accept; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise BodyError(400, "duplicate keys in a JSON object")
    return result


def _no_constants(name: str) -> Any:
    raise BodyError(400, f"{name} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise BodyError(400, f"the number {text[:40]} is out of range")
    return number


def _lone_surrogate(text: str) -> bool:
    return not text.isascii() and _SURROGATE.search(text) is not None


def _check(value: Any) -> None:
    """Depth and strings, iteratively (a recursive walk would fail where json.loads did not)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BodyError(400, f"the body nests deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            if _lone_surrogate(item):
                raise BodyError(400, "a string holds a lone surrogate escape (not a character)")
        elif isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


def parse(body: bytes) -> Any:
    """The decoded JSON value of `body`; BodyError for anything not strict JSON."""
    if len(body) > MAX_BODY_BYTES:
        raise BodyError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        text = body.decode("utf-8")  # strict: UTF-16/32 and invalid bytes fail here
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constants,
            parse_float=_finite,
        )
    except BodyError:
        raise
    except RecursionError:
        raise BodyError(400, f"the body nests deeper than {MAX_DEPTH} levels") from None
    except (UnicodeDecodeError, ValueError) as exc:
        kind = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else "not valid JSON"
        raise BodyError(400, f"the body is {kind}") from None
    _check(value)
    return value


async def parse_off_loop(body: bytes) -> Any:
    """`parse(body)`, on a worker thread when the body is large enough to stall the loop."""
    if len(body) <= OFF_LOOP_BYTES:
        return parse(body)
    return await asyncio.to_thread(parse, body)


def canonical(value: Any) -> bytes:
    """`value` as compact ASCII JSON: the only bytes the transport is given."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode(
        "ascii"
    )
