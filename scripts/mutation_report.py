"""Score the last `mutmut run` per module and list every mutant no test killed.

`make mutate` runs mutmut (config: [tool.mutmut] in pyproject.toml) and then
this script, which reads the results mutmut left in mutants/, drops the
mutants tests/app/equivalent_mutants.toml explains as equivalent (they behave
exactly like the original, so no test can kill them), and prints one line per
module and the diff of each survivor. It exits 1 when a module scores below
--min-score, or when an equivalents entry no longer matches its mutant (the
code changed: judge that mutant again).

Timeouts count as killed: a mutant that hangs the tests is noticed. A test
process that crashed (a signal) proves nothing either way: it is an error, and
the run is to be repeated.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections import Counter
from pathlib import Path

from mutmut.configuration import config
from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "tests" / "app" / "equivalent_mutants.toml"
DETECTED = frozenset({"killed", "timeout"})


def load_equivalents(path: Path = EQUIVALENTS) -> dict[str, str]:
    """Mutant name -> the line it writes, from [[mutant]] tables with `name`, `change`, `reason`.

    The reason is for the reader: why no test can tell the mutant from the original.
    """
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("mutant", [])
    found: dict[str, str] = {}
    for entry in entries:
        missing = {"name", "change", "reason"} - set(entry)
        if missing or not str(entry.get("reason", "")).strip():
            raise ValueError(f"{path.name}: entry {entry!r} needs name, change and a reason")
        if entry["name"] in found:
            raise ValueError(f"{path.name}: {entry['name']} is listed twice")
        found[entry["name"]] = entry["change"].strip()
    return found


def added_lines(diff: str) -> list[str]:
    """The lines a mutant's diff adds, stripped (without the '+++' header)."""
    return [
        line[1:].strip()
        for line in diff.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]


def results() -> dict[str, dict[str, str]]:
    """module path -> mutant name -> status, from the .meta files mutmut wrote."""
    by_module: dict[str, dict[str, str]] = {}
    for pattern in config().only_mutate:
        path = Path(pattern)
        data = SourceFileMutationData(path=path)
        data.load()
        by_module[str(path)] = {
            name: status_by_exit_code[code] for name, code in data.exit_code_by_key.items()
        }
    return by_module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-score", type=float, default=90.0, metavar="PERCENT")
    args = parser.parse_args(argv)

    equivalents = load_equivalents()
    by_module = results()
    if not any(by_module.values()):
        print("error: no mutation results in mutants/; run `make mutate`", file=sys.stderr)
        return 2
    problems: list[str] = []
    survivors: list[tuple[str, str, str]] = []
    known = {name for statuses in by_module.values() for name in statuses}
    for name in sorted(set(equivalents) - known):
        problems.append(f"{name} is listed as equivalent but no such mutant exists")

    print(f"{'module':<24} {'mutants':>7} {'killed':>6} {'equiv':>5} {'survived':>8} {'score':>6}")
    for module, statuses in by_module.items():
        counts: Counter[str] = Counter()
        for name, status in sorted(statuses.items()):
            if status in DETECTED:
                counts["killed"] += 1
                if name in equivalents:
                    problems.append(f"{name} is listed as equivalent but a test kills it")
                continue
            if status == "segfault":
                problems.append(f"{name}: the test process crashed; run `make mutate` again")
            diff = get_diff_for_mutant(name, path=Path(module))
            if name in equivalents:
                if equivalents[name] not in added_lines(diff):
                    problems.append(
                        f"{name} no longer makes the change listed for it "
                        f"({equivalents[name]!r}): judge it again"
                    )
                    survivors.append((name, status, diff))
                counts["equivalent"] += 1
            else:
                counts["survived"] += 1
                survivors.append((name, status, diff))
        judged = len(statuses) - counts["equivalent"]
        score = 100.0 * counts["killed"] / judged if judged else 100.0
        if score < args.min_score:
            problems.append(f"{module}: {score:.1f}% killed, below {args.min_score:g}%")
        print(
            f"{module:<24} {len(statuses):>7} {counts['killed']:>6} {counts['equivalent']:>5} "
            f"{counts['survived']:>8} {score:>5.1f}%"
        )

    for name, status, diff in survivors:
        print(f"\n# {name}: {status}\n{diff.rstrip()}")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not problems:
        print(f"\nevery module scores at least {args.min_score:g}% (equivalents excluded)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
