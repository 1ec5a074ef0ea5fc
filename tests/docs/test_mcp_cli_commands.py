"""Every mcp-token, mcp-key and mcp-client command of the docs is one the tool accepts.

A learner copies these lines: each must name the command where `make install`
puts it and pass the tool's own argument parser. The parser runs in this
process on the words a shell would pass (tests/docs/cli_commands.py takes the
line apart and gives shell variables made-up values), so nothing is minted,
no server is called and no Google API is asked.
"""

from __future__ import annotations

import argparse
import contextlib
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from mcp_cli import client, key, token
from tests.docs.cli_commands import simple_commands, substitutions, with_values
from tests.docs.markdown import file_commands, learner_docs
from tests.helpers import ROOT

PARSERS: dict[str, Callable[[], argparse.ArgumentParser]] = {
    "mcp-token": token.build_parser,
    "mcp-key": key.build_parser,
    "mcp-client": client.build_parser,
}


def doc_commands() -> list[tuple[str, list[str]]]:
    """(where, words) of every mcp-* simple command in the docs, `$( ... )` ones included."""
    docs = sorted({*learner_docs(), *(ROOT / "docs").glob("*.md")})
    found = []
    for path in docs:
        for command in file_commands(path):
            outer, inner = substitutions(command.text.replace("\n", " ; "))
            for part in [outer, *inner]:
                for words in simple_commands(with_values(part)):
                    if Path(words[0]).name in PARSERS:
                        found.append((f"{command.doc}:{command.line}", words))
    return found


COMMANDS = doc_commands()


def test_the_docs_run_every_tool() -> None:
    """The check below would pass on no commands at all; the docs use all three."""
    assert {Path(words[0]).name for _, words in COMMANDS} == set(PARSERS)


@pytest.mark.parametrize(("where", "words"), COMMANDS, ids=[where for where, _ in COMMANDS])
def test_the_command_is_installed_where_named_and_parses(where: str, words: list[str]) -> None:
    name = Path(words[0]).name
    # Not on PATH unless the venv is activated; .venv/bin/NAME works from the checkout.
    assert words[0] == f".venv/bin/{name}", f"{where}: write .venv/bin/{name}"
    assert (ROOT / words[0]).is_file(), f"{where}: {words[0]} missing: run make install"
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        try:
            PARSERS[name]().parse_args(words[1:])
        except SystemExit:
            pytest.fail(f"{where}: {' '.join(words)}\n{errors.getvalue()}")
