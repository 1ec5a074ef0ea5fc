"""Phase 3, tests and linters: the suites pass, and the alg=none test is there."""

from __future__ import annotations

import re

from .framework import CheckFailed, Context, check, declare_phase, last_lines

declare_phase(3, "03-tests.md")

PYTEST = ("-m", "pytest", "-q", "-p", "no:cacheprovider")


@check(phase=3, title="the in-process tests pass", hint="`.venv/bin/pytest tests/app -q`")
def app_tests_pass(ctx: Context) -> None:
    ctx.run(ctx.python, *PYTEST, "tests/app", timeout=600)


@check(
    phase=3,
    title="the integration tests pass",
    hint="`.venv/bin/pytest tests/integration -q`",
)
def integration_tests_pass(ctx: Context) -> None:
    ctx.run(ctx.python, *PYTEST, "tests/integration", timeout=900)


@check(phase=3, title="the alg=none test is there and passes", hint="tests/app/test_auth.py")
def alg_none_test_passes(ctx: Context) -> None:
    result = ctx.run(ctx.python, *PYTEST, "tests/app", "-k", "alg_none")
    if not re.search(r"^1 passed", result.stdout.strip().splitlines()[-1]):
        raise CheckFailed(f"expected exactly one alg=none test: {last_lines(result.stdout, 1)}")
