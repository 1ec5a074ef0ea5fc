"""The three kinds of check, the context they share, and the PASS/FAIL report.

A check passes, or raises `CheckFailed` (what is wrong, maybe a better hint)
or `CheckSkipped` (it cannot run here). `Suite` passes when the test suite's
own tests of that behaviour pass: the verifier runs them rather than proving
the same thing a second way. `Command` runs one command and matches what it
prints. `Function` is for the few checks that are more than that.
"""

from __future__ import annotations

import json
import os
import re
import string
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Where each test's outcome goes: the record plugin appends a JSON line per test.
OUTCOMES_VARIABLE = "VERIFY_OUTCOMES_FILE"


class CheckFailed(Exception):
    """A check's finding: what is wrong, and optionally a hint better than the check's."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class CheckSkipped(Exception):
    """The check cannot run here (no Docker engine, no config yet); the reason is printed."""


@dataclass(frozen=True)
class Check:
    """One line of the report: `name` for --check, `title`, the hint on failure.

    `live` checks need the cloud (they run with --live); without the file
    `needs` in the project a check is skipped (it is the learner's, not there yet).
    """

    name: str
    title: str
    hint: str
    live: bool = field(default=False, kw_only=True)
    needs: str = field(default="", kw_only=True)

    def run(self, ctx: Context) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class Suite(Check):
    """Passes when these tests (pytest node ids or paths) pass; skips when they all skip."""

    tests: tuple[str, ...]

    def run(self, ctx: Context) -> None:
        ran = {
            test: outcome
            for test, outcome in ctx.outcomes.items()
            if any(related(selection, test) for selection in self.tests)
        }
        missing = [s for s in self.tests if not any(related(s, test) for test in ran)]
        if missing:
            raise CheckFailed(f"no test ran for {missing}: {ctx.pytest_error or 'none matched'}")
        failed = [f"{test}: {why}" for test, (outcome, why) in ran.items() if outcome == "failed"]
        if failed:
            more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
            command = f"`.venv/bin/pytest {' '.join(self.tests)} -q`"
            raise CheckFailed(failed[0] + more, hint=f"{self.hint}; {command} shows why")
        if all(outcome == "skipped" for outcome, _ in ran.values()):
            raise CheckSkipped(next(iter(ran.values()))[1])


@dataclass(frozen=True)
class Command(Check):
    """Passes when the command exits 0 and what it prints matches `expect` (a regex, whole).

    Arguments and `expect` may name facts as ${name} (terraform outputs, the
    Application's names, values-gke.yaml's image): see `Facts`.
    """

    argv: tuple[str, ...]
    expect: str | None = None  # None: exit 0 is enough; "": it must print nothing

    def run(self, ctx: Context) -> None:
        argv = [string.Template(arg).substitute(ctx.facts) for arg in self.argv]
        output = ctx.run(*argv, timeout=1200).stdout.strip()
        if self.expect is not None:
            template = string.Template(self.expect)
            names = template.get_identifiers()
            pattern = template.substitute({n: re.escape(ctx.facts[n]) for n in names})
            if not re.fullmatch(pattern, output, re.S):
                raise CheckFailed(f"`{shorten(' '.join(argv))}` printed {shorten(output)!r}")


@dataclass(frozen=True)
class Function(Check):
    function: Callable[[Context], None]

    def run(self, ctx: Context) -> None:
        self.function(ctx)


def related(selection: str, test: str) -> bool:
    """Whether pytest node id `test` lies within `selection` (or holds it, for a module error)."""
    inner, outer = (test, selection) if len(test) >= len(selection) else (selection, test)
    return inner == outer or any(inner.startswith(outer + sep) for sep in "/:[")


@dataclass(frozen=True)
class Phase:
    number: int
    doc: str
    checks: tuple[Check, ...]

    def title(self, root: Path) -> str:
        """The doc's first heading, so the verifier and the tutorial never disagree."""
        path = root / "docs" / "tutorial" / self.doc
        lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        heading = next((line[2:].strip() for line in lines if line.startswith("# ")), "")
        if heading.startswith("Phase"):
            return heading
        return f"Phase {self.number}: {heading}" if heading else f"Phase {self.number}"


class Facts(dict[str, str]):
    """Names the live checks use, each looked up on first use (by live.py's `resolve`)."""

    def __init__(self, resolve: Callable[[str], dict[str, str]]) -> None:
        super().__init__()
        self.resolve = resolve

    def __missing__(self, name: str) -> str:
        self.update(self.resolve(name))
        if name not in self:
            raise CheckFailed(
                f"terraform output {name} is missing", hint="apply the stack (phase 5)"
            )
        return self[name]


@dataclass
class Context:
    """What the checks share: the project, --live, a scratch directory, facts, test outcomes."""

    root: Path
    live: bool
    scratch: Path
    resolve: Callable[[Context, str], dict[str, str]]
    outcomes: dict[str, tuple[str, str]] = field(default_factory=dict)
    tested: set[str] = field(default_factory=set)
    pytest_error: str = ""

    def __post_init__(self) -> None:
        self.facts = Facts(lambda name: self.resolve(self, name))

    @property
    def python(self) -> str:
        venv = self.root / ".venv" / "bin" / "python"
        return str(venv) if venv.exists() else sys.executable

    def path(self, relative: str | Path) -> Path:
        return self.root / relative

    def run(
        self, *args: str | Path, timeout: float = 300, check: bool = True, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the project; on failure raise CheckFailed with its output."""
        command = [str(arg) for arg in args]
        try:
            result = subprocess.run(
                command,
                cwd=self.root,
                env={**base_env(), **env},
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            raise CheckFailed(f"{command[0]} is not installed") from exc
        except subprocess.TimeoutExpired as exc:
            raise CheckFailed(f"`{shorten(' '.join(command))}` took over {timeout:.0f} s") from exc
        if check and result.returncode != 0:
            raise CheckFailed(
                f"`{shorten(' '.join(command))}` exited {result.returncode}: "
                f"{last_lines(result.stderr or result.stdout)}"
            )
        return result

    def run_tests(self, checks: Iterable[Check]) -> None:
        """One pytest session for every test the checks name that has not run yet."""
        selections = sorted(
            {s for c in checks if isinstance(c, Suite) for s in c.tests} - self.tested
        )
        if not selections:
            return
        self.tested.update(selections)
        record = self.scratch / f"outcomes-{len(self.tested)}.jsonl"
        result = self.run(
            self.python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "-p", "mcp_cli.verify.record", "--continue-on-collection-errors", *selections,
            timeout=3600, check=False, **{OUTCOMES_VARIABLE: str(record)},
        )  # fmt: skip
        if result.returncode not in (0, 1):
            self.pytest_error = f"pytest exited {result.returncode}: {last_lines(result.stdout)}"
        lines = record.read_text(encoding="utf-8").splitlines() if record.exists() else []
        for line in lines:
            outcome = json.loads(line)
            self.outcomes[outcome["test"]] = (outcome["outcome"], outcome["why"])


def base_env() -> dict[str, str]:
    """This environment without the server's MCP_* settings (a learner's shell may export some).

    MCP_INFRA_CONFIG (where the infra config lives) stays: `make synth` reads it too.
    """
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("MCP_") or name == "MCP_INFRA_CONFIG"
    }


def shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def last_lines(text: str, count: int = 3) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:]) if lines else "(no output)"


# --- running and reporting --------------------------------------------------------------


def outcome_of(check: Check, ctx: Context) -> tuple[str, str, str]:
    """(PASS, FAIL or SKIP; why; hint)."""
    if check.live and not ctx.live:
        return "SKIP", "needs --live", ""
    if check.needs and not ctx.path(check.needs).exists():
        return "SKIP", f"no {check.needs} yet", ""
    try:
        check.run(ctx)
    except CheckFailed as failure:
        return "FAIL", str(failure), failure.hint or check.hint
    except CheckSkipped as skipped:
        return "SKIP", str(skipped), ""
    except Exception as error:  # a bug or an unexpected state: report it, keep going
        return "FAIL", f"{type(error).__name__}: {error}", check.hint
    return "PASS", "", ""


def verify(phase: Phase, ctx: Context) -> list[str]:
    """Run the phase's checks in order, a line each, then its totals; the statuses."""
    print(f"{phase.title(ctx.root)}  (docs/tutorial/{phase.doc})", flush=True)
    ctx.run_tests(c for c in phase.checks if ctx.live or not c.live)
    statuses = []
    for check in phase.checks:
        status, why, hint = outcome_of(check, ctx)
        live = "[live] " if check.live else ""
        print(f"  {status}  {live}{check.title}" + (f"  ({why})" if status == "SKIP" else ""))
        if status == "FAIL":
            print(f"        why:  {why}\n        hint: {hint}")
        statuses.append(status)
    print(f"phase {phase.number}: {summary(statuses)}", flush=True)
    return statuses


def summary(statuses: list[str]) -> str:
    passed, failed = statuses.count("PASS"), statuses.count("FAIL")
    return f"{passed} passed, {failed} failed, {len(statuses) - passed - failed} skipped"
