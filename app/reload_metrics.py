"""What each pod serves from its watched files, and how their reloads went, as metrics.

Every pod exports the fingerprints of the signing keys it verifies with and of
the deny-list it enforces (an info gauge: value 1, the fingerprint a label),
when each watched file was last read and accepted, and how many changed files
it refused. Across pods, two fingerprints at once mean the pods disagree
(infra/mcp_infra/alert_rules.py alerts on that). A fingerprint is a hash
prefix, never the key: the same name the log lines use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from prometheus_client import Counter, Gauge

SIGNING_KEY = Gauge(
    "mcp_signing_key_info",
    "The signing keys this pod verifies with: 1 per slot (current, previous), by fingerprint",
    ["slot", "fingerprint"],
)
DENYLIST = Gauge(
    "mcp_denylist_info",
    "The deny-list this pod enforces: 1, by a fingerprint of its sorted token ids",
    ["fingerprint"],
)
LOADED = Gauge(
    "mcp_reload_success_timestamp_seconds",
    "When the file a setting names was last read and accepted (Unix time)",
    ["setting"],
)
REFUSED = Counter(
    "mcp_reload_refused_total",
    "Changed files refused (invalid, unreadable or removed); the last good value stays",
    ["setting"],
)


def denylist_fingerprint(token_ids: Iterable[str]) -> str:
    """A short name for a set of token ids: equal sets, equal names, in any order."""
    return hashlib.sha256("\n".join(sorted(token_ids)).encode()).hexdigest()[:12]


def watching(setting: str) -> None:
    """A watched file was read at start: its series exist from now on (refusals at 0)."""
    REFUSED.labels(setting)
    LOADED.labels(setting).set_to_current_time()


def loaded(setting: str) -> None:
    LOADED.labels(setting).set_to_current_time()


def refused(setting: str) -> None:
    REFUSED.labels(setting).inc()


def serving_keys(current: str | None, previous: str | None) -> None:
    """The fingerprints of the keys now in force (previous: None when there is none)."""
    SIGNING_KEY.clear()
    if current is not None:
        SIGNING_KEY.labels("current", current).set(1)
    if previous is not None and previous != current:
        SIGNING_KEY.labels("previous", previous).set(1)


def serving_denylist(token_ids: Iterable[str]) -> None:
    DENYLIST.clear()
    DENYLIST.labels(denylist_fingerprint(token_ids)).set(1)
