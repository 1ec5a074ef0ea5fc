"""A log record with an exception stays one JSON line, the traceback inside it."""

from __future__ import annotations

import json
import logging
import sys

from app.logs import JsonFormatter


def test_exception_travels_inside_the_json_line() -> None:
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("app.test", logging.ERROR, __file__, 1, "failed", None, exc_info)
    record.reason = "test"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["severity"] == "ERROR"
    assert entry["message"] == "failed"
    assert entry["reason"] == "test"
    # What Error Reporting reads: Python's traceback text in stack_trace, and the type.
    assert entry["stack_trace"].startswith("Traceback (most recent call last):")
    assert entry["stack_trace"].endswith("ValueError: boom\nsecond line")
    assert entry["@type"] == (
        "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent"
    )
