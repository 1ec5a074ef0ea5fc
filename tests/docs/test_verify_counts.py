"""The verifier summaries the tutorial prints add up to the checks each phase registers.

A phase gains or loses a check and its Verify block's `phase N: P passed, 0
failed, S skipped` line goes stale; this test says which doc to fix.
"""

from __future__ import annotations

import re

import pytest

from scripts.verify import cli, framework
from tests.helpers import ROOT

assert cli.PHASE_MODULES  # importing cli registers every phase's checks

SUMMARY = re.compile(r"^phase (\d+): (\d+) passed, (\d+) failed, (\d+) skipped$", re.M)
DOCS = sorted((ROOT / "docs" / "tutorial").glob("*.md"))
LINES = [
    (doc.name, tuple(int(n) for n in match))
    for doc in DOCS
    for match in SUMMARY.findall(doc.read_text(encoding="utf-8"))
]


def test_the_tutorial_shows_verifier_summaries() -> None:
    assert len({name for name, _ in LINES}) >= 4


@pytest.mark.parametrize(("doc", "counts"), LINES, ids=[f"{d}:{c[0]}" for d, c in LINES])
def test_summary_counts_every_check_of_the_phase(doc: str, counts: tuple[int, ...]) -> None:
    phase, passed, failed, skipped = counts
    assert failed == 0, f"{doc} shows a failing Verify"
    registered = len(framework.PHASES[phase].checks)
    assert passed + skipped == registered, (
        f"{doc}: phase {phase} has {registered} checks; its summary counts {passed + skipped}"
    )
