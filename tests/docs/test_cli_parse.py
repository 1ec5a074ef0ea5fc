"""Every gcloud, kubectl and gh command of the docs passes the real CLI's parser.

Spelling checks cannot see a flag the CLI does not have (phase 5 printed
`gcloud compute regions describe --filter`, which `describe` refuses). Each
command (tests/docs/cli_commands.py) runs through the installed CLI with
made-up values and nothing to talk to: an empty gcloud config (no account),
a kubeconfig whose only cluster is a loopback port nothing listens on, an
empty gh config (no login), and every HTTP(S) proxy set to a closed loopback
port. The parser runs before any of these are needed, so an unknown flag or
argument, an invalid choice or a missing required argument shows as what it
is; any other outcome must be the missing account, cluster or file. Nothing
leaves the machine: gcloud stops at the missing account before any request
(and is told not to probe a metadata server), kubectl's requests go to the
closed loopback port, a URL it fetches to the closed proxy.

Debian's gh (2.23) predates commands and flags a learner's gh has; those are
listed in NEWER_GH with the change that added them, and the rest of such a
command is still parsed by gh 2.23 with the newer flag taken out.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.docs.cli_commands import CliCommand, cli_commands_of, doc_cli_commands
from tests.helpers import ROOT, require

CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens here on these machines
PARSE_ERRORS = re.compile(
    r"unrecognized arguments|Invalid choice|argument [-\w]+: |must be specified"
    r"|expected one argument|unknown (?:flag|shorthand flag|command)|accepts \d+ arg"
    r"|requires (?:at least|exactly)|required flag|flag needs an argument|invalid argument",
    re.I,
)
# What each CLI says when it gets past its parser and finds nothing to act on.
NOTHING_TO_ACT_ON = {
    "gcloud": re.compile(
        r"do not currently have an active account|NoActiveAccountException"
        r"|default credentials were not found|component manager\s+is disabled"
        r"|enter the verification code"  # auth login: the sign-in prompt, stdin closed
    ),
    "kubectl": re.compile(
        r"connect: connection refused|was refused|cannot delete \w+ \S+, not in"
        r"|no such file or directory|no objects passed to apply"
    ),
    "gh": re.compile(r"gh auth login|GH_TOKEN"),
}
# gh commands and flags newer than Debian's gh 2.23, and the change that added each.
NEWER_GH = {
    ("variable",): "gh 2.32 (`gh variable`)",
    ("variable", "list", "--json"): "cli/cli#8516 (`gh variable list --json`, 2024)",
    ("cache",): "cli/cli#7014 (`gh cache`, 2023)",
    ("run", "list", "--commit"): "cli/cli#8350 (`gh run list --commit`, 2023)",
}
FLAGS_WITH_VALUES = {"--commit", "--json"}


def installed(cli: str) -> str | None:
    return shutil.which(cli)


@pytest.fixture(scope="module")
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: connections to it are refused at once."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture(scope="module")
def no_account_env(tmp_path_factory: pytest.TempPathFactory, closed_port: int) -> dict[str, str]:
    home = tmp_path_factory.mktemp("cli-home")
    (home / "gcloud").mkdir()
    (home / "gh").mkdir()
    kubeconfig = home / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n"
        f"clusters:\n- name: nowhere\n  cluster:\n    server: https://127.0.0.1:{closed_port}\n"
        "contexts:\n- name: nowhere\n  context:\n    cluster: nowhere\n    user: nobody\n"
        "users:\n- name: nobody\n  user:\n    token: made-up\n"
    )
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "CLOUDSDK_CONFIG": str(home / "gcloud"),
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_CORE_CHECK_GCE_METADATA": "false",
        "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "true",
        "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "true",
        "KUBECONFIG": str(kubeconfig),
        "GH_CONFIG_DIR": str(home / "gh"),
        "GH_NO_UPDATE_NOTIFIER": "1",
        "GH_PROMPT_DISABLED": "1",
    }
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY"):
        env[name] = CLOSED
    return env


def run(args: tuple[str, ...], env: dict[str, str]) -> tuple[int, str]:
    result = subprocess.run(
        list(args), env=env, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip
    return result.returncode, result.stdout + result.stderr


def newer_gh(args: tuple[str, ...]) -> tuple[str | None, tuple[str, ...]]:
    """(why gh 2.23 cannot parse it, what of it gh 2.23 can still parse) for a gh command."""
    words = args[1:]
    for key, why in NEWER_GH.items():
        if len(key) == 1 and words[:1] == key:
            return why, ()
    for key, why in NEWER_GH.items():
        if len(key) == 3 and words[:2] == key[:2] and key[2] in words:
            at = words.index(key[2])
            rest = words[:at] + words[at + (2 if key[2] in FLAGS_WITH_VALUES else 1) :]
            return why, (args[0], *rest)
    return None, args


def outcome_problem(cli: str, code: int, output: str) -> str | None:
    """Why this outcome is not "parsed, then stopped for want of an account or cluster"."""
    if PARSE_ERRORS.search(output):
        return "the parser refused it"
    if code == 0 or NOTHING_TO_ACT_ON[cli].search(output):
        return None
    return f"exit {code} for another reason than the missing account or cluster"


def ids(command: CliCommand) -> str:
    return f"{command.doc}:{command.line}:{command.args[0]}"


def unique(commands: list[CliCommand]) -> list[CliCommand]:
    """One run per distinct argument list (the first place it appears names it)."""
    seen: dict[tuple[str, ...], CliCommand] = {}
    for command in commands:
        seen.setdefault(command.args, command)
    return list(seen.values())


COMMANDS = unique(doc_cli_commands())


def test_the_docs_commands_are_found() -> None:
    """Each CLI's commands are read, also from inside `$( )`, loops and pipes."""
    clis = {command.args[0] for command in COMMANDS}
    assert clis == {"gcloud", "kubectl", "gh"}
    texts = {" ".join(command.args) for command in COMMANDS}
    assert "gcloud config get-value account" in texts  # inside $( ) inside "--filter=..."
    assert any(
        text.startswith("gcloud projects add-iam-policy-binding my-project") for text in texts
    )
    assert any(text.startswith("gh run list --workflow image.yml --commit 5d41") for text in texts)


