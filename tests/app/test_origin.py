"""OriginGuard: exact scheme, host and port matching, and the 403 for everything else."""

from __future__ import annotations

import logging

import pytest

from app.origin import OriginGuard
from tests.app.conftest import Counted, Downstream, call, http_scope

ALLOWED = ["http://localhost", "http://127.0.0.1:8080", "https://App.Example.com"]


def guard() -> OriginGuard:
    return OriginGuard(Downstream(), ALLOWED)


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost",
        "http://localhost:3000",  # no port in the entry: any port
        "http://LOCALHOST:5173",
        "http://127.0.0.1:8080",
        "https://app.example.com",
        "https://app.example.com:443",  # the entry has no port
    ],
)
def test_allowed(origin: str) -> None:
    assert guard().is_allowed(origin)


@pytest.mark.parametrize(
    "origin",
    [
        "https://localhost",  # scheme differs
        "ws://localhost",
        "http://app.example.com",
        "http://evillocalhost",  # host suffix
        "http://localhost.evil.example",  # host prefix
        "http://127.0.0.1:9090",  # the entry pins port 8080
        "http://127.0.0.1",  # no port, but the entry pins one
        "http://127.0.0.2:8080",
        "null",
        "",
        "http://[::1",  # unparseable
        "http://localhost:99999",  # port out of range: urlsplit raises
    ],
)
def test_refused(origin: str) -> None:
    assert not guard().is_allowed(origin)


def test_unparseable_allow_list_entries_are_dropped() -> None:
    assert OriginGuard(Downstream(), ["http://[::1", "http://localhost"]).allowed == [
        ("http", "localhost", None)
    ]


async def test_request_without_origin_passes() -> None:
    downstream = Downstream()
    answer = await call(OriginGuard(downstream, ALLOWED), http_scope())
    assert answer.status == 200
    assert len(downstream.calls) == 1


async def test_allowed_origin_passes() -> None:
    downstream = Downstream()
    scope = http_scope(headers=[(b"origin", b"http://localhost:3000")])
    assert (await call(OriginGuard(downstream, ALLOWED), scope)).status == 200
    assert len(downstream.calls) == 1


async def test_foreign_origin_gets_403_counted_and_logged(
    counted: Counted, caplog: pytest.LogCaptureFixture
) -> None:
    downstream = Downstream()
    scope = http_scope(headers=[(b"origin", b"http://evil.example")])
    with caplog.at_level(logging.WARNING, logger="app.origin"):
        answer = await call(OriginGuard(downstream, ALLOWED), scope)
    assert answer.status == 403
    assert answer.json() == {
        "error": "origin_not_allowed",
        "error_description": "this origin may not call the server; allowed: MCP_ALLOWED_ORIGINS",
    }
    assert downstream.calls == []
    assert counted("denied", "origin_not_allowed") == 1
    [record] = caplog.records
    assert record.getMessage() == "origin refused"
    assert (record.event, record.origin, record.origin_headers, record.decision) == (  # type: ignore[attr-defined]
        "origin",
        "http://evil.example",
        1,
        "denied",
    )


async def test_repeated_origin_is_refused_even_when_each_is_allowed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    downstream = Downstream()
    headers = [(b"origin", b"http://localhost"), (b"origin", b"http://localhost")]
    with caplog.at_level(logging.WARNING, logger="app.origin"):
        answer = await call(OriginGuard(downstream, ALLOWED), http_scope(headers=headers))
    assert answer.status == 403
    assert answer.json()["error_description"] == "send one Origin header"
    assert downstream.calls == []
    assert caplog.records[0].origin_headers == 2  # type: ignore[attr-defined]


async def test_logged_origin_is_cut_to_200_characters(caplog: pytest.LogCaptureFixture) -> None:
    origin = "http://" + "a" * 300
    scope = http_scope(headers=[(b"origin", origin.encode())])
    with caplog.at_level(logging.WARNING, logger="app.origin"):
        await call(guard(), scope)
    assert caplog.records[0].origin == origin[:200]  # type: ignore[attr-defined]


async def test_origin_is_read_as_latin_1() -> None:
    scope = http_scope(headers=[(b"origin", "http://caf\xe9".encode("latin-1"))])
    assert (await call(OriginGuard(Downstream(), ["http://caf\xe9"]), scope)).status == 200
