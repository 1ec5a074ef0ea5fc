"""The one strict parse of a POST body: size, encoding, duplicates, constants, depth."""

from __future__ import annotations

import pytest

from app.jsonrpc_body import (
    OFF_LOOP_BYTES,
    BodyError,
    canonical,
    parse,
    parse_off_loop,
)

# The limits the docs promise (docs/security.md: 1 MiB, 64 levels), written out
# rather than imported: a changed constant in app/ must fail here.
MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 64


def refusal(body: bytes) -> tuple[int, str]:
    with pytest.raises(BodyError) as caught:
        parse(body)
    return caught.value.status, str(caught.value)


def test_strict_json_is_parsed() -> None:
    assert parse(b'{"jsonrpc": "2.0", "id": 1, "params": {"a": [1, 2.5, null, true]}}') == {
        "jsonrpc": "2.0",
        "id": 1,
        "params": {"a": [1, 2.5, None, True]},
    }


def test_a_body_of_exactly_the_limit_is_accepted() -> None:
    body = b'"' + b"a" * (MAX_BODY_BYTES - 2) + b'"'
    assert len(body) == MAX_BODY_BYTES
    assert parse(body) == "a" * (MAX_BODY_BYTES - 2)


def test_a_byte_over_the_limit_is_413() -> None:
    body = b'"' + b"a" * (MAX_BODY_BYTES - 1) + b'"'
    assert refusal(body) == (413, "the body is larger than 1048576 bytes")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff{}", "the body is not UTF-8"),
        ('{"a": "\u00e9"}'.encode("utf-16"), "the body is not UTF-8"),
        (b"\xef\xbb\xbf{}", "the body is not valid JSON"),  # a BOM
        (b"{not json", "the body is not valid JSON"),
        (b"", "the body is not valid JSON"),
        (b'{"a": 1, "a": 2}', "duplicate keys in a JSON object"),
        (b'{"a": {"b": 1, "b": 1}}', "duplicate keys in a JSON object"),
        (b"[NaN]", "NaN is not JSON"),
        (b'{"a": Infinity}', "Infinity is not JSON"),
        (b"-Infinity", "-Infinity is not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "the body nests deeper than 64 levels"),
        (b'{"id": 1e400}', "the number 1e400 is out of range"),
        (b"[-1E999]", "the number -1E999 is out of range"),
        (b'{"id": "\\ud800"}', "a string holds a lone surrogate escape (not a character)"),
        (b'{"\\udfff": 1}', "a string holds a lone surrogate escape (not a character)"),
        (b'["a\\udc00\\ud800"]', "a string holds a lone surrogate escape (not a character)"),
    ],
)
def test_anything_but_strict_json_is_400(body: bytes, reason: str) -> None:
    assert refusal(body) == (400, reason)


def nested_lists(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def nested_objects(depth: int) -> bytes:
    return b'{"a":' * (depth - 1) + b"{}" + b"}" * (depth - 1)


@pytest.mark.parametrize("nested", [nested_lists, nested_objects])
def test_nesting_is_bounded_at_max_depth(nested: object) -> None:
    assert callable(nested)
    assert parse(nested(MAX_DEPTH)) is not None
    assert refusal(nested(MAX_DEPTH + 1)) == (
        400,
        f"the body nests deeper than {MAX_DEPTH} levels",
    )


def test_depth_counts_the_deepest_branch_not_the_last() -> None:
    deep = nested_lists(MAX_DEPTH)
    assert refusal(b"[" + deep + b", 1]") == (400, f"the body nests deeper than {MAX_DEPTH} levels")
    assert refusal(b'{"x": ' + deep + b', "y": 1}')[0] == 400
    assert refusal(b"[1, " + deep + b"]")[0] == 400


def test_scalars_count_as_one_level() -> None:
    assert parse(b"[" * (MAX_DEPTH - 1) + b"1" + b"]" * (MAX_DEPTH - 1)) is not None
    assert refusal(b"[" * MAX_DEPTH + b"1" + b"]" * MAX_DEPTH)[0] == 400


def test_a_surrogate_pair_is_one_character_and_passes() -> None:
    assert parse(b'["\\ud83d\\ude00"]') == ["\U0001f600"]


def test_a_huge_integer_is_400_not_an_error_of_its_own() -> None:
    assert refusal(b"[" + b"9" * 5000 + b"]") == (400, "the body is not valid JSON")


@pytest.mark.parametrize("size", [10, OFF_LOOP_BYTES + 10])
async def test_the_parse_off_the_loop_follows_the_same_rules(size: int) -> None:
    text = b'"' + b"a" * (size - 2) + b'"'
    assert await parse_off_loop(text) == "a" * (size - 2)
    with pytest.raises(BodyError, match="duplicate keys"):
        await parse_off_loop(b'{"a":1,"a":' + text + b"}")


def test_canonical_is_compact_ascii() -> None:
    value = {"b": [1, 2], "a": "caf\u00e9 \u2028"}
    assert canonical(value) == b'{"b":[1,2],"a":"caf\\u00e9 \\u2028"}'
