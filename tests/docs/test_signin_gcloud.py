"""Every gcloud command of phase 10 and of the sign-in runbooks passes gcloud's own parser.

No Google Cloud account exists here, but gcloud parses a command's arguments
before it asks for credentials: with an empty configuration a valid command
stops at "You do not currently have an active account", while a wrong flag
or value stops at "unrecognized arguments" or "Invalid choice". Each command
is taken from the docs as written (pipelines split, variables filled in).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.docs.markdown import console_commands, numbered_sections
from tests.helpers import ROOT, require

PHASE_10 = ROOT / "docs" / "tutorial" / "10-sign-in.md"
OPERATIONS = ROOT / "docs" / "operations.md"
VARIABLES = {"$PROJECT_ID": "my-project", "$PROJECT": "my-project", "$HOST": "mcp.example.com"}
NO_ACCOUNT = "You do not currently have an active account"


def gcloud_commands(line: str) -> list[list[str]]:
    for name, value in VARIABLES.items():
        line = line.replace(name, value)
    lexer = shlex.shlex(line, posix=True, punctuation_chars="|;&")
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if set(token) <= set("|;&"):
            commands.append([])
        else:
            commands[-1].append(token)
    return [c for c in commands if c[:1] == ["gcloud"]]


def runbooks(numbers: set[str]) -> str:
    found = numbered_sections(OPERATIONS.read_text(), 2)
    return "".join(found.get(number, "") for number in sorted(numbers))


DOCS = {
    "10-sign-in.md": PHASE_10.read_text(),
    "operations.md runbooks 8-9": runbooks({"8", "9"}),
}
FOUND = {
    doc: [command for c in console_commands(text, doc) for command in gcloud_commands(c.text)]
    for doc, text in DOCS.items()
}
COMMANDS = [
    pytest.param(command, id=f"{doc}: {' '.join(command[1:4])}")
    for doc, commands in FOUND.items()
    for command in commands
]


@pytest.mark.parametrize("doc", DOCS)
def test_the_docs_have_gcloud_commands(doc: str) -> None:
    """Each place the commands are read from still holds some (a moved runbook would not)."""
    assert FOUND[doc], f"{doc}: no gcloud command found"


def test_a_wrong_flag_is_caught(tmp_path: Path) -> None:
    """The check below can fail: gcloud refuses an unknown flag before any credential."""
    result = _parse(["gcloud", "redis", "instances", "list", "--regoin", "x"], tmp_path)
    assert "unrecognized arguments" in result


def _parse(command: list[str], config: Path) -> str:
    require(shutil.which("gcloud") is not None, "gcloud is not installed")
    result = subprocess.run(
        command,
        # An empty configuration: no account, no project, nothing of the caller's.
        env={"CLOUDSDK_CONFIG": str(config), "HOME": str(config), "PATH": os.environ["PATH"]},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return result.stdout + result.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_gcloud_parses_the_command(command: list[str], tmp_path: Path) -> None:
    output = _parse(command, tmp_path)
    assert "unrecognized arguments" not in output, output
    assert "Invalid choice" not in output, output
    assert NO_ACCOUNT in output, output
