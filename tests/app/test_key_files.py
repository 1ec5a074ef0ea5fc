"""Keys and the deny-list follow their files: re-read on change, bad content refused.

The clock of app.key_files is held by the test, so "at most once a second"
is checked at its exact boundary without sleeping.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from pathlib import Path

import pytest

import app.key_files
from app.key_files import (
    CHECK_SECONDS,
    Denylist,
    KeyRing,
    WatchedFile,
    WatchedSecret,
    check_key,
    fingerprint,
    is_revoked,
    parse_denylist,
)
from app.reload_metrics import DENYLIST, denylist_fingerprint
from tests.app.conftest import Clock

KEY_A = b"a" * 32
KEY_B = b"b" * 40
KEY_C = b"c" * 48


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock(500.0)
    monkeypatch.setattr(app.key_files, "time", frozen)
    return frozen


def replace(path: Path, data: bytes) -> None:
    """Swap the file in one step, as kubelet's ..data symlink flip does (a new inode)."""
    fresh = path.with_name(path.name + ".new")
    fresh.write_bytes(data)
    os.replace(fresh, path)


def reload_logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "app.key_files"]


def test_fingerprint_is_a_sha256_prefix() -> None:
    # SHA-256("abc") is FIPS 180-2's test vector ba7816bf8f01cfea...: a known answer,
    # so an operator can compute a key's fingerprint with sha256sum and compare.
    assert fingerprint(b"abc") == "ba7816bf8f01"
    assert fingerprint(KEY_A) != fingerprint(KEY_B)


def test_check_key_strips_and_counts_bytes() -> None:
    assert check_key(b"  " + KEY_A + b"\n") == KEY_A
    with pytest.raises(ValueError, match=r"^the key is 31 bytes, it must be at least 32$"):
        check_key(b" " + b"x" * 31 + b" ")


def test_denylist_lines_comments_and_blanks() -> None:
    data = b"# revoked\n  id-1  \n\nid-2 # leaked in a log # twice\n#id-3\n"
    assert parse_denylist(data) == frozenset({"id-1", "id-2"})
    with pytest.raises(UnicodeDecodeError):
        parse_denylist(b"\xff")


