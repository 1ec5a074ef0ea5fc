"""A pytest plugin the verifier loads (`-p mcp_cli.verify.record`): each test's outcome.

The verifier runs a phase's tests in one pytest session; this appends one JSON
line a test (its node id, passed/failed/skipped, and why) to the file named by
VERIFY_OUTCOMES_FILE, from which each check reports on its own tests.
"""

from __future__ import annotations

import json
import os

import pytest

from .checks import OUTCOMES_VARIABLE


def why(report: pytest.TestReport | pytest.CollectReport) -> str:
    """A skip's reason, or a failure's first `E` line (else its last line)."""
    if isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    lines = [line.strip() for line in report.longreprtext.splitlines() if line.strip()]
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    return (errors or lines[-1:] or [report.outcome])[0]


def record(report: pytest.TestReport | pytest.CollectReport) -> None:
    line = {"test": report.nodeid, "outcome": report.outcome, "why": why(report)}
    with open(os.environ[OUTCOMES_VARIABLE], "a", encoding="utf-8") as file:
        file.write(json.dumps(line) + "\n")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # A test's call, or its setup or teardown when they did not pass (a skip is a setup's).
    if report.when == "call" or not report.passed:
        record(report)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:  # a module that does not import: its tests never run
        record(report)
