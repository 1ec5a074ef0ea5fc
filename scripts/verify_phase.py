#!/usr/bin/env python3
"""Check a tutorial phase: `scripts/verify_phase.py N [--live]`, `--list`, `--check NAME`.

The command `make verify PHASE=N` and the tutorial run; the verifier itself is
the package scripts/verify/ (`--help` tells the rest).
"""

import sys

from verify.cli import main

if __name__ == "__main__":
    sys.exit(main())
