"""The one Markdown reader of the tests: fenced blocks, headings, sections, tables, commands.

Every test that reads a doc goes through here, so a doc's shape is read one
way: a fence is a line of three backticks (indented under a list item too),
a heading is a `#` line outside a fence, a section runs to the next heading
of the same or a higher level, a table row is a `|` line outside a fence.

A console command is its `$ ` line joined with its `\\` continuation lines (and,
in an unfinished loop, its next lines, kept apart by newlines); the lines after
it, up to the next `$ ` or the closing fence, are its printed output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import ROOT

TUTORIAL = ROOT / "docs" / "tutorial"

_FENCE = re.compile(r"^(\s*)```\s*([^`\s]*)")
_HEADING = re.compile(r"^(#{1,6}) (.+)$")
_SEPARATOR = re.compile(r"^\s*:?-+:?\s*$")


@dataclass(frozen=True)
class Block:
    """A fenced code block: its language (lower case, "" for none) and its lines."""

    language: str
    line: int  # 1-based line of the block's first line (the one after the fence)
    lines: tuple[str, ...]  # the fence's indentation removed

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)


@dataclass(frozen=True)
class Heading:
    line: int  # 1-based
    level: int
    title: str


@dataclass(frozen=True)
class Command:
    """One `$ ` command of a console block (continuation lines joined)."""

    doc: str
    line: int  # 1-based line of the `$ ` in the doc
    text: str
    output: tuple[str, ...]


def blocks(text: str, language: str | None = None) -> list[Block]:
    """The fenced blocks of `text`, in order; only those of `language` when given."""
    found: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, start = len(opening.group(1)), i + 1
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            i += 1
        body = tuple(
            line[indent:] if not line[:indent].strip() else line.lstrip() for line in lines[start:i]
        )
        kind = opening.group(2).lower()
        if language is None or kind == language:
            found.append(Block(kind, start + 1, body))
        i += 1
    return found


def _outside_fences(text: str) -> list[tuple[int, str]]:
    """(1-based number, line) of every line that is not in a fenced block or a fence."""
    inside = {b.line + n for b in blocks(text) for n in range(-1, len(b.lines) + 1)}
    return [(n, line) for n, line in enumerate(text.splitlines(), start=1) if n not in inside]


def headings(text: str) -> list[Heading]:
    """The headings of `text` outside code fences, in order."""
    found = []
    for number, line in _outside_fences(text):
        match = _HEADING.match(line)
        if match:
            found.append(Heading(number, len(match.group(1)), match.group(2).strip()))
    return found


def _body(text: str, heads: list[Heading], n: int) -> str:
    lines = text.splitlines()
    head = heads[n]
    end = next((h.line for h in heads[n + 1 :] if h.level <= head.level), len(lines) + 1)
    return "\n".join(lines[head.line : end - 1]) + "\n"


def section(text: str, title: str) -> str:
    """The text under the heading `title`, up to the next heading of the same or a higher level."""
    heads = headings(text)
    for n, head in enumerate(heads):
        if head.title == title:
            return _body(text, heads, n)
    raise AssertionError(f"no heading {title!r}")


def sections(text: str, level: int) -> dict[str, str]:
    """Title -> text of every heading of `level` (a later duplicate title wins)."""
    heads = headings(text)
    return {h.title: _body(text, heads, n) for n, h in enumerate(heads) if h.level == level}


def numbered_sections(text: str, level: int) -> dict[str, str]:
    """Number -> text of the `N. Title` headings of `level` (runbooks, a phase's parts)."""
    found = {}
    for title, body in sections(text, level).items():
        match = re.match(r"(\d+)\. ", title)
        if match:
            found[match.group(1)] = body
    return found


def table_rows(text: str) -> list[list[str]]:
    """The cells of every table body row outside code fences (headers and separators left out)."""
    lines = _outside_fences(text)
    rows: list[list[str]] = []
    for i, (_, line) in enumerate(lines):
        if not line.lstrip().startswith("|"):
            continue
        cells = _cells(line)
        if all(_SEPARATOR.match(cell) for cell in cells):
            continue
        following = lines[i + 1][1] if i + 1 < len(lines) else ""
        if following.lstrip().startswith("|") and all(
            _SEPARATOR.match(cell) for cell in _cells(following)
        ):
            continue  # a header row
        rows.append(cells)
    return rows


def _cells(line: str) -> list[str]:
    inner = line.strip().removeprefix("|").removesuffix("|")
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", inner)]


def console_commands(text: str, doc: str) -> list[Command]:
    """Every `$ ` command in the console blocks of `text` (the file named `doc`)."""
    found: list[Command] = []
    for block in blocks(text, "console"):
        current: list[str] | None = None
        start = 0
        output: list[str] = []
        for offset, line in enumerate(block.lines):
            if line.startswith("$ "):
                if current is not None:
                    found.append(Command(doc, start, " ".join(current), tuple(output)))
                current, start, output = [line[2:]], block.line + offset, []
            elif current is not None and current[-1].endswith("\\") and not output:
                current[-1] = current[-1][:-1].rstrip()
                current.append(line.strip())
            elif current is not None and not output and unfinished("\n".join(current)):
                current[-1] += "\n" + line.strip()
            elif current is not None:
                output.append(line)
        if current is not None:
            found.append(Command(doc, start, " ".join(current), tuple(output)))
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
