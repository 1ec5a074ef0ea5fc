"""Every command a learner copies, and every Make recipe, works with GNU and BSD tools.

Learners follow the tutorial on macOS (BSD sed, grep, date, stat, base64,
xargs; no coreutils `timeout` or `sha256sum`) as well as on Linux. This scans
the shell blocks of README.md and docs/**/*.md (in ```console blocks only the
`$ ` command lines and their `\\` continuations, not the printed output) and
the recipes and `$(shell ...)` lines of the Makefile and mk/*.mk, and reports
file:line for each GNU-only form, with the portable replacement.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.docs.markdown import blocks
from tests.helpers import ROOT

# Fence languages whose lines are shell: console shows `$ ` prompts and output.
SHELL_FENCES = {"bash", "sh", "shell", "zsh"}
CONSOLE_FENCES = {"console", "shell-session"}

# An option cluster of the command so far, e.g. `-E ` or `--quiet `.
_OPTS = r"(?:\s+-{1,2}[\w=.-]*)*"
# A command name, not part of an option or a path (`git show --stat` is no `stat`).
_CMD = r"(?<![\w./-])"
# (name, pattern, the portable form to use instead)
GNU_ONLY: list[tuple[str, re.Pattern[str], str]] = [
    (
        "sed -i without a suffix",
        re.compile(rf"{_CMD}sed{_OPTS}\s+(?:-[A-Za-z]*i|--in-place)(?=\s|$)"),
        "sed -i.bak '...' FILE && rm FILE.bak",
    ),
    ("grep -P", re.compile(rf"{_CMD}grep{_OPTS}\s+(?:-[A-Za-z]*P|--perl-regexp)"), "grep -E"),
    ("readlink -f", re.compile(rf"{_CMD}readlink{_OPTS}\s+-[A-Za-z]*f"), "a python3 one-liner"),
    ("date +%N", re.compile(rf"{_CMD}date\b[^|;&\n]*%\d*N"), "python3 -c 'import time; ...'"),
    (
        "base64 -w",
        re.compile(rf"{_CMD}base64{_OPTS}\s+(?:-[A-Za-z]*w|--wrap)"),
        "base64 | tr -d '\\n'",
    ),
    ("xargs -r", re.compile(rf"{_CMD}xargs{_OPTS}\s+-[A-Za-z0-9]*r\b"), "a loop, or test first"),
    ("--no-run-if-empty", re.compile(r"--no-run-if-empty\b"), "a loop, or test first"),
    (
        "stat -c",
        re.compile(rf"{_CMD}stat{_OPTS}\s+(?:-[A-Za-z]*c|--format|--printf)"),
        "wc -c < FILE, ls -l",
    ),
    (
        "timeout",
        re.compile(r"(?:^|[\s;&|(`]|\$\()timeout\s+(?:-\S+\s+)*\d"),
        "the tool's own deadline",
    ),
    ("sha256sum", re.compile(rf"{_CMD}sha256sum\b"), "shasum -a 256"),
]


class Hit(NamedTuple):
    path: str
    line: int
    form: str
    text: str

    def __str__(self) -> str:
        fix = next(fix for name, _, fix in GNU_ONLY if name == self.form)
        return f"{self.path}:{self.line}: {self.form} (use {fix}): {self.text.strip()}"


def scan_line(path: str, number: int, text: str) -> list[Hit]:
    return [Hit(path, number, name, text) for name, rx, _ in GNU_ONLY if rx.search(text)]


def markdown_commands(text: str) -> list[tuple[int, str]]:
    """(line number, command text) of the shell blocks of a Markdown file."""
    commands: list[tuple[int, str]] = []
    for block in blocks(text):
        continued = False
        for number, line in enumerate(block.lines, start=block.line):
            if block.language in SHELL_FENCES:
                commands.append((number, line))
            elif block.language in CONSOLE_FENCES and (continued or line.lstrip().startswith("$ ")):
                commands.append((number, line))
                continued = line.rstrip().endswith("\\")
    return commands


def make_commands(text: str) -> list[tuple[int, str]]:
    """(line number, text) of the recipe lines and $(shell ...) calls of a makefile."""
    commands: list[tuple[int, str]] = []
    continued = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("\t") or continued or "$(shell" in line:
            commands.append((number, line))
        continued = line.endswith("\\") and (
            continued or line.startswith("\t") or "$(shell" in line
        )
    return commands


def scanned_files() -> list[Path]:
    docs = sorted((ROOT / "docs").rglob("*.md"))
    return [ROOT / "README.md", *docs, ROOT / "Makefile", *sorted((ROOT / "mk").glob("*.mk"))]


def scan(path: Path) -> list[Hit]:
    text = path.read_text()
    lines = markdown_commands(text) if path.suffix == ".md" else make_commands(text)
    name = str(path.relative_to(ROOT))
    return [hit for number, line in lines for hit in scan_line(name, number, line)]


@pytest.mark.parametrize("path", scanned_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_gnu_only_forms(path: Path) -> None:
    hits = scan(path)
    assert not hits, "GNU-only forms (fail on macOS):\n" + "\n".join(map(str, hits))


def test_the_scan_covers_the_docs_and_the_makefiles() -> None:
    names = {str(p.relative_to(ROOT)) for p in scanned_files()}
    assert {"README.md", "Makefile", "mk/image.mk", "docs/tutorial/00-setup.md"} <= names
    # The tutorial's console blocks are where learners copy from: they must be seen.
    commands = markdown_commands((ROOT / "docs" / "tutorial" / "00-setup.md").read_text())
    assert any(line.startswith("$ make") for _, line in commands)


SAMPLE = """\
Some prose mentions sed -i and sha256sum, which is not a command.

