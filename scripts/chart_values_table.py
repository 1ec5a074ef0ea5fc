"""Print (or write into helm/mcp-server/README.md) the chart's table of values.

Each value is described once, in values.yaml, by a `# --` comment right above
its key (the helm-docs convention): the comment runs to the key, or to a bare
`#` line, after which the lines are notes for readers of values.yaml only. A
documented map is one row whose default is the whole map; its keys need no
comment of their own. Type and default come from the parsed values, so the
table cannot drift from them; a test fails when the README and values.yaml
disagree or when a value has no description.
`.venv/bin/python scripts/chart_values_table.py --write` (ruamel.yaml is a dev
dependency) brings the README up to date.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

CHART = Path(__file__).resolve().parent.parent / "helm" / "mcp-server"
VALUES = CHART / "values.yaml"
README = CHART / "README.md"
START, END = "<!-- values:start -->", "<!-- values:end -->"

KEY = re.compile(r"^( *)([A-Za-z][A-Za-z0-9_-]*):(.*)$")
BLOCK_SCALARS = {"|", ">", "|-", ">-", "|+", ">+"}


@dataclass(frozen=True)
class Row:
    key: str  # dotted path, e.g. image.repository
    type: str
    default: str  # compact JSON, as helm-docs prints it
    description: str


def descriptions(text: str) -> dict[str, str]:
    """Dotted key -> its `# --` description, in file order."""
    found: dict[str, str] = {}
    path: list[tuple[int, str]] = []  # (indent, key) of the enclosing maps
    comment: list[str] | None = None  # the open `# --` block, if any
    closed = False  # a bare `#` ended the description part of the block
    block_indent: int | None = None  # inside a block scalar's text
    for line in text.splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if block_indent is not None:
            if not stripped or indent > block_indent:
                continue
            block_indent = None
        if not stripped:
            comment, closed = None, False  # a description must touch its key
            continue
        if stripped.startswith("#"):
            body = stripped[1:].strip()
            if stripped.startswith("# --"):
                comment, closed = [stripped[4:].strip()], False
            elif comment is not None and not closed:
                if body:
                    comment.append(body)
                else:
                    closed = True
            continue
        match = KEY.match(line)
        if not match:  # a list item or a continuation line
            comment, closed = None, False
            continue
        while path and path[-1][0] >= indent:
            path.pop()
        key = ".".join([*(k for _, k in path), match.group(2)])
        if comment is not None:
            found[key] = " ".join(part for part in comment if part)
        comment, closed = None, False
        rest = match.group(3).split(" #", 1)[0].strip()
        if rest in BLOCK_SCALARS:
            block_indent = indent
        elif not rest:
            path.append((indent, match.group(2)))
    return found


def leaves(tree: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the values that are not non-empty maps, in file order."""
    if isinstance(tree, dict) and tree:
        return [p for k, v in tree.items() for p in leaves(v, f"{prefix}{k}.")]
    return [prefix.rstrip(".")]


def lookup(tree: Any, key: str) -> Any:
    for part in key.split("."):
        tree = tree[part]
    return tree


def type_name(value: Any) -> str:
    for kind, name in ((bool, "bool"), (int, "int"), (float, "float"), (list, "list")):
        if isinstance(value, kind):
            return name
    return "object" if isinstance(value, dict) else "string"


def problems(text: str) -> list[str]:
    """What keeps values.yaml's table from being complete and unambiguous."""
    values = YAML(typ="safe").load(text) or {}
    documented = descriptions(text)
    found: list[str] = []
    for key in documented:
        try:
            lookup(values, key)
        except (KeyError, TypeError):
            found.append(f"{key}: described but not a value")
        ancestors = [key.rsplit(".", n)[0] for n in range(1, key.count(".") + 1)]
        for above in ancestors:
            if above in documented:
                found.append(f"{key}: described, and so is its map {above} (keep one)")
    for leaf in leaves(values):
        parts = leaf.split(".")
        if not any(".".join(parts[:n]) in documented for n in range(1, len(parts) + 1)):
            found.append(f"{leaf}: no `# --` description above it (or above its map)")
    return found


def rows(text: str) -> list[Row]:
    values = YAML(typ="safe").load(text) or {}
    result = []
    for key, description in descriptions(text).items():
        value = lookup(values, key)
        default = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        result.append(Row(key, type_name(value), default, description))
    return result


def _markdown(text: str) -> str:
    """Escape for a table cell: pipes everywhere, HTML-like `<` outside code spans."""
    spans = text.replace("|", "\\|").split("`")
    return "`".join(s if i % 2 else s.replace("<", "&lt;") for i, s in enumerate(spans))


def table(text: str | None = None) -> str:
    lines = ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for row in rows(VALUES.read_text() if text is None else text):
        default = row.default.replace("|", "\\|")
        lines.append(f"| {row.key} | {row.type} | `{default}` | {_markdown(row.description)} |")
    return "\n".join(lines)


def render(page: str) -> str:
    """`page` with the text between the markers replaced by the current table."""
    head, rest = page.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"update {README.name} in place")
    args = parser.parse_args(argv)
    found = problems(VALUES.read_text())
    if found:
        print("values.yaml:\n  " + "\n  ".join(found), file=sys.stderr)
        return 1
    if args.write:
        README.write_text(render(README.read_text()))
        print(f"updated {README}", file=sys.stderr)
    else:
        print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
