"""The verifier's framework: checks, the registry of phases, the context, the report.

A check is a function of the shared `Context` that returns on success and
raises `CheckFailed` (what is wrong, and maybe a better hint) or
`CheckSkipped` (it cannot run here). The `check` decorator registers it in
its phase, right above its body; a phase's checks run in the order their
modules define them. `repeat` lists a check of an earlier phase again, at
that point in a later one (phase 9 re-runs the checks a rollout could break).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent


class CheckFailed(Exception):
    """A check's finding: what is wrong, and optionally a hint better than the default."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class CheckSkipped(Exception):
    """The check cannot run here (e.g. no Docker engine); the reason is printed."""


CheckFunction = Callable[["Context"], None]


@dataclass(frozen=True)
class Check:
    """One check: the report's line (`title`), its function, the default hint, and
    whether it needs the cloud (`live`). Made by the `check` decorator."""

    title: str
    run: CheckFunction
    hint: str
    live: bool = False

    @property
    def name(self) -> str:
        """What `--check NAME` takes: the function's name."""
        return self.run.__name__


@dataclass
class Phase:
    """A tutorial phase: its number, its doc in docs/tutorial/, its checks in order."""

    number: int
    doc: str
    checks: list[Check] = field(default_factory=list)

    def title(self, root: Path) -> str:
        """The doc's first heading, so the verifier and the tutorial never disagree."""
        heading = f"Phase {self.number}"
        path = root / "docs" / "tutorial" / self.doc
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.startswith("# "):
                    text = line[2:].strip()
                    heading = text if text.startswith("Phase") else f"{heading}: {text}"
                    break
        return heading


# --- the registry: filled as the phase modules are imported -----------------------------

PHASES: dict[int, Phase] = {}
CHECKS: dict[str, Check] = {}  # by name, each check once (a repeat is the same check)


def declare_phase(number: int, doc: str) -> Phase:
    """Register phase `number`, checked against docs/tutorial/`doc`; its checks follow."""
    if number in PHASES:
        raise ValueError(f"phase {number} is declared twice")
    PHASES[number] = Phase(number, doc)
    return PHASES[number]


def check(
    *, phase: int, title: str, hint: str, live: bool = False
) -> Callable[[CheckFunction], Check]:
    """Register the function below as the next check of `phase`.

    `title` is the line the report prints, `hint` what to do when it fails,
    and `live` marks a check that needs the cloud (it runs only with --live).
    """

    def register(function: CheckFunction) -> Check:
        if phase not in PHASES:
            raise ValueError(f"{function.__name__}: phase {phase} is not declared")
        if function.__name__ in CHECKS:
            raise ValueError(f"two checks are named {function.__name__}")
        registered = Check(title, function, hint, live)
        CHECKS[registered.name] = registered
        PHASES[phase].checks.append(registered)
        return registered

    return register


def repeat(registered: Check, *, phase: int) -> None:
    """Run a check of an earlier phase again as the next check of `phase`."""
    if phase not in PHASES:
        raise ValueError(f"{registered.name}: phase {phase} is not declared")
    PHASES[phase].checks.append(registered)


def home_phase(registered: Check) -> Phase:
    """The first phase that runs the check (where its function is defined)."""
    return next(p for _, p in sorted(PHASES.items()) if registered in p.checks)


# --- what the checks share ---------------------------------------------------------------


@dataclass
class Context:
    """What the checks share: where the project is, and things started once per run."""

    root: Path
    live: bool
    scratch: Path
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def python(self) -> str:
        venv = self.root / ".venv" / "bin" / "python"
        return str(venv) if venv.exists() else sys.executable

    def path(self, relative: str | Path) -> Path:
        return self.root / relative

    def run(
        self,
        *args: str | Path,
        timeout: float = 300,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the project; on failure raise CheckFailed with its output."""
        command = [str(arg) for arg in args]
        try:
            result = subprocess.run(
                command,
                cwd=cwd or self.root,
                env={**base_env(), **(env or {})},
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            raise CheckFailed(f"{command[0]} is not installed") from exc
        except subprocess.TimeoutExpired as exc:
            raise CheckFailed(f"`{' '.join(command)}` did not finish in {timeout:.0f} s") from exc
        if check and result.returncode != 0:
            raise CheckFailed(
                f"`{shorten(' '.join(command))}` exited {result.returncode}: "
                f"{last_lines(result.stderr or result.stdout)}"
            )
        return result

    def tool(self, name: str) -> str:
        """A validator from `make tools` (.tools/bin) or PATH."""
        candidate = self.root / ".tools" / "bin" / name
        if candidate.exists():
            return str(candidate)
        found = shutil.which(name)
        if found is None:
            raise CheckFailed(f"{name} is not installed", hint="run `make tools`")
        return found


def base_env() -> dict[str, str]:
    """This process's environment without the server's MCP_* settings.

    An `MCP_JWT_SECRET_FILE` or `MCP_RATE_LIMIT_PER_MINUTE` exported in the
    learner's shell must not change what the checks start and compare; only
    MCP_INFRA_CONFIG (where the infra config lives) is kept, as `make synth`
    reads it too.
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


@dataclass
class Outcome:
    check: Check
    status: str  # PASS, FAIL or SKIP
    detail: str = ""
    hint: str = ""


def run_check(registered: Check, ctx: Context) -> Outcome:
    if registered.live and not ctx.live:
        return Outcome(registered, "SKIP", "needs --live")
    try:
        registered.run(ctx)
    except CheckFailed as failure:
        return Outcome(registered, "FAIL", str(failure), failure.hint or registered.hint)
    except CheckSkipped as skipped:
        return Outcome(registered, "SKIP", str(skipped))
    except Exception as error:  # a bug or an unexpected state: report it, keep going
        return Outcome(registered, "FAIL", f"{type(error).__name__}: {error}", registered.hint)
    return Outcome(registered, "PASS")


def print_outcome(outcome: Outcome) -> None:
    prefix = "[live] " if outcome.check.live else ""
    line = f"  {outcome.status}  {prefix}{outcome.check.title}"
    if outcome.status == "SKIP":
        line += f"  ({outcome.detail})"
    print(line, flush=True)
    if outcome.status == "FAIL":
        print(f"        why:  {outcome.detail}")
        print(f"        hint: {outcome.hint}")


def verify(phase: Phase, ctx: Context) -> list[Outcome]:
    """Run the phase's checks in order, a line each, then the phase's totals."""
    print(f"{phase.title(ctx.root)}  (docs/tutorial/{phase.doc})")
    outcomes = []
    for registered in phase.checks:
        outcome = run_check(registered, ctx)
        print_outcome(outcome)
        outcomes.append(outcome)
    counts = {status: sum(o.status == status for o in outcomes) for status in ("PASS", "FAIL")}
    skipped = len(outcomes) - counts["PASS"] - counts["FAIL"]
    print(
        f"phase {phase.number}: {counts['PASS']} passed, {counts['FAIL']} failed, {skipped} skipped"
    )
    return outcomes
