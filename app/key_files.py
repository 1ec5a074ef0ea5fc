"""Signing keys and the deny-list, re-read when their files change, without a restart.

Kubelet updates a mounted Secret or ConfigMap by writing a new timestamped
directory and flipping the `..data` symlink to it, so the file a path names
changes identity (a new inode) in one atomic step. Each WatchedFile looks at
its path's identity at most once per CHECK_SECONDS, when asked for its value,
and re-reads only when it changed. No background task, no restart, and a
request in flight keeps the keys it started with.

A new key that fails validation is refused with a log line and the last good
keys stay in force; a previous-key file that disappears drops that key (the
rotation is over). Keys are logged by fingerprint (a hash prefix), never as keys.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from app import reload_metrics
from app.tokens import MIN_KEY_BYTES

log = logging.getLogger("app.key_files")

CHECK_SECONDS = 1.0
T = TypeVar("T")


def fingerprint(key: bytes) -> str:
    """A short, non-reversible name for a key, safe to log."""
    return hashlib.sha256(key).hexdigest()[:12]


def check_key(key: bytes) -> bytes:
    """The key without surrounding whitespace; ValueError when it is too short."""
    key = key.strip()
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the key is {len(key)} bytes, it must be at least {MIN_KEY_BYTES}")
    return key


def parse_denylist(data: bytes) -> frozenset[str]:
    """Token ids (`jti`), one per line; `#` starts a comment, blank lines are skipped.

    A line `sub:<subject>` revokes every token of that subject (see `is_revoked`).
    """
    # utf-8-sig: an editor's byte order mark must not become part of the first id.
    text = data.decode("utf-8-sig")
    return frozenset(
        token_id for line in text.splitlines() if (token_id := line.split("#", 1)[0].strip())
    )


SUBJECT_PREFIX = "sub:"


def is_revoked(token_id: str | None, subject: str | None, revoked: frozenset[str]) -> bool:
    """Is the token listed by its `jti`, or its subject by a `sub:<subject>` line?"""
    return (token_id is not None and token_id in revoked) or (
        subject is not None and SUBJECT_PREFIX + subject in revoked
    )


def _identity(path: Path) -> tuple[int, ...] | None:
    try:
        info = os.stat(path)  # follows the ..data symlink to the file it names now
    except OSError:
        return None
    # ctime too: `cp -p` rewrites a file in place (same inode) and puts its old
    # mtime back, and the size may not change; only ctime, which no tool can
    # set back, tells that the content was written.
    return info.st_dev, info.st_ino, info.st_mtime_ns, info.st_ctime_ns, info.st_size


class WatchedFile(Generic[T]):
    """The parsed content of `path`, refreshed when the file behind the path changes."""

    def __init__(
        self,
        path: Path,
        parse: Callable[[bytes], T],
        label: str,
        initial: T | None,
        *,
        optional: bool = False,
    ) -> None:
        self.path = path
        self.parse = parse
        self.label = label  # the setting that names the file, for log lines
        self.optional = optional  # may the file go away (value None), or is that refused?
        self.value: T | None = initial
        self._identity = _identity(path)
        self._checked = time.monotonic()
        reload_metrics.watching(label)

    def due(self, now: float | None = None) -> bool:
        """Is it time to look at the file again?"""
        now = time.monotonic() if now is None else now
        return now - self._checked >= CHECK_SECONDS

    def refresh(self, now: float | None = None) -> bool:
        """Re-read if the file changed since the last look; True when the value changed."""
        now = time.monotonic() if now is None else now
        if not self.due(now):
            return False
        self._checked = now
        identity = _identity(self.path)
        if identity == self._identity:
            return False
        self._identity = identity
        if identity is None:
            if not self.optional:
                log.error(
                    "file removed, keeping the last good one",
                    extra={"event": "reload", "setting": self.label},
                )
                reload_metrics.refused(self.label)
                return False
            log.info("file removed", extra={"event": "reload", "setting": self.label})
            reload_metrics.loaded(self.label)
            changed = self.value is not None
            self.value = None
            return changed
        try:
            value = self.parse(self.path.read_bytes())
        except (OSError, ValueError) as exc:
            # The last good value stays in force; the next change is looked at again.
            log.error(
                "file refused, keeping the last good one",
                extra={"event": "reload", "setting": self.label, "reason": str(exc)},
            )
            reload_metrics.refused(self.label)
            return False
        reload_metrics.loaded(self.label)
        changed = value != self.value
        self.value = value
        return changed


class KeyRing:
    """The HS256 keys to try, current first: from settings, with their files watched."""

    def __init__(
        self,
        current: bytes | None,
        previous: bytes | None,
        current_file: Path | None = None,
        previous_file: Path | None = None,
    ) -> None:
        self._static = (current, previous)
        self._files = (
            WatchedFile(current_file, check_key, "MCP_JWT_SECRET_FILE", current)
            if current_file
            else None,
            WatchedFile(
                previous_file, check_key, "MCP_JWT_PREVIOUS_SECRET_FILE", previous, optional=True
            )
            if previous_file
            else None,
        )
        self.generation = 0  # grows with every change; verified tokens are forgotten then
        self.keys = self._collect()

    def _collect(self) -> tuple[bytes, ...]:
        current_file, previous_file = self._files
        current = current_file.value if current_file else self._static[0]
        previous = previous_file.value if previous_file else self._static[1]
        reload_metrics.serving_keys(
            fingerprint(current) if current is not None else None,
            fingerprint(previous) if previous is not None else None,
        )
        # Both files may hold the same key (previous version = current): try it once.
        return tuple(dict.fromkeys(key for key in (current, previous) if key is not None))

    def refresh(self, now: float | None = None) -> tuple[bytes, ...]:
        """The keys now in force, re-read from their files if those changed."""
        current_file, previous_file = self._files
        changed = False
        if current_file is not None:
            changed |= current_file.refresh(now)
        if previous_file is not None:
            changed |= previous_file.refresh(now)
        if changed:
            self.keys = self._collect()
            self.generation += 1
            log.info(
                "signing keys loaded",
                extra={
                    "event": "reload",
                    "fingerprints": [fingerprint(key) for key in self.keys],
                },
            )
        return self.keys


class Denylist:
    """Revoked token ids from MCP_JWT_DENYLIST_FILE (empty when the setting is unset)."""

    def __init__(self, path: Path | None, initial: frozenset[str] = frozenset()) -> None:
        self._file = (
            WatchedFile(path, parse_denylist, "MCP_JWT_DENYLIST_FILE", initial) if path else None
        )
        if self._file is not None:
            reload_metrics.serving_denylist(initial)
        self._reloading = asyncio.Lock()

    async def current(self) -> frozenset[str]:
        """The revoked ids, re-read in a worker thread when the file changed.

        A list of a million ids takes seconds to read and parse: on the event loop
        that would stall every request and probe. While one request waits for the
        re-read, the others go on with the list in force until it is done.
        """
        if self._file is None:
            return frozenset()
        if self._file.due() and not self._reloading.locked():
            async with self._reloading:
                return await asyncio.to_thread(self.ids)
        return self._file.value or frozenset()

    def ids(self, now: float | None = None) -> frozenset[str]:
        if self._file is None:
            return frozenset()
        if self._file.refresh(now):
            reload_metrics.serving_denylist(self._file.value or ())
            log.info(
                "deny-list loaded",
                extra={"event": "reload", "revoked": len(self._file.value or ())},
            )
        return self._file.value or frozenset()


def parse_secret(data: bytes) -> str:
    """A secret file's text without surrounding whitespace; ValueError when empty."""
    secret = data.decode("utf-8").strip()
    if not secret:
        raise ValueError("the file is empty")
    return secret


class WatchedSecret:
    """A secret from a mounted file (MCP_OIDC_CLIENT_SECRET_FILE), following the file."""

    def __init__(self, path: Path, initial: str, label: str) -> None:
        self._file = WatchedFile(path, parse_secret, label, initial)

    def value(self, now: float | None = None) -> str:
        if self._file.refresh(now):
            log.info(
                "secret loaded",
                extra={
                    "event": "reload",
                    "setting": self._file.label,
                    "fingerprint": fingerprint((self._file.value or "").encode()),
                },
            )
        assert self._file.value is not None  # a required file keeps its last good value
        return self._file.value