def test_the_reader_takes_a_shell_line_apart() -> None:
    line = (
        'until RUN=$(gh run list --commit "$SHA" --jq \'.[] | .id\') && [ -n "$RUN" ]; do '
        'sleep 5; done; kubectl -n $NS logs -l "$SELECTOR" 2>&1 | grep -c x > /dev/null'
    )
    assert cli_commands_of(line) == [
        ["kubectl", "-n", "mcp-prototype", "logs", "-l", "app.kubernetes.io/instance=mcp-server"],
        [
            "gh",
            "run",
            "list",
            "--commit",
            "5d41402abc4b2a76b9719d911017c592ae3b7b1e",
            "--jq",
            ".[] | .id",
        ],
    ]


@pytest.mark.parametrize(
    ("cli", "code", "output", "problem"),
    [
        (
            "gcloud",
            2,
            "ERROR: (gcloud.compute.regions.describe) unrecognized arguments: --filter",
            "parser",
        ),
        (
            "gcloud",
            1,
            "ERROR: (gcloud.services.enable) You do not currently have an active account selected.",
            None,
        ),
        ("kubectl", 1, "error: unknown flag: --replica", "parser"),
        ("kubectl", 1, "dial tcp 127.0.0.1:4711: connect: connection refused", None),
        ("kubectl", 1, 'error: the server doesn\'t have a resource type "podz"', "another reason"),
        ("gh", 1, 'unknown command "varaible" for "gh"', "parser"),
        ("gh", 4, "To get started with GitHub CLI, please run:  gh auth login", None),
    ],
)
def test_outcomes_are_told_apart(cli: str, code: int, output: str, problem: str | None) -> None:
    found = outcome_problem(cli, code, output)
    assert (found is None) if problem is None else (found is not None and problem in found)


def parseable(command: CliCommand) -> tuple[str, ...]:
    """What of the command this machine's CLI can parse (gh 2.23 lacks some; see NEWER_GH)."""
    return newer_gh(command.args)[1] if command.args[0] == "gh" else command.args


@pytest.fixture(scope="module")
def outcomes(no_account_env: dict[str, str]) -> dict[tuple[str, ...], tuple[int, str]]:
    """(exit code, output) of every command, run four at a time: each CLI start is slow."""
    runnable = {
        args for args in map(parseable, COMMANDS) if args and installed(args[0]) is not None
    }
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = pool.map(lambda args: run(args, no_account_env), sorted(runnable))
        return dict(zip(sorted(runnable), results, strict=True))


@pytest.mark.parametrize("command", COMMANDS, ids=ids)
def test_the_real_cli_parses_the_command(
    command: CliCommand, outcomes: dict[tuple[str, ...], tuple[int, str]]
) -> None:
    cli = command.args[0]
    require(
        installed(cli) is not None,
        f"{cli} is not installed (gh: `make test` installs it as root on Debian)",
    )
    args = parseable(command)
    if not args:
        return  # a whole command gh 2.23 lacks: NEWER_GH names the change that added it
    code, output = outcomes[args]
    problem = outcome_problem(cli, code, output)
    assert problem is None, f"{command}\n{problem}:\n{output[-1500:]}"


def test_the_cli_check_reaches_each_cli_it_needs() -> None:
    """Under CI=true a missing CLI fails; locally the parametrized test skips with the reason."""
    for cli in ("gcloud", "kubectl", "gh"):
        require(installed(cli) is not None, f"{cli} is not installed")
