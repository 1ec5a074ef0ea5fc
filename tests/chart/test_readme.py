"""helm/mcp-server/README.md cannot go stale: its table, prerequisites and commands are checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from scripts.chart_values_table import README, VALUES, problems, render, rows, table
from tests.chart.rendering import CHART, Chart
from tests.docs.markdown import TUTORIAL, file_commands, section, table_rows

pytestmark = [pytest.mark.chart, pytest.mark.docs]


def commands(path: Path) -> list[str]:
    """The `$ ` commands of a page's console blocks, continuation lines joined."""
    return [command.text for command in file_commands(path)]


def test_values_table_is_generated_from_values_yaml() -> None:
    page = README.read_text()
    assert render(page) == page, "run: .venv/bin/python scripts/chart_values_table.py --write"


def test_the_table_has_a_row_per_described_value() -> None:
    """Every value is covered (test_values.py) and each row's default is the parsed one."""
    assert problems(VALUES.read_text()) == []
    values = YAML(typ="safe").load(VALUES.read_text())
    listed = {row.key for row in rows(VALUES.read_text())}
    assert set(values) <= {key.split(".")[0] for key in listed}
    assert f"| containerPort | int | `{values['containerPort']}` |" in table()


def test_the_generator_escapes_what_would_break_a_table() -> None:
    text = '# -- a | b, `<kept>` and <gone>\nx: "1|2"\n'
    (line,) = table(text).splitlines()[2:]
    assert line == '| x | string | `"1\\|2"` | a \\| b, `<kept>` and &lt;gone> |'


def test_the_stated_kubernetes_minimum_is_the_charts() -> None:
    wanted = YAML(typ="safe").load((CHART / "Chart.yaml").read_text())["kubeVersion"]
    minimum = re.fullmatch(r">=(\d+\.\d+)\.0-0", wanted)
    assert minimum, wanted
    stated = re.findall(r"Kubernetes (\d+\.\d+) or newer", README.read_text())
    assert stated == [minimum.group(1)], stated


def test_every_command_is_the_tutorials() -> None:
    """The README repeats the tutorial's commands, never a variant of them."""
    tutorial = {c for page in TUTORIAL.glob("*.md") for c in commands(page)}
    readme = commands(README)
    assert readme, "the README shows no command"
    assert [c for c in readme if c not in tutorial] == []


def deployed_kinds() -> set[str]:
    """The kinds in the README's "What it deploys" table (first column, first word of each)."""
    rows = table_rows(section(README.read_text(), "What it deploys"))
    return {kind.split()[0] for row in rows for kind in row[0].split(", ")}


def test_every_rendered_kind_is_described(chart: Chart) -> None:
    rendered = {kind for r in chart.render_all() for kind in r.kinds()}
    assert rendered <= deployed_kinds(), rendered - deployed_kinds()
