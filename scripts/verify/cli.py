"""Check a tutorial phase: run its Verify block as checks, one PASS/FAIL line each.

    scripts/verify_phase.py N              # the checks that run anywhere (offline)
    scripts/verify_phase.py N --live       # also the ones that need the cloud
    scripts/verify_phase.py all            # every phase, offline
    scripts/verify_phase.py [N] --list     # each phase's checks: name and title, none run
    scripts/verify_phase.py --check NAME   # run one check (a name from --list)

`make verify PHASE=N [LIVE=1]` runs the same. Each check prints PASS or FAIL
(with what went wrong and a hint on what to do), or SKIP when it needs
`--live` or a Docker engine that is not there. The exit code is 1 when any
check failed, 0 otherwise, 2 for a bad command line.

The checks mirror the `## Verify` block of docs/tutorial/NN-*.md. The offline
ones start what they need themselves (the server on a free loopback port with
a throwaway key, a temporary values file); the live ones use your gcloud,
kubectl and gh sessions and the outputs of the phase-5 stack. Each check is a
small function in scripts/verify/phaseN.py, registered by the decorator above it.
"""

from __future__ import annotations

import argparse
import difflib
import tempfile
from pathlib import Path

# Importing the phase modules registers their checks, in the order they define them.
from . import (
    phase0,
    phase1,
    phase2,
    phase3,
    phase4,
    phase5,
    phase6,
    phase7,
    phase8,
    phase9,
    phase10,
)
from .framework import CHECKS, PHASES, ROOT, Check, Context, Outcome, Phase, home_phase, verify

PHASE_MODULES = (
    phase0,
    phase1,
    phase2,
    phase3,
    phase4,
    phase5,
    phase6,
    phase7,
    phase8,
    phase9,
    phase10,
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    last = max(PHASES)
    parser = argparse.ArgumentParser(
        prog="verify_phase.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "phase",
        nargs="?",
        help=f"the phase number, 0 to {last}, or `all` (optional with --list and --check)",
    )
    parser.add_argument(
        "--live", action="store_true", help="also run the checks that need the cloud"
    )
    parser.add_argument(
        "--list",
        action="store_true",
        help="list the phase's checks (every phase's without N), with names, without running",
    )
    parser.add_argument(
        "--check",
        metavar="NAME",
        help="run only the check NAME (as --list names it); with N, it must be in phase N",
    )
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the project to check (default: this repository)"
    )
    args = parser.parse_args(argv)
    if args.phase is None:
        if not (args.list or args.check):
            parser.error(f"phase must be 0 to {last} or `all` (or use --list, or --check NAME)")
    elif args.phase != "all" and not (args.phase.isdigit() and int(args.phase) in PHASES):
        parser.error(f"phase must be 0 to {last} or `all`, not {args.phase!r}")
    if args.check is not None:
        if args.check not in CHECKS:
            close = difflib.get_close_matches(args.check, CHECKS, n=3)
            suggestion = f"; did you mean {', '.join(close)}?" if close else ""
            parser.error(f"no check is named {args.check!r}{suggestion} (see --list)")
        chosen = CHECKS[args.check]
        if args.phase not in (None, "all") and chosen not in PHASES[int(args.phase)].checks:
            parser.error(f"phase {args.phase} has no check {args.check!r} (see --list)")
    return args


def list_checks(phases: list[Phase], root: Path) -> None:
    for phase in phases:
        print(phase.title(root))
        for registered in phase.checks:
            live = "[live] " if registered.live else ""
            print(f"  - {live}{registered.title}  ({registered.name})")


def run_one(registered: Check, ctx: Context) -> list[Outcome]:
    """The check under its own phase's heading, as the phase's report would show it."""
    home = home_phase(registered)
    return verify(Phase(home.number, home.doc, [registered]), ctx)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = args.root.resolve()
    numbers = sorted(PHASES) if args.phase in (None, "all") else [int(args.phase)]
    if args.list:
        list_checks([PHASES[number] for number in numbers], root)
        return 0
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="verify-phase-") as scratch:
        ctx = Context(root=root, live=args.live, scratch=Path(scratch))
        with ctx.stack:
            if args.check is not None:
                outcomes = run_one(CHECKS[args.check], ctx)
            else:
                for number in numbers:
                    outcomes += verify(PHASES[number], ctx)
    failed = sum(o.status == "FAIL" for o in outcomes)
    if args.check is None and len(numbers) > 1:
        passed = sum(o.status == "PASS" for o in outcomes)
        skipped = len(outcomes) - passed - failed
        print(f"all phases: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0