def test_a_change_is_seen_only_after_check_seconds(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "key"
    path.write_bytes(KEY_A)
    watched = WatchedFile(path, check_key, "MCP_JWT_SECRET_FILE", KEY_A)
    replace(path, KEY_B)
    clock.now += CHECK_SECONDS - 0.001
    assert watched.refresh() is False
    assert watched.value == KEY_A
    clock.now += 0.001
    assert watched.refresh() is True
    assert watched.value == KEY_B
    assert watched.refresh() is False  # looked at just now


def test_the_instant_given_overrides_the_clock(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "key"
    path.write_bytes(KEY_A)
    watched = WatchedFile(path, check_key, "MCP_JWT_SECRET_FILE", KEY_A)
    replace(path, KEY_B)
    assert watched.refresh(now=clock.now + CHECK_SECONDS) is True
    replace(path, KEY_C)
    assert watched.refresh(now=clock.now + CHECK_SECONDS) is False  # checked at that instant


def test_an_unchanged_file_is_not_re_read(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "key"
    path.write_bytes(KEY_A)
    reads: list[bytes] = []

    def parse(data: bytes) -> bytes:
        reads.append(data)
        return data

    watched = WatchedFile(path, parse, "MCP_JWT_SECRET_FILE", KEY_A)
    clock.now += 10
    assert watched.refresh() is False
    assert reads == []
    replace(path, KEY_A)  # same content, new file: read, but the value did not change
    clock.now += 10
    assert watched.refresh() is False
    assert reads == [KEY_A]


def test_a_refused_file_keeps_the_last_good_value(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "key"
    path.write_bytes(KEY_A)
    watched = WatchedFile(path, check_key, "MCP_JWT_SECRET_FILE", KEY_A)
    replace(path, b"short")
    clock.now += 2
    with caplog.at_level(logging.INFO, logger="app.key_files"):
        assert watched.refresh() is False
    assert watched.value == KEY_A
    [record] = reload_logs(caplog)
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "file refused, keeping the last good one"
    assert (record.event, record.setting, record.reason) == (  # type: ignore[attr-defined]
        "reload",
        "MCP_JWT_SECRET_FILE",
        "the key is 5 bytes, it must be at least 32",
    )
    replace(path, KEY_B)  # the next change is looked at again
    clock.now += 2
    assert watched.refresh() is True
    assert watched.value == KEY_B


def test_a_required_file_that_vanishes_keeps_its_value(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "key"
    path.write_bytes(KEY_A)
    watched = WatchedFile(path, check_key, "MCP_JWT_SECRET_FILE", KEY_A)
    path.unlink()
    clock.now += 2
    with caplog.at_level(logging.INFO, logger="app.key_files"):
        assert watched.refresh() is False
    assert watched.value == KEY_A
    [record] = reload_logs(caplog)
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "file removed, keeping the last good one"
    assert (record.event, record.setting) == ("reload", "MCP_JWT_SECRET_FILE")  # type: ignore[attr-defined]
    path.write_bytes(KEY_B)
    clock.now += 2
    assert watched.refresh() is True
    assert watched.value == KEY_B


def test_an_optional_file_that_vanishes_drops_its_value(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "previous"
    path.write_bytes(KEY_A)
    watched = WatchedFile(path, check_key, "MCP_JWT_PREVIOUS_SECRET_FILE", KEY_A, optional=True)
    path.unlink()
    clock.now += 2
    with caplog.at_level(logging.INFO, logger="app.key_files"):
        assert watched.refresh() is True
    assert watched.value is None
    [record] = reload_logs(caplog)
    assert (record.levelno, record.getMessage()) == (logging.INFO, "file removed")
    assert (record.event, record.setting) == ("reload", "MCP_JWT_PREVIOUS_SECRET_FILE")  # type: ignore[attr-defined]


def test_an_optional_file_that_never_was_changes_nothing(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "previous"
    path.write_bytes(KEY_A)
    watched = WatchedFile(path, check_key, "MCP_JWT_PREVIOUS_SECRET_FILE", None, optional=True)
    path.unlink()  # its identity changes from a file to none, the value stays None
    clock.now += 2
    assert watched.refresh() is False


# --- KeyRing -------------------------------------------------------------------------


def test_static_keys_current_first_and_each_once() -> None:
    assert KeyRing(KEY_A, None).keys == (KEY_A,)
    assert KeyRing(KEY_A, KEY_B).keys == (KEY_A, KEY_B)
    assert KeyRing(KEY_A, KEY_A).keys == (KEY_A,)
    assert KeyRing(None, None).keys == ()
    ring = KeyRing(KEY_A, KEY_B)
    assert ring.refresh() == (KEY_A, KEY_B)
    assert ring.generation == 0


def test_rotation_through_the_files(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    current, previous = tmp_path / "current", tmp_path / "previous"
    current.write_bytes(KEY_A)
    ring = KeyRing(KEY_A, None, current, previous)
    assert (ring.keys, ring.generation) == ((KEY_A,), 0)

    # Step 1: the previous-key file appears holding the current key: nothing changes.
    previous.write_bytes(KEY_A)
    clock.now += 2
    with caplog.at_level(logging.INFO, logger="app.key_files"):
        assert ring.refresh() == (KEY_A,)
    assert ring.generation == 1
    [loaded] = reload_logs(caplog)
    assert loaded.getMessage() == "signing keys loaded"
    assert (loaded.event, loaded.fingerprints) == ("reload", [fingerprint(KEY_A)])  # type: ignore[attr-defined]

    # Step 2: the new key becomes current; the old one is still accepted.
    replace(current, KEY_B)
    clock.now += 2
    assert ring.refresh() == (KEY_B, KEY_A)
    assert ring.generation == 2

    # Step 3: the previous key is removed: only the new key is left.
    previous.unlink()
    clock.now += 2
    assert ring.refresh() == (KEY_B,)
    assert ring.generation == 3

    clock.now += 2
    assert ring.refresh() == (KEY_B,)
    assert ring.generation == 3  # nothing changed, no new generation


def test_a_bad_current_key_file_keeps_the_ring(tmp_path: Path, clock: Clock) -> None:
    current = tmp_path / "current"
    current.write_bytes(KEY_A)
    ring = KeyRing(KEY_A, KEY_B, current_file=current)
    replace(current, b"too short")
    clock.now += 2
    assert ring.refresh() == (KEY_A, KEY_B)
    assert ring.generation == 0


def test_only_the_previous_key_may_follow_a_file(tmp_path: Path, clock: Clock) -> None:
    previous = tmp_path / "previous"
    previous.write_bytes(KEY_B)
    ring = KeyRing(KEY_A, KEY_B, previous_file=previous)
    assert ring.keys == (KEY_A, KEY_B)
    replace(previous, KEY_C)
    clock.now += 2
    assert ring.refresh() == (KEY_A, KEY_C)


# --- Denylist ------------------------------------------------------------------------


def test_no_file_no_revoked_ids() -> None:
    assert Denylist(None).ids() == frozenset()


def test_denylist_follows_its_file(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "denylist"
    path.write_bytes(b"one\n")
    denylist = Denylist(path, frozenset({"one"}))
    assert denylist.ids() == frozenset({"one"})
    replace(path, b"one\ntwo\n")
    clock.now += 2
    with caplog.at_level(logging.INFO, logger="app.key_files"):
        assert denylist.ids() == frozenset({"one", "two"})
    [record] = reload_logs(caplog)
    assert record.getMessage() == "deny-list loaded"
    assert (record.event, record.revoked) == ("reload", 2)  # type: ignore[attr-defined]
    path.unlink()  # a required file: the last good list stays
    clock.now += 2
    assert denylist.ids() == frozenset({"one", "two"})


def test_an_emptied_denylist_revokes_nothing(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "denylist"
    path.write_bytes(b"one\n")
    denylist = Denylist(path, frozenset({"one"}))
    replace(path, b"# nothing revoked\n")
    clock.now += 2
    assert denylist.ids() == frozenset()


def test_the_instant_given_is_used_by_ring_and_denylist(tmp_path: Path, clock: Clock) -> None:
    current, previous, denied = tmp_path / "current", tmp_path / "previous", tmp_path / "denied"
    for path, data in ((current, KEY_A), (previous, KEY_B), (denied, b"one\n")):
        path.write_bytes(data)
    ring = KeyRing(KEY_A, KEY_B, current, previous)
    denylist = Denylist(denied, frozenset({"one"}))
    replace(current, KEY_C)
    replace(previous, KEY_A)
    replace(denied, b"two\n")
    later = clock.now + CHECK_SECONDS  # the module's clock stands still
    assert ring.refresh(now=later) == (KEY_C, KEY_A)
    assert denylist.ids(now=later) == frozenset({"two"})


def test_log_lines_name_the_setting_of_each_file(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    current, previous, denied = tmp_path / "current", tmp_path / "previous", tmp_path / "denied"
    for path, data in ((current, KEY_A), (previous, KEY_B), (denied, b"one\n")):
        path.write_bytes(data)
    ring = KeyRing(KEY_A, KEY_B, current, previous)
    denylist = Denylist(denied, frozenset({"one"}))
    for path in (current, previous, denied):
        path.unlink()
    clock.now += 2
    with caplog.at_level(logging.INFO, logger="app.key_files"):
        ring.refresh()
        denylist.ids()
    settings = [r.setting for r in reload_logs(caplog) if hasattr(r, "setting")]
    assert settings == [
        "MCP_JWT_SECRET_FILE",
        "MCP_JWT_PREVIOUS_SECRET_FILE",
        "MCP_JWT_DENYLIST_FILE",
    ]


# --- deny-list edges: a byte order mark, subjects, a rewrite in place, off the loop ---


def test_a_byte_order_mark_is_not_part_of_the_first_id() -> None:
    assert parse_denylist(b"\xef\xbb\xbfid-1\r\nid-2\n") == frozenset({"id-1", "id-2"})


def test_is_revoked_by_id_or_by_subject_line() -> None:
    revoked = frozenset({"id-1", "sub:alice"})
    assert is_revoked("id-1", None, revoked)
    assert is_revoked(None, "alice", revoked)
    assert is_revoked("other", "alice", revoked)
    assert not is_revoked("alice", "bob", revoked)  # a subject line is not an id
    assert not is_revoked(None, None, revoked)
    assert not is_revoked("sub:alice", None, frozenset({"sub:sub:alice"}))


def test_a_rewrite_in_place_with_the_old_mtime_and_size_is_read_again(
    tmp_path: Path, clock: Clock
) -> None:
    path = tmp_path / "denylist"
    path.write_bytes(b"aaaa\n")
    before = path.stat()
    denylist = Denylist(path, frozenset({"aaaa"}))
    with path.open("r+b") as file:  # same inode, same size
        file.write(b"bbbb\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `cp -p` does
    assert path.stat().st_ino == before.st_ino
    clock.now += 2
    assert denylist.ids() == frozenset({"bbbb"})


async def test_the_deny_list_is_re_read_in_a_worker_thread(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "denylist"
    path.write_bytes(b"one\n")
    denylist = Denylist(path, frozenset({"one"}))
    assert await denylist.current() == frozenset({"one"})  # not due: no re-read
    readers: list[str] = []
    assert denylist._file is not None
    refresh = denylist._file.refresh
    started = threading.Event()
    release = threading.Event()  # holds the re-read until the second request is answered

    def held_refresh(now: float | None = None) -> bool:
        # Held before the file is even looked at: the list is still due for a re-read.
        readers.append(threading.current_thread().name)
        started.set()
        release.wait(timeout=10)
        return refresh(now)

    monkeypatch.setattr(denylist._file, "refresh", held_refresh)
    replace(path, b"two\n")
    clock.now += 2
    reading = asyncio.create_task(denylist.current())
    assert await asyncio.to_thread(started.wait, 10)  # the re-read is under way
    second = await asyncio.wait_for(denylist.current(), 5)
    release.set()
    first = await reading
    assert first == frozenset({"two"})
    assert second == frozenset({"one"})  # did not wait: the list in force meanwhile
    assert readers
    assert threading.main_thread().name not in readers
    assert Denylist(None).ids() == await Denylist(None).current() == frozenset()


# --- the OAuth client secret's file (MCP_OIDC_CLIENT_SECRET_FILE) ---


def test_a_secret_file_is_followed_logged_by_fingerprint_and_never_emptied(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "client-secret"
    path.write_bytes(b"first-secret\n")
    secret = WatchedSecret(path, "first-secret", "MCP_OIDC_CLIENT_SECRET_FILE")
    assert secret.value() == "first-secret"
    replace(path, b"  second-secret \n")
    assert secret.value() == "first-secret"  # looked at no more than once a second
    with caplog.at_level(logging.INFO, logger="app.key_files"):
        assert secret.value(now=clock.now + CHECK_SECONDS) == "second-secret"
    [loaded] = reload_logs(caplog)
    assert loaded.getMessage() == "secret loaded"
    assert (loaded.event, loaded.setting, loaded.fingerprint) == (  # type: ignore[attr-defined]
        "reload",
        "MCP_OIDC_CLIENT_SECRET_FILE",
        fingerprint(b"second-secret"),
    )
    assert "second-secret" not in caplog.text
    caplog.clear()
    replace(path, b" \n")  # a half-written rotation
    clock.now += 2 * CHECK_SECONDS
    with caplog.at_level(logging.INFO, logger="app.key_files"):
        assert secret.value() == "second-secret"
    [refused] = reload_logs(caplog)
    assert refused.levelno == logging.ERROR
    assert refused.reason == "the file is empty"  # type: ignore[attr-defined]


def test_an_unchanged_secret_file_logs_nothing(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "client-secret"
    path.write_bytes(b"same")
    secret = WatchedSecret(path, "same", "MCP_OIDC_CLIENT_SECRET_FILE")
    replace(path, b"same\n")  # a new file, the same secret
    clock.now += 2 * CHECK_SECONDS
    with caplog.at_level(logging.INFO, logger="app.key_files"):
        assert secret.value() == "same"
    assert [r.getMessage() for r in reload_logs(caplog)] == []


def test_the_deny_list_metric_names_the_list_in_force(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "denylist"
    path.write_bytes(b"one\n")
    denylist = Denylist(path, frozenset({"one"}))
    replace(path, b"two\nthree\n")
    clock.now += 2
    assert denylist.ids() == frozenset({"two", "three"})
    [sample] = [s for m in DENYLIST.collect() for s in m.samples if s.value == 1]
    assert sample.labels == {"fingerprint": denylist_fingerprint(["three", "two"])}