```console
$ sed -i 's/PROJECT_ID/my-project/' values.yaml
$ sed -i.bak 's/PROJECT_ID/my-project/' values.yaml && rm values.yaml.bak
$ grep -P '\\d+' log && grep -E '[0-9]+' log
$ readlink -f .tools/bin/helm
$ date +%s%N
$ base64 -w0 key
$ find . -name '*.bak' | xargs -r rm
$ ls | xargs --no-run-if-empty rm
$ stat -c %s file
$ timeout 5 make run
$ sha256sum helm; shasum -a 256 helm; git show --stat --format= HEAD
$ echo a \\
    | sed -Ei 's/a/b/' f
sed -i output lines are not commands
```

```bash
sed -i -e 's/x/y/' file
```
"""


def test_each_gnu_only_form_is_found_on_its_line() -> None:
    hits = [
        hit for number, line in markdown_commands(SAMPLE) for hit in scan_line("s.md", number, line)
    ]
    found = {(hit.line, hit.form) for hit in hits}
    assert found == {
        (4, "sed -i without a suffix"),
        (6, "grep -P"),
        (7, "readlink -f"),
        (8, "date +%N"),
        (9, "base64 -w"),
        (10, "xargs -r"),
        (11, "--no-run-if-empty"),
        (12, "stat -c"),
        (13, "timeout"),
        (14, "sha256sum"),
        (16, "sed -i without a suffix"),
        (21, "sed -i without a suffix"),
    }
    assert str(hits[0]) == (
        "s.md:4: sed -i without a suffix (use sed -i.bak '...' FILE && rm FILE.bak): "
        "$ sed -i 's/PROJECT_ID/my-project/' values.yaml"
    )


def test_make_recipes_and_shell_calls_are_scanned() -> None:
    makefile = (
        "VERSION := $(shell sed -n 's/x/y/p' f | sha256sum)\n"
        "# sed -i in a comment is not run\n"
        "target:\n"
        "\tfind . | xargs -r \\\n"
        "\t  sed -i 's/a/b/'\n"
    )
    hits = {(h.line, h.form) for n, t in make_commands(makefile) for h in scan_line("m", n, t)}
    assert hits == {(1, "sha256sum"), (4, "xargs -r"), (5, "sed -i without a suffix")}


# --- comments on command lines --------------------------------------------------------------
#
# zsh, macOS's default shell, has no interactive comments: `make test  # all` runs
# make with the arguments `#` and `all`; `read -rs X  # paste` fails. Commands a
# learner copies carry no comment; the prose around them says what they do.


def comment_start(line: str) -> int:
    """Where a shell comment starts in a command line (-1: none): `#` opening a word, unquoted."""
    quote = ""
    previous = " "
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and previous in " \t":
            return i
        previous = char
    return -1


def commented_commands(path: Path) -> list[str]:
    found = []
    for number, line in markdown_commands(path.read_text()):
        text = line.strip()
        command = text[2:] if text.startswith("$ ") else text
        if comment_start(f" {command}") >= 0:
            found.append(f"{path.relative_to(ROOT)}:{number}: {text}")
    return found


@pytest.mark.parametrize(
    "path",
    [p for p in scanned_files() if p.suffix == ".md"],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_comment_on_a_command_line(path: Path) -> None:
    found = commented_commands(path)
    assert not found, "comments break copy-paste into zsh:\n" + "\n".join(found)


def test_comments_are_told_from_hashes_in_words_and_quotes() -> None:
    assert comment_start(" make test    # the whole test suite") == 14
    assert comment_start(" # a comment line") == 1
    assert comment_start(" curl http://x/#frag") == -1
    assert comment_start(" printf '%s # not a comment' x") == -1
    assert comment_start(' echo "a # b"') == -1
    assert comment_start(" grep -c '^#' file") == -1
    assert comment_start(" echo ${#x}") == -1
