"""Print (or write) the settings' documents: docs/reference.md's table and .env.example.

Both are derived from app.config.Settings, where each setting's default, bounds,
description and example are declared once; a test fails when a file and the code
disagree. `python3 scripts/settings_table.py --write` brings both up to date.

.env.example shows each setting under its description, set to its default; a
setting unset by default is commented out, with the field's first `examples`
entry as its placeholder. Only its grouping and the groups' notes are written here.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from pydantic.fields import FieldInfo

from app.config import Settings

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "reference.md"
ENV_EXAMPLE = ROOT / ".env.example"
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


# ---------------------------------------------------------------- .env.example

ENV_HEADER = """\
# Every setting the server reads, with its default. Copy to .env (ignored by
# git) and export it, or set these in your shell, your container or the chart.
# Generated from app/config.py by scripts/settings_table.py --write: edit there."""


@dataclass(frozen=True)
class Group:
    title: str
    names: tuple[str, ...]  # Settings fields, in the order a learner meets them
    note: str = ""
    off: bool = False  # a mode that is off: even its defaults are commented out


GROUPS = (
    Group("Where the server listens", ("host", "port", "public_url", "authorization_server")),
    Group(
        "Tokens",
        (
            "jwt_secret_key",
            "jwt_secret_file",
            "jwt_previous_secret_key",
            "jwt_previous_secret_file",
            "jwt_denylist_file",
            "jwt_jwks_url",
            "jwt_issuer",
            "jwt_audience",
            "jwt_leeway_seconds",
            "jwt_max_token_lifetime_seconds",
        ),
        note="Set exactly one of MCP_JWT_SECRET_KEY and MCP_JWT_SECRET_FILE. Never commit "
        "a key; `make run` creates a development key in the file below.",
    ),
    Group("Logs", ("log_level", "log_format", "gcp_project_id")),
    Group(
        "What is served, to whom, how often; shutdown",
        (
            "documents_dir",
            "allowed_origins",
            "rate_limit_per_minute",
            "auth_failure_limit_per_minute",
            "shutdown_drain_seconds",
            "shutdown_timeout_seconds",
            "request_body_timeout_seconds",
        ),
        note="Behind a proxy every client has the proxy's address, one budget for all, "
        "unless MCP_FORWARDED_ALLOW_IPS trusts it to name the client.",
    ),
    Group(
        "Sign-in mode (docs/tutorial/10-sign-in.md)",
        (
            "oidc_config_url",
            "oidc_client_id",
            "oidc_client_secret",
            "oidc_client_secret_file",
            "scope_policy_file",
            "oauth_storage_url",
            "oauth_registrations_per_minute",
            "oauth_unused_client_ttl_seconds",
        ),
        note="Off unless MCP_OIDC_CONFIG_URL is set: the server becomes an OAuth "
        "authorization server for MCP clients, backed by this OpenID Connect provider; "
        "static tokens keep working.",
        off=True,
    ),
    Group(
        "Several replicas: shared limits, proxies, Redis (docs/security.md)",
        ("rate_limit_storage_url", "forwarded_allow_ips", "redis_password_file", "redis_ca_file"),
        note="Behind Google's load balancer, trust its proxy ranges and its own address "
        '(it appends "client, load-balancer address").',
    ),
)
# Set, though unset by default: without a key the server does not start, and
# this is the one `make run` creates.
SET_TO_EXAMPLE = frozenset({"jwt_secret_file"})


def _comment(text: str) -> list[str]:
    return textwrap.wrap(
        text,
        width=79,
        initial_indent="# ",
        subsequent_indent="# ",
        break_long_words=False,
        break_on_hyphens=False,
    )


def _text(value: object) -> str:
    """A value as the environment spells it: lists comma-separated, 15.0 as 15."""
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _setting(name: str, field: FieldInfo, group: Group) -> list[str]:
    text = field.description or ""
    allowed = _bounds(field)
    lines = _comment(text[:1].upper() + text[1:] + (f"; allowed: {allowed}" if allowed else ""))
    variable = f"MCP_{name.upper()}"
    if field.default not in (None, []):
        value, commented = field.default, group.off
    else:
        value = (field.examples or [""])[0]
        commented = name not in SET_TO_EXAMPLE
    return [*lines, f"{'#' if commented else ''}{variable}={_text(value)}"]


def env_example() -> str:
    """The whole .env.example; ValueError when a setting is in no group or in two."""
    fields = Settings.model_fields
    placed = [name for group in GROUPS for name in group.names]
    unknown = sorted(set(placed) - set(fields))
    missing = [name for name in fields if name not in placed]
    twice = sorted({name for name in placed if placed.count(name) > 1})
    if unknown or missing or twice:
        raise ValueError(
            f"scripts/settings_table.py's GROUPS: add {missing}, remove {unknown}, "
            f"list once {twice} (MCP_ settings of app/config.py)"
        )
    lines = [ENV_HEADER]
    for group in GROUPS:
        lines += ["", f"# ---- {group.title} ".ljust(79, "-")]
        if group.note:  # a paragraph about the group, apart from the first setting's
            lines += [*_comment(group.note), ""]
        for name in group.names:
            lines += _setting(name, fields[name], group)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", action="store_true", help=f"update {PAGE.name} and {ENV_EXAMPLE.name} in place"
    )
    parser.add_argument(
        "--env-example", action="store_true", help=f"print {ENV_EXAMPLE.name} instead of the table"
    )
    args = parser.parse_args(argv)
    if args.write:
        PAGE.write_text(render(PAGE.read_text()))
        ENV_EXAMPLE.write_text(env_example())
        print(f"updated {PAGE} and {ENV_EXAMPLE}", file=sys.stderr)
    elif args.env_example:
        print(env_example(), end="")
    else:
        print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
