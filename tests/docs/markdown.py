"""The one reader of the docs' ```console blocks: the `$ ` commands a learner copies.

A command is its `$ ` line joined with its `\\` continuation lines (and, in an
unfinished loop, its next lines, kept apart by newlines); the lines after it,
up to the next `$ ` or the closing fence, are its printed output. Blocks
indented under a list item are read too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import ROOT

TUTORIAL = ROOT / "docs" / "tutorial"


@dataclass(frozen=True)
class Command:
    """One `$ ` command of a console block (continuation lines joined)."""

    doc: str
    line: int  # 1-based line of the `$ ` in the doc
    text: str
    output: tuple[str, ...]


def console_commands(text: str, doc: str) -> list[Command]:
    """Every `$ ` command in the console blocks of `text` (the file named `doc`)."""
    found: list[Command] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = re.match(r"^(\s*)```console\s*$", lines[i])
        if not opening:
            i += 1
            continue
        indent = len(opening.group(1))
        i += 1
        current: list[str] | None = None
        start = 0
        output: list[str] = []
        while i < len(lines) and lines[i].strip() != "```":
            line = lines[i][indent:]
            if line.startswith("$ "):
                if current is not None:
                    found.append(Command(doc, start, " ".join(current), tuple(output)))
                current, start, output = [line[2:]], i + 1, []
            elif current is not None and current[-1].endswith("\\") and not output:
                current[-1] = current[-1][:-1].rstrip()
                current.append(line.strip())
            elif current is not None and not output and unfinished("\n".join(current)):
                current[-1] += "\n" + line.strip()
            elif current is not None:
                output.append(line)
            i += 1
        if current is not None:
            found.append(Command(doc, start, " ".join(current), tuple(output)))
        i += 1
    return found


def unfinished(text: str) -> bool:
    """Whether the shell reads another line: an open loop, or a line ending in `|` or `&&`."""
    words = re.findall(r"(?<![\w-])(do|done)(?![\w-])", text)
    return words.count("do") > words.count("done") or bool(re.search(r"(\||&&)\s*$", text))


def file_commands(path: Path) -> list[Command]:
    """The console commands of a file, named by its path in the repository."""
    return console_commands(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))


def learner_docs() -> list[Path]:
    """Where a learner copies commands from: the README, the tutorial, the operations guide."""
    return [ROOT / "README.md", *sorted(TUTORIAL.glob("*.md")), ROOT / "docs" / "operations.md"]
