"""The gcloud, kubectl and gh commands of the docs, as argument lists the real CLIs can parse.

Each console command is taken apart the way a shell would: `$( ... )`
substitutions become commands of their own (and a made-up word in place),
shell variables become made-up values, redirections go, and pipes, `&&`,
`;` and loop keywords split the rest into simple commands. Only the simple
commands that start with one of the CLIs are kept.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from tests.docs.markdown import file_commands, learner_docs

CLIS = ("gcloud", "kubectl", "gh")
# Values a learner's shell would hold; any other variable becomes "made-up-<name>".
VARIABLES = {
    "PROJECT": "my-project",
    "PROJECT_ID": "my-project",
    "ME": "alice@example.com",
    "GSA": "mcp-server@my-project.iam.gserviceaccount.com",
    "RUN": "1234567890",
    "SHA": "5d41402abc4b2a76b9719d911017c592ae3b7b1e",
    "NS": "mcp-prototype",
    "SELECTOR": "app.kubernetes.io/instance=mcp-server",
    "POD": "mcp-server-7d9c-abcde",
    "CONTEXT": "gke_my-project_us-central1-a_mcp-prototype",
    "REGISTRY": "us-central1-docker.pkg.dev/my-project/mcp-prototype",
    "UNSIGNED": "sha256:" + "0" * 64,
    "GITHUB_USER": "alice",
    "HOME": "/home/alice",
    "role": "container.admin",
    "v": "GCP_REGION",
}
SHELL_WORDS = {"for", "do", "done", "while", "until", "if", "then", "else", "fi", "!", "{", "}"}
REDIRECTION = re.compile(r"(?<=\s)\d?(?:>>?|<)&?\s*(?:\d\b|\"[^\"]*\"|'[^']*'|[^\s|;&)]+)")


@dataclass(frozen=True)
class CliCommand:
    doc: str
    line: int
    args: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}: {shlex.join(self.args)}"


def substitutions(text: str) -> tuple[str, list[str]]:
    """`text` with each outermost `$( ... )` replaced by a word, and the commands inside."""
    inner: list[str] = []
    out: list[str] = []
    i = 0
    quote = ""
    while i < len(text):
        char = text[i]
        if quote == "'":
            quote = "" if char == "'" else quote
        elif char == "'" and not quote:
            quote = "'"
        elif char == '"':
            quote = "" if quote == '"' else '"'
        elif text.startswith("$(", i):
            depth, j, q = 1, i + 2, ""
            while j < len(text) and depth:
                c = text[j]
                if q:
                    q = "" if c == q else q
                elif c in "'\"":
                    q = c
                elif c == "(":
                    depth += 1
                elif c == ")":
                    depth -= 1
                j += 1
            body = text[i + 2 : j - 1]
            nested, deeper = substitutions(body)
            inner += [nested, *deeper]
            out.append("made-up")
            i = j
            continue
        out.append(char)
        i += 1
    return "".join(out), inner


def with_values(text: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return VARIABLES.get(name, f"made-up-{name.lower()}")

    return re.sub(r"\$\{(\w+)\}|\$([A-Za-z_]\w*)", value, text)


def simple_commands(text: str) -> list[list[str]]:
    """The simple commands of a shell line (after substitutions and redirections are gone)."""
    lexer = shlex.shlex(REDIRECTION.sub(" ", f" {text}"), posix=True, punctuation_chars="|&;()")
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token and set(token) <= set("|&;()"):
            commands.append([])
        else:
            commands[-1].append(token)
    found = []
    for words in commands:
        while words and (words[0] in SHELL_WORDS or re.match(r"^\w+=", words[0])):
            words = words[1:]
        if words:
            found.append(words)
    return found


def cli_commands_of(text: str) -> list[list[str]]:
    """The gcloud/kubectl/gh argument lists of one console command."""
    outer, inner = substitutions(text.replace("\n", " ; "))
    found = []
    for part in [outer, *inner]:
        for words in simple_commands(with_values(part)):
            if words[0] in CLIS:
                found.append(words)
    return found


def doc_cli_commands() -> list[CliCommand]:
    """Every gcloud, kubectl and gh command of the README, the tutorial and operations.md."""
    return [
        CliCommand(command.doc, command.line, tuple(args))
        for path in learner_docs()
        for command in file_commands(path)
        for args in cli_commands_of(command.text)
    ]
