"""Per-client state stays within its size limit however many clients come and go."""

from __future__ import annotations

import pytest

import app.rate_limit
from app.rate_limit import TokenBucket


def test_rate_limit_buckets_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.rate_limit, "MAX_TRACKED_KEYS", 3)
    bucket = TokenBucket(per_minute=60)
    for n in range(10):
        assert bucket.take(f"subject-{n}", now=float(n)) == 0.0
    assert len(bucket._buckets) == 3
    # The idlest keys went first: the three most recent remain.
    assert list(bucket._buckets) == ["subject-7", "subject-8", "subject-9"]


def test_a_forgotten_subject_starts_with_a_full_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.rate_limit, "MAX_TRACKED_KEYS", 1)
    bucket = TokenBucket(per_minute=1)
    assert bucket.take("a", now=0.0) == 0.0
    assert bucket.take("a", now=0.0) > 0  # spent
    assert bucket.take("b", now=0.0) == 0.0  # pushes "a" out
    assert bucket.take("a", now=0.0) == 0.0
