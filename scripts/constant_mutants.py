"""The mutants mutmut cannot make: module constants and decorated methods.

mutmut (make mutate) changes code inside undecorated functions only, so a
limit written as a module constant (MAX_DEPTH, MAX_BODY_BYTES) or a check
written as a pydantic validator or a property is never changed by it. MUTANTS
below are those changes, written by hand: each is one edit to one file. This
script applies them one at a time to a copy of the tree (mutants/constants/,
ignored by git; one copy per --jobs), runs the fast tests named for each in a
child forked from this process (which has the libraries they use imported
already, but not app/), and expects them to fail.

It prints one line per mutant and exits 1 when a mutant survives (a test is
missing), or when an edit's original text is not in its file exactly once (the
code changed: write that mutant again). A test run that takes longer than
--timeout counts as killed, as in mutmut.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import shutil
import signal
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPY = ROOT / "mutants" / "constants"
# What the tests read; the copy's app/ is imported ahead of the installed one.
COPIED = ("app", "tests", "pyproject.toml")

CONFIG_TESTS = ("tests/app/test_config.py",)
LIMIT_TESTS = ("tests/app/test_documented_limits.py",)
AUTH_TESTS = ("tests/app/test_auth.py", "tests/app/test_jwks_cache.py")
POLICY_TESTS = ("tests/app/test_policy.py",)
SIGNIN_SETTINGS_TESTS = (
    "tests/signin/test_signin_config.py::test_incomplete_sign_in_settings_are_refused",
)


@dataclass(frozen=True)
class Mutant:
    path: str  # the file, relative to the repository
    original: str  # text that occurs in it exactly once
    mutant: str  # what replaces it
    tests: tuple[str, ...]  # the fast tests that must notice

    def __str__(self) -> str:
        first = self.original.strip().splitlines()[-1].strip()
        return f"{self.path}: {first} -> {self.mutant.strip().splitlines()[-1].strip()}"


def _validator(name: str, body: str, mutant: str) -> Mutant:
    """A field validator's body changed (`def name(...)` keeps the text unique)."""
    return Mutant(
        "app/config.py",
        f"def {name}(cls, value: {body}",
        f"def {name}(cls, value: {mutant}",
        CONFIG_TESTS,
    )


def _skipped(name: str, tests: tuple[str, ...] = CONFIG_TESTS) -> Mutant:
    """A model validator that checks nothing."""
    return Mutant(
        "app/config.py",
        f"def {name}(self) -> Settings:\n",
        f"def {name}(self) -> Settings:\n        return self\n",
        tests,
    )


