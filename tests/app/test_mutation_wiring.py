"""`make mutate`'s wiring: the modules it mutates, the tests it runs, and the equivalents file.

The mutation run itself takes minutes (make mutate); these checks take
milliseconds and need no mutmut, so a renamed module or a stale entry is
caught by the ordinary suite.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from tests.helpers import ROOT

EQUIVALENTS = ROOT / "tests" / "app" / "equivalent_mutants.toml"


def mutmut_config() -> dict[str, Any]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    mutmut: dict[str, Any] = config["tool"]["mutmut"]
    return mutmut


def test_every_mutated_module_and_selected_test_exists() -> None:
    modules = mutmut_config()["only_mutate"]
    assert len(modules) == len(set(modules))
    for path in [*modules, *mutmut_config()["pytest_add_cli_args_test_selection"]]:
        assert (ROOT / path).exists(), path


def test_equivalents_name_mutants_of_mutated_modules_with_a_reason() -> None:
    entries = tomllib.loads(EQUIVALENTS.read_text(encoding="utf-8"))["mutant"]
    modules = set(mutmut_config()["only_mutate"])
    names = [entry["name"] for entry in entries]
    assert len(names) == len(set(names))
    for entry in entries:
        assert set(entry) == {"name", "change", "reason"}, entry
        match = re.fullmatch(r"(app\.\w+)\.x\S+__mutmut_\d+", entry["name"])
        assert match, entry["name"]
        assert match[1].replace(".", "/") + ".py" in modules, entry["name"]
        assert entry["change"].strip(), entry["name"]
        assert len(entry["reason"]) > 20, entry["name"]


def test_every_hand_written_mutant_edits_text_its_file_holds_once() -> None:
    """A refactor that moves a constant or validator fails here, not minutes into make mutate."""
    from scripts.constant_mutants import MUTANTS, check_table

    assert check_table() == []
    for mutant in MUTANTS:
        assert mutant.original != mutant.mutant, mutant
        for test in mutant.tests:
            assert (ROOT / test.split("::")[0]).is_file(), test
