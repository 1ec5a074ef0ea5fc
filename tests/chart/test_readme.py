"""helm/mcp-server/README.md cannot go stale: its table, prerequisites and commands are checked."""

from __future__ import annotations

import re

import pytest
from ruamel.yaml import YAML

from scripts.chart_values_table import README, VALUES, problems, render, rows, table
from tests.chart.rendering import CHART, Chart
from tests.helpers import ROOT

pytestmark = pytest.mark.chart

TUTORIAL = ROOT / "docs" / "tutorial"


def commands(markdown: str) -> list[str]:
    """The `$ ` commands of a page's console blocks, continuation lines joined."""
    found: list[str] = []
    for block in re.findall(r"```console\n(.*?)```", markdown, re.DOTALL):
        current: list[str] = []
        for line in block.splitlines():
            if line.startswith("$ ") or current:
                current.append(line.removeprefix("$ ").rstrip("\\").strip())
                if not line.endswith("\\"):
                    found.append(" ".join(current))
                    current = []
    return found


def test_values_table_is_generated_from_values_yaml() -> None:
    page = README.read_text()
    assert render(page) == page, "run: .venv/bin/python scripts/chart_values_table.py --write"


def test_the_table_has_a_row_per_described_value() -> None:
    """Every value is covered (test_values.py) and each row's default is the parsed one."""
    assert problems(VALUES.read_text()) == []
    values = YAML(typ="safe").load(VALUES.read_text())
    listed = {row.key for row in rows(VALUES.read_text())}
    assert set(values) <= {key.split(".")[0] for key in listed}
    assert "| containerPort | int | `8080` |" in table()


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
    tutorial = {c for page in TUTORIAL.glob("*.md") for c in commands(page.read_text())}
    readme = commands(README.read_text())
    assert len(readme) >= 10
    assert [c for c in readme if c not in tutorial] == []


def test_the_command_extractor_joins_continuations() -> None:
    text = "```console\n$ a \\\n    b\nout\n$ c\n```\n"
    assert commands(text) == ["a b", "c"]


def deployed_kinds() -> set[str]:
    """The kinds in the README's "What it deploys" table (first column, first word of each)."""
    section = README.read_text().split("## What it deploys\n", 1)[1].split("\n## ", 1)[0]
    cells = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ")]
    return {kind.split()[0] for cell in cells[2:] for kind in cell.split(", ")}


def test_every_rendered_kind_is_described(chart: Chart) -> None:
    rendered = {kind for r in chart.render_all() for kind in r.kinds()}
    assert rendered <= deployed_kinds(), rendered - deployed_kinds()