MUTANTS: tuple[Mutant, ...] = (
    # Request bounds (app/jsonrpc_body.py, app/body_limit.py, app/scope_gate.py).
    Mutant("app/jsonrpc_body.py", "MAX_DEPTH = 64 ", "MAX_DEPTH = 65 ", LIMIT_TESTS),
    Mutant("app/jsonrpc_body.py", "MAX_DEPTH = 64 ", "MAX_DEPTH = 63 ", LIMIT_TESTS),
    Mutant("app/scope_gate.py", "MAX_BATCH = 32", "MAX_BATCH = 31", LIMIT_TESTS),
    Mutant(
        "app/body_limit.py",
        "MAX_BODY_BYTES = 1024 * 1024",
        "MAX_BODY_BYTES = 1024 * 1024 + 1",
        LIMIT_TESTS,
    ),
    Mutant(
        "app/body_limit.py",
        "MAX_BODY_BYTES = 1024 * 1024",
        "MAX_BODY_BYTES = 1024 * 1024 - 1",
        LIMIT_TESTS,
    ),
    Mutant(
        "app/body_limit.py",
        "BODY_DEADLINE_FACTOR = 6",
        "BODY_DEADLINE_FACTOR = 12",
        LIMIT_TESTS,
    ),
    Mutant(
        "app/body_limit.py",
        "MAX_BUFFERED_BYTES = 64 * MAX_BODY_BYTES",
        "MAX_BUFFERED_BYTES = 65 * MAX_BODY_BYTES",
        LIMIT_TESTS,
    ),
    Mutant("app/scope_gate.py", "MAX_BATCH = 32", "MAX_BATCH = 33", LIMIT_TESTS),
    Mutant(
        "app/paths.py",
        r'_CONTROL = re.compile(r"[\x00-\x1f\x7f]")',
        r'_CONTROL = re.compile(r"[\x00-\x1e\x7f]")',
        ("tests/app/test_paths.py",),
    ),
    Mutant(
        "app/paths.py",
        r'_CONTROL = re.compile(r"[\x00-\x1f\x7f]")',
        r'_CONTROL = re.compile(r"[\x00-\x1f]")',
        ("tests/app/test_paths.py",),
    ),
    Mutant(
        "app/rate_limit.py",
        "MAX_TRACKED_KEYS = 10_000",
        "MAX_TRACKED_KEYS = 10_001",
        LIMIT_TESTS,
    ),
    Mutant(
        "app/rate_limit.py", "MAX_TRACKED_KEYS = 10_000", "MAX_TRACKED_KEYS = 9_999", LIMIT_TESTS
    ),
    # Tokens and keys (app/tokens.py, app/auth.py, app/key_files.py).
    Mutant(
        "app/tokens.py", "MIN_KEY_BYTES = 32", "MIN_KEY_BYTES = 31", ("tests/app/test_tokens.py",)
    ),
    Mutant(
        "app/tokens.py", "MIN_KEY_BYTES = 32", "MIN_KEY_BYTES = 33", ("tests/app/test_tokens.py",)
    ),
    Mutant(
        "app/tokens.py",
        "MAX_EXPIRES_IN = 7 * 24 * 3600",
        "MAX_EXPIRES_IN = 7 * 24 * 3600 + 1",
        ("tests/app/test_tokens.py", "tests/app/test_auth.py"),
    ),
    Mutant(
        "app/auth.py",
        'ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")',
        'ASYMMETRIC_ALGORITHMS = ("RS256",)',
        AUTH_TESTS,
    ),
    Mutant(
        "app/auth.py",
        'REQUIRED_CLAIMS = ["exp", "sub", "iss", "aud"]',
        'REQUIRED_CLAIMS = ["sub", "iss", "aud"]',
        AUTH_TESTS,
    ),
    Mutant("app/auth.py", "JWKS_CACHE_SECONDS = 300", "JWKS_CACHE_SECONDS = 301", AUTH_TESTS),
    Mutant("app/auth.py", "JWKS_CACHE_SECONDS = 300", "JWKS_CACHE_SECONDS = 299", AUTH_TESTS),
    Mutant("app/auth.py", "VERIFIED_CACHE_SIZE = 4096", "VERIFIED_CACHE_SIZE = 4097", LIMIT_TESTS),
    Mutant("app/auth.py", "VERIFIED_CACHE_SIZE = 4096", "VERIFIED_CACHE_SIZE = 4095", LIMIT_TESTS),
    # The seven field validators of Settings, its model validators and properties.
    _validator(
        "_normalise_case",
        "object) -> object:\n        if not isinstance(value, str):",
        "object) -> object:\n        return value\n        if not isinstance(value, str):",
    ),
    _validator(
        "_origins_from_csv",
        "object) -> object:\n        return _split_csv(value)",
        "object) -> object:\n        return value",
    ),
    _validator(
        "_proxies_from_csv",
        "object) -> object:\n        return _split_csv(value)",
        "object) -> object:\n        return value",
    ),
    _validator(
        "_proxies_are_addresses",
        "list[str]) -> list[str]:\n        return [_check_network(item) for item in value]",
        "list[str]) -> list[str]:\n        return value",
    ),
    _validator(
        "_limit_store_url",
        "str | None) -> str | None:\n"
        "        return None if value is None else _check_redis_url(value)",
        "str | None) -> str | None:\n        return value",
    ),
    _validator(
        "_origins_are_urls",
        "list[str]) -> list[str]:\n        return [_check_url(origin) for origin in value]",
        "list[str]) -> list[str]:\n        return value",
    ),
    _validator(
        "_urls",
        "str | None) -> str | None:\n        return None if value is None else _check_url(value)",
        "str | None) -> str | None:\n        return value",
    ),
    _skipped("_one_source_per_key"),
    _skipped("_signin_complete", SIGNIN_SETTINGS_TESTS),
    _skipped("_redis_files_have_a_store"),
    Mutant(
        "app/config.py",
        'host = f"[{self.host}]" if ":" in self.host else self.host',
        "host = self.host",
        CONFIG_TESTS,
    ),
    Mutant(
        "app/config.py",
        "if self.oauth_storage_url is not None and self.oidc_config_url is not None",
        "if self.oauth_storage_url is not None",
        CONFIG_TESTS,
    ),
    # Sign-in: the policy's defaults and its decorated properties.
    Mutant(
        "app/policy.py",
        'return f"{self.issuer}|{self.subject}"',
        "return self.subject",
        POLICY_TESTS,
    ),
    Mutant(
        "app/policy.py",
        "return self.email if self.email_verified else None",
        "return self.email",
        POLICY_TESTS,
    ),
    Mutant(
        "app/signin_secret.py",
        "return SecretStr(self._client_secret_file.value())",
        "return self._fixed_client_secret",
        ("tests/signin/test_client_secret_reload.py",),
    ),
    Mutant(
        "app/policy.py",
        'DEFAULT_GROUPS_CLAIM = "groups"',
        'DEFAULT_GROUPS_CLAIM = "group"',
        POLICY_TESTS,
    ),
)


