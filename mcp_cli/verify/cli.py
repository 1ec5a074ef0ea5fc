"""Check a tutorial phase: run its Verify block as checks, one PASS/FAIL line each.

    mcp-verify N              # the checks that run anywhere (offline)
    mcp-verify N --live       # also the ones that need the cloud
    mcp-verify all            # every phase, offline
    mcp-verify [N] --list     # each phase's checks: name and title, none run
    mcp-verify --check NAME   # run one check (a name from --list)

`make verify PHASE=N [LIVE=1]` runs the same. Each check prints PASS or FAIL
(with what went wrong and a hint on what to do), or SKIP when it needs
`--live`, a Docker engine or a file of a later step. The exit code is 1 when
any check failed, 0 otherwise, 2 for a bad command line.

Most offline checks run the test suite's own tests of the behaviour; the live
ones use your gcloud, kubectl and gh sessions and the applied stack's outputs.
"""

from __future__ import annotations

import argparse
import difflib
import tempfile
from pathlib import Path

from . import live
from .checks import ROOT, Context, Phase, summary, verify
from .phases import CHECKS, HOME, PHASES


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    last = PHASES[-1].number
    parser = argparse.ArgumentParser(
        prog="mcp-verify", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "phase", nargs="?", help=f"the phase, 0 to {last}, or `all` (optional with --list, --check)"
    )
    parser.add_argument("--live", action="store_true", help="also the checks that need the cloud")
    parser.add_argument("--list", action="store_true", help="list the checks; run none")
    parser.add_argument("--check", metavar="NAME", help="run only the check NAME (see --list)")
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the project to check (default: this one)"
    )
    args = parser.parse_args(argv)
    numbers = [str(phase.number) for phase in PHASES]
    if args.phase is None and not (args.list or args.check):
        parser.error(f"phase must be 0 to {last} or `all` (or use --list, or --check NAME)")
    if args.phase not in (None, "all", *numbers):
        parser.error(f"phase must be 0 to {last} or `all`, not {args.phase!r}")
    if args.check is not None and args.check not in CHECKS:
        close = difflib.get_close_matches(args.check, CHECKS, n=3)
        suggestion = f"; did you mean {', '.join(close)}?" if close else ""
        parser.error(f"no check is named {args.check!r}{suggestion} (see --list)")
    if (
        args.check
        and args.phase in numbers
        and CHECKS[args.check] not in PHASES[int(args.phase)].checks
    ):
        parser.error(f"phase {args.phase} has no check {args.check!r} (see --list)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = args.root.resolve()
    phases = list(PHASES) if args.phase in (None, "all") else [PHASES[int(args.phase)]]
    if args.check:  # under its own phase's heading, as the phase's report shows it
        home = HOME[args.check]
        phases = [Phase(home.number, home.doc, (CHECKS[args.check],))]
    if args.list:
        for phase in phases:
            print(phase.title(root))
            for check in phase.checks:
                print(f"  - {'[live] ' if check.live else ''}{check.title}  ({check.name})")
        return 0
    statuses: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mcp-verify-") as scratch:
        ctx = Context(root=root, live=args.live, scratch=Path(scratch), resolve=live.resolve)
        for phase in phases:
            statuses += verify(phase, ctx)
    if len(phases) > 1:
        print(f"all phases: {summary(statuses)}")
    return 1 if "FAIL" in statuses else 0
