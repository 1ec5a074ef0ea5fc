"""config.example.toml and the README's settings table are what settings.py declares.

Both are generated (`python -m mcp_infra.settings_doc --write`, in infra/); these
tests fail when a setting changes and the files were not regenerated, and
check that what they show is true: the example's commented values are the
defaults, its placeholders are refused, every setting is listed once.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from infra.mcp_infra.config import EXAMPLE_CONFIG, ConfigError, InfraConfig, from_mapping
from infra.mcp_infra.settings_doc import (
    README,
    allowed,
    example_toml,
    render_readme,
    settings_table,
)

INFRA = Path(__file__).resolve().parents[2] / "infra"
FIELDS = InfraConfig.model_fields
NAMES = list(FIELDS)
REGENERATE = "run `../.venv/bin/python -m mcp_infra.settings_doc --write` in infra/"


def test_example_file_is_generated_from_the_declarations() -> None:
    assert EXAMPLE_CONFIG.read_text(encoding="utf-8") == example_toml(), REGENERATE


def test_readme_settings_table_is_generated_from_the_declarations() -> None:
    page = README.read_text(encoding="utf-8")
    assert settings_table() in page
    assert render_readme(page) == page, REGENERATE


def test_readme_table_has_one_row_per_setting_in_order() -> None:
    rows = re.findall(r"^\| `(\w+)` \|", settings_table(), flags=re.MULTILINE)
    assert rows == NAMES


def test_generator_prints_the_checked_in_files() -> None:
    """The command the module docstring and README give really works (a real process)."""
    for flag, expected in (
        ("--example", EXAMPLE_CONFIG.read_text(encoding="utf-8")),
        ("--table", settings_table() + "\n"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "mcp_infra.settings_doc", flag],
            cwd=INFRA,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert result.stdout == expected


def uncommented_example() -> dict[str, object]:
    """The example with every `# name = value` line turned on."""
    lines = []
    for line in EXAMPLE_CONFIG.read_text(encoding="utf-8").splitlines():
        match = re.match(r"# (\w+) = ", line)
        if match and match.group(1) in NAMES:
            line = line[2:]
        lines.append(line)
    return tomllib.loads("\n".join(lines))


def test_example_lists_every_setting_once_and_shows_the_real_defaults() -> None:
    listed = re.findall(r"^(?:# )?(\w+) = ", EXAMPLE_CONFIG.read_text(), flags=re.MULTILINE)
    assert sorted(name for name in listed if name in NAMES) == sorted(NAMES)
    assert len([name for name in listed if name in NAMES]) == len(NAMES)
    values = uncommented_example()
    for name, field in FIELDS.items():
        if not field.is_required():
            assert values[name] == field.get_default(call_default_factory=True), name


def test_every_setting_says_what_it_is_for() -> None:
    for name, field in FIELDS.items():
        description = field.description or ""
        assert description.endswith((".", ")")), name
        assert "|" not in description, f"{name}: a | would break the README's table"
        assert "\n" not in description, f"{name}: a docstring's lines are joined"
        if field.annotation is not bool:
            assert allowed(name) != allowed("regional"), f"{name} declares no rule"


@pytest.mark.parametrize("name", [name for name, field in FIELDS.items() if field.is_required()])
def test_each_placeholder_of_the_example_is_refused(name: str) -> None:
    """Replace every placeholder but one with a real value: synth still names that one."""
    from tests.infra.example import EXAMPLE_SETTINGS

    placeholders = tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    settings = dict(EXAMPLE_SETTINGS, **{name: placeholders[name]})
    with pytest.raises(ConfigError) as caught:
        from_mapping(settings, source="config.toml")
    assert str(caught.value).startswith(f"config.toml: {name}"), str(caught.value)
