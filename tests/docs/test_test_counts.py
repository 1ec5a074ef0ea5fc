"""The test counts phase 3's Verify block shows are the counts pytest collects today.

A test added or removed would otherwise leave the tutorial promising a number
the learner never sees. Only collection runs here (seconds), not the tests.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

from tests.helpers import ROOT

DOC = ROOT / "docs" / "tutorial" / "03-tests.md"
COMMAND = re.compile(r"^\$ \.venv/bin/pytest (?P<args>.+?) 2>&1 \| tail -1\n(?P<out>.+)$", re.M)
SHOWN = re.compile(r"^(\d+) passed(?:, (\d+) deselected)? in ")


def shown_counts() -> list[tuple[list[str], tuple[int, int]]]:
    found = []
    for match in COMMAND.finditer(DOC.read_text(encoding="utf-8")):
        out = SHOWN.match(match["out"])
        assert out is not None, f"unexpected summary line: {match['out']}"
        args = [a for a in shlex.split(match["args"]) if a != "-q"]
        found.append((args, (int(out[1]), int(out[2] or 0))))
    return found


def test_phase_3_shows_test_counts() -> None:
    assert len(shown_counts()) >= 2


@pytest.mark.parametrize(
    ("args", "counts"), shown_counts(), ids=lambda v: " ".join(v) if isinstance(v, list) else ""
)
def test_shown_counts_are_what_pytest_collects(args: list[str], counts: tuple[int, int]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    last = result.stdout.strip().splitlines()[-1]
    collected = re.match(r"^(?:(\d+)/)?(\d+) tests? collected(?: \((\d+) deselected\))?", last)
    assert collected is not None, result.stdout[-2000:] + result.stderr[-2000:]
    selected = int(collected[1] or collected[2])
    deselected = int(collected[3] or 0)
    assert (selected, deselected) == counts, f"03-tests.md shows {counts}; pytest collects {last}"