def _copy_tree(copy: Path) -> None:
    copy.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=ignore)
        else:
            shutil.copy2(source, copy / name)


def check_table(mutants: tuple[Mutant, ...] = MUTANTS) -> list[str]:
    """Every edit's original text occurs exactly once in its file; else what is wrong."""
    problems = []
    for mutant in mutants:
        found = (ROOT / mutant.path).read_text(encoding="utf-8").count(mutant.original)
        if found != 1:
            problems.append(f"{mutant}: its original text occurs {found} times, not once")
    return problems


# What each mutant's pytest is told. hypothesis is a plugin only other tests use.
# Its plugins are imported before pytest starts (warm_up), so pytest cannot
# rewrite their own asserts, which is no loss, and says so with this warning.
PYTEST_ARGS = (
    *("-x", "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest"),
    *("-W", "ignore::pytest.PytestAssertRewriteWarning"),
)


def _ours(module: str) -> bool:
    """A module of this repository (app/, tests/, mcp_cli/...): each test run imports it afresh."""
    path = Path(getattr(sys.modules.get(module), "__file__", None) or "/").resolve()
    installed = path.is_relative_to(Path(sys.prefix).resolve())  # the venv may sit in ROOT
    return module == "__main__" or (path.is_relative_to(ROOT) and not installed)


def _fork(copy: Path, work: Callable[[], int]) -> int:
    """Run `work` in a child process inside `copy`, its output discarded; the child's pid."""
    pid = os.fork()
    if pid:
        return pid
    code = 99
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.chdir(copy)
        sys.path.insert(0, str(copy))  # the copy's app/ ahead of the installed one
        sys.dont_write_bytecode = True  # a same-size mutant could be served from a stale .pyc
        code = work()
    finally:
        os._exit(code)


