"""`python -m verify` (from scripts/): the same command line as scripts/verify_phase.py."""

import sys

from .cli import main

sys.exit(main())
