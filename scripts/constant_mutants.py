"""The mutants mutmut cannot make: module constants and decorated methods.

mutmut (make mutate) changes code inside undecorated functions only, so a
limit written as a module constant (MAX_DEPTH, MAX_BODY_BYTES) or a check
written as a pydantic validator or a property is never changed by it. MUTANTS
below are those changes, written by hand: each is one edit to one file. This
script applies them one at a time to a copy of the tree (mutants/constants/,
ignored by git; one copy per --jobs), runs the fast tests named for each, and
expects them to fail.

It prints one line per mutant and exits 1 when a mutant survives (a test is
missing), or when an edit's original text is not in its file exactly once (the
code changed: write that mutant again). A test run that takes longer than
--timeout counts as killed, as in mutmut.
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
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


def run(mutant: Mutant, copy: Path, timeout: float) -> str:
    """killed, survived or timeout: the mutant's tests run on `copy` with the one edit."""
    target = copy / mutant.path
    source = (ROOT / mutant.path).read_text(encoding="utf-8")
    target.write_text(source.replace(mutant.original, mutant.mutant, 1), encoding="utf-8")
    # No bytecode: a mutant the same size as the original could be served from a stale .pyc.
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *mutant.tests]
    try:
        result = subprocess.run(command, cwd=copy, env=env, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout"
    finally:
        target.write_text(source, encoding="utf-8")
    if result.returncode in (0, 5):  # 5: no test ran, which kills nothing either
        return "survived"
    return "killed"


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
    copies: queue.Queue[Path] = queue.Queue()
    for job in range(max(1, args.jobs)):
        _copy_tree(COPY / str(job))
        copies.put(COPY / str(job))

    def test(mutant: Mutant) -> str:
        copy = copies.get()
        try:
            status = run(mutant, copy, args.timeout)
        finally:
            copies.put(copy)
        print(f"{status:<8} {mutant}", flush=True)
        return status

    started = time.monotonic()
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        statuses = list(pool.map(test, chosen))
    survivors = [m for m, status in zip(chosen, statuses, strict=True) if status == "survived"]
    minutes = (time.monotonic() - started) / 60
    print(
        f"\n{len(chosen) - len(survivors)} of {len(chosen)} hand-written mutants killed "
        f"({minutes:.1f} min)"
    )
    for mutant in survivors:
        print(
            f"error: survived: {mutant}; no test in {' '.join(mutant.tests)} noticed",
            file=sys.stderr,
        )
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
