"""The verifier output the tutorial shows is what `mcp-verify` prints for the phase.

A phase gains, loses or renames a check and its Verify block goes stale: its
`phase N: P passed, 0 failed, S skipped` line, or the check lines under
`$ make -s verify PHASE=N`. These tests say which doc to fix.
"""

from __future__ import annotations

import re

import pytest

from mcp_cli.verify.phases import PHASES
from tests.helpers import ROOT

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
    registered = len(PHASES[phase].checks)
    assert passed + skipped == registered, (
        f"{doc}: phase {phase} has {registered} checks; its summary counts {passed + skipped}"
    )


def documented_output(phase: int) -> list[str]:
    """The lines under `$ make -s verify PHASE=N` in the phase's doc (none if not shown)."""
    lines = (ROOT / "docs" / "tutorial" / PHASES[phase].doc).read_text().splitlines()
    command = f"$ make -s verify PHASE={phase}"
    if command not in lines:
        return []
    start = lines.index(command) + 1
    end = next(i for i in range(start, len(lines)) if lines[i].startswith(("$ ", "```")))
    return lines[start:end]


SHOWN = [phase.number for phase in PHASES if documented_output(phase.number)]


@pytest.mark.parametrize("phase", SHOWN)
def test_documented_output_lists_the_phases_checks_in_order(phase: int) -> None:
    shown = documented_output(phase)
    checked = PHASES[phase]
    assert shown[0] == f"{checked.title(ROOT)}  (docs/tutorial/{checked.doc})"
    lines = [line for line in shown if line.startswith(("  PASS  ", "  FAIL  ", "  SKIP  "))]
    assert [line[8:].split("  (")[0] for line in lines] == [
        f"{'[live] ' if check.live else ''}{check.title}" for check in checked.checks
    ]
