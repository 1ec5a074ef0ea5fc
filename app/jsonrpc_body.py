"""Read a POST body to the MCP route exactly once, strictly, for every layer after it.

The scope gate must judge the same messages the transport acts on. Two parsers
(ours and the transport's) can disagree on encodings, duplicate keys, escapes
or depth, so there is one: the body is parsed here with strict rules and the
transport receives this parse re-serialised as canonical JSON. Whatever passes
the gate is, byte for byte, what the transport reads.

Strict means: UTF-8 without a BOM, no duplicate keys, no NaN/Infinity, at most
MAX_DEPTH levels of nesting, at most MAX_BODY_BYTES. Anything else is a
JSON-RPC parse error (HTTP 400), never a 5xx.
"""

from __future__ import annotations

import json
from typing import Any

MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 64  # MCP messages nest a few levels; recursion trouble starts near 1,000


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


def _depth(value: Any) -> int:
    """Nesting depth, iteratively (a recursive walk would fail where json.loads did not)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest


def parse(body: bytes) -> Any:
    """The decoded JSON value of `body`; BodyError for anything not strict JSON."""
    if len(body) > MAX_BODY_BYTES:
        raise BodyError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        text = body.decode("utf-8")  # strict: UTF-16/32 and invalid bytes fail here
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except BodyError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        kind = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else "not valid JSON"
        raise BodyError(400, f"the body is {kind}") from None
    if _depth(value) > MAX_DEPTH:
        raise BodyError(400, f"the body nests deeper than {MAX_DEPTH} levels")
    return value


def canonical(value: Any) -> bytes:
    """`value` as compact ASCII JSON: the only bytes the transport is given."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode("ascii")