def warm_up(copy: Path, tests: list[str]) -> None:
    """Import here what the tests import, except this repository's own modules.

    Each mutant's tests then run in a child forked from this process: the
    libraries are loaded already (a fresh interpreter spent ~3 s on them per
    mutant), while app/ is imported afresh in each child, from its copy, with
    the edit. The list comes from a throwaway child that collects the tests,
    so app/ itself is never imported here.
    """
    read, write = os.pipe()

    def collect() -> int:
        os.close(read)
        import pytest

        pytest.main(["--collect-only", *PYTEST_ARGS, *tests])
        with os.fdopen(write, "w") as out:
            out.write("\n".join(name for name in list(sys.modules) if not _ours(name)))
        return 0

    pid = _fork(copy, collect)
    os.close(write)
    with os.fdopen(read) as found:
        names = found.read().split()
    os.waitpid(pid, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in names:
            with contextlib.suppress(Exception):  # a few are aliases, not importable by name
                importlib.import_module(name)


def _pytest(tests: tuple[str, ...]) -> Callable[[], int]:
    def work() -> int:
        import pytest

        code = int(pytest.main([*PYTEST_ARGS, *tests]))
        app = sys.modules.get("app")
        if app is None or not Path(str(app.__file__)).is_relative_to(Path.cwd()):
            return 99  # the tests ran without the copy's (edited) app/: that proves nothing
        return code

    return work


def _status(exit_code: int) -> str:
    if exit_code == 99:
        return "error"  # the child failed before its tests ran: proves nothing
    if exit_code in (0, 5):  # 5: no test ran, which kills nothing either
        return "survived"
    return "killed"


def run_all(mutants: list[Mutant], copies: list[Path], timeout: float) -> list[str]:
    """killed, survived, timeout or error for each mutant: its tests run on a copy with its edit.

    One child at a time per copy; a child still running after `timeout` seconds
    is killed and counts as killed, as in mutmut.
    """
    statuses = [""] * len(mutants)
    waiting = list(enumerate(mutants))
    free = list(copies)
    running: dict[int, tuple[int, Path, str, float]] = {}  # pid: index, copy, source, deadline
    timed_out: set[int] = set()
    while waiting or running:
        while waiting and free:
            index, mutant = waiting.pop(0)
            copy = free.pop()
            source = (ROOT / mutant.path).read_text(encoding="utf-8")
            edited = source.replace(mutant.original, mutant.mutant, 1)
            (copy / mutant.path).write_text(edited, encoding="utf-8")
            pid = _fork(copy, _pytest(mutant.tests))
            running[pid] = (index, copy, source, time.monotonic() + timeout)
        pid, wait_status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            for late, (*_, deadline) in running.items():
                if time.monotonic() > deadline and late not in timed_out:
                    os.kill(late, signal.SIGKILL)
                    timed_out.add(late)
            time.sleep(0.02)
            continue
        index, copy, source, _ = running.pop(pid)
        (copy / mutants[index].path).write_text(source, encoding="utf-8")
        free.append(copy)
        code = os.waitstatus_to_exitcode(wait_status)
        statuses[index] = "timeout" if pid in timed_out else _status(code)
        print(f"{statuses[index]:<8} {mutants[index]}", flush=True)
    return statuses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS")
    parser.add_argument("--only", default="", help="run the mutants whose line contains this")
    parser.add_argument(
        "--jobs", type=int, default=2, help="mutants tested at once (one copy each)"
    )
    args = parser.parse_args(argv)

    problems = check_table()
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 1
    chosen = [m for m in MUTANTS if args.only in str(m)]
    shutil.rmtree(COPY, ignore_errors=True)
    copies = [COPY / str(job) for job in range(max(1, args.jobs))]
    for copy in copies:
        _copy_tree(copy)

    started = time.monotonic()
    warm_up(copies[0], sorted({test for mutant in chosen for test in mutant.tests}))
    statuses = run_all(chosen, copies, args.timeout)
    survivors = [m for m, status in zip(chosen, statuses, strict=True) if status == "survived"]
    errors = [m for m, status in zip(chosen, statuses, strict=True) if status == "error"]
    minutes = (time.monotonic() - started) / 60
    print(
        f"\n{statuses.count('killed') + statuses.count('timeout')} of {len(chosen)} "
        f"hand-written mutants killed ({minutes:.1f} min)"
    )
    for mutant in survivors:
        print(
            f"error: survived: {mutant}; no test in {' '.join(mutant.tests)} noticed",
            file=sys.stderr,
        )
    for mutant in errors:
        print(f"error: {mutant}: its test run failed to start; run again", file=sys.stderr)
    return 1 if survivors or errors else 0


if __name__ == "__main__":
    sys.exit(main())
