"""Print (or write into docs/reference.md) the table of every MCP_* setting.

The table is derived from app.config.Settings, where each setting's default,
bounds and description are declared once; a test fails when the page and the
code disagree. `python3 scripts/settings_table.py --write` brings the page up
to date.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic.fields import FieldInfo

from app.config import Settings

PAGE = Path(__file__).resolve().parent.parent / "docs" / "reference.md"
START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def _default(field: FieldInfo) -> str:
    value = field.default
    if value is None:
        return "none"
    if isinstance(value, list):
        return "`" + ",".join(str(item) for item in value) + "`"
    return f"`{value}`"


def _bounds(field: FieldInfo) -> str:
    parts = []
    for rule in field.metadata:
        for name, symbol in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            if getattr(rule, name, None) is not None:
                parts.append(f"{symbol} {getattr(rule, name)}")
    return ", ".join(parts)


def table() -> str:
    rows = ["| variable | default | allowed | meaning |", "| --- | --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        rows.append(
            f"| `MCP_{name.upper()}` | {_default(field)} | {_bounds(field)} | {field.description} |"
        )
    return "\n".join(rows)


def render(page: str) -> str:
    """`page` with the text between the markers replaced by the current table."""
    head, rest = page.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"update {PAGE.name} in place")
    args = parser.parse_args(argv)
    if args.write:
        PAGE.write_text(render(PAGE.read_text()))
        print(f"updated {PAGE}", file=sys.stderr)
    else:
        print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
