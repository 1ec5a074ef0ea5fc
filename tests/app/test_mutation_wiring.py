"""`make mutate`'s wiring: the modules it mutates, their tests, and the equivalents file.

The mutation run itself takes minutes (make mutate); these checks take
milliseconds and need no mutmut, so a renamed module or a stale entry is
caught by the ordinary suite.
"""

from __future__ import annotations

import re
import tomllib

from tests.helpers import ROOT

EQUIVALENTS = ROOT / "tests" / "app" / "equivalent_mutants.toml"


def mutated_modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    modules: list[str] = config["tool"]["mutmut"]["only_mutate"]
    return modules


def test_every_mutated_module_exists_and_has_its_test_file() -> None:
    modules = mutated_modules()
    assert len(modules) == len(set(modules))
    for module in modules:
        assert (ROOT / module).is_file(), module
        test_file = ROOT / "tests" / "app" / f"test_{module.removeprefix('app/')}"
        assert test_file.is_file(), f"{module} has no {test_file.relative_to(ROOT)}"


def test_the_guard_modules_are_all_mutated() -> None:
    guards = {
        "auth", "scope_gate", "origin", "rate_limit", "tokens", "config",
        "failure_limit", "jsonrpc_body", "key_files", "paths", "challenges",
        "body_limit", "json_routes",
    }  # fmt: skip
    assert {m.removeprefix("app/").removesuffix(".py") for m in mutated_modules()} >= guards


def test_mutation_runs_only_the_in_process_tests() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["mutmut"]["pytest_add_cli_args_test_selection"] == ["tests/app"]


def test_equivalents_name_mutants_of_mutated_modules_with_a_reason() -> None:
    entries = tomllib.loads(EQUIVALENTS.read_text(encoding="utf-8"))["mutant"]
    modules = set(mutated_modules())
    names = [entry["name"] for entry in entries]
    assert len(names) == len(set(names))
    for entry in entries:
        assert set(entry) == {"name", "change", "reason"}, entry
        match = re.fullmatch(r"(app\.\w+)\.x\S+__mutmut_\d+", entry["name"])
        assert match, entry["name"]
        assert match[1].replace(".", "/") + ".py" in modules, entry["name"]
        assert entry["change"].strip(), entry["name"]
        assert len(entry["reason"]) > 20, entry["name"]
