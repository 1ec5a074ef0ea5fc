"""The real server with Python's default garbage-collector threshold: the baseline for app's own.

app/__main__.py raises the youngest generation's threshold; benchmarks/run.py
runs this next to `python -m app`, in the same rounds, so what the threshold
gives is measured like everything else. Everything but the threshold is the
real server.
"""

from __future__ import annotations

import gc
import sys

import app.__main__ as entry


def main() -> int:
    entry.GC_YOUNG_THRESHOLD = gc.get_threshold()[0]  # the interpreter's default, 700
    return entry.main()


if __name__ == "__main__":
    sys.exit(main())
