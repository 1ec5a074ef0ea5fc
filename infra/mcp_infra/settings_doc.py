"""Render config.example.toml and infra/README.md's settings table from settings.py.

Both list every setting with its description, default and what it allows, read
from the fields of the InfraConfig model in settings.py; tests/infra fails when the
checked-in files differ from what this prints. After changing a setting, in infra/:

    ../.venv/bin/python -m mcp_infra.settings_doc --write

`--example` and `--table` print the file and the table instead.
"""

from __future__ import annotations

import argparse
import json
import re
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .settings import InfraConfig

INFRA_DIR = Path(__file__).resolve().parent.parent
EXAMPLE = INFRA_DIR / "config.example.toml"
README = INFRA_DIR / "README.md"
START, END = "<!-- settings:start -->", "<!-- settings:end -->"
BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
FIELDS = InfraConfig.model_fields
SCHEMA = InfraConfig.model_json_schema()["properties"]
# The sections of config.example.toml, by the setting that starts each.
SECTIONS = {
    "project_id": "Google Cloud project",
    "state_bucket": "Terraform state",
    "github_owner": "GitHub: the repository whose workflows push images",
    "authorized_networks": "Who may reach the control plane",
    "cluster_name": "Cluster",
    "regional": "Cluster options (each off by default: what it costs, what it protects)",
    "network_name": "Network",
    "registry_id": "Artifact Registry",
    "secret_id": "Signing key",
    "k8s_namespace": "Identities",
    "kms_key_ring": "Binary Authorization and the pipeline's identities (phases 5 and 7)",
    "alert_email": "Alerts and labels",
    "signin_host": "Sign-in (phase 10)",
}

EXAMPLE_HEADER = """\
# Settings for the Google Cloud stack (tutorial phase 5). Generated from
# infra/mcp_infra/settings.py (python -m mcp_infra.settings_doc --write): edit there.
#
#   cp infra/config.example.toml infra/config.toml   # then edit config.toml
#
# `make synth` reads infra/config.toml (or the file named by MCP_INFRA_CONFIG) and
# refuses to synthesize while any value below is still an example, naming it.
# Set the uncommented (required) settings; each commented one shows its default.
# Nothing here is secret: the JWT signing key never goes into this file,
# the synthesized JSON or the Terraform state (mcp-key adds it).
"""


def toml_value(value: Any) -> str:
    """`value` as TOML; JSON spells these strings, whole numbers and booleans as TOML does."""
    if isinstance(value, Mapping):
        pairs = [
            f"{k if BARE_KEY.fullmatch(k) else json.dumps(k)} = {toml_value(v)}"
            for k, v in value.items()
        ]
        return "{ " + ", ".join(pairs) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(value)


def _comment(text: str) -> list[str]:
    """`text` as comment lines, never breaking a `quoted command` (it stays copyable)."""
    glued = re.sub(r"`[^`]+`", lambda m: m.group(0).replace(" ", "\0"), text)
    lines = textwrap.wrap(
        glued, width=86, initial_indent="# ", subsequent_indent="# ", break_on_hyphens=False
    )
    return [line.replace("\0", " ") for line in lines]


def allowed(name: str) -> str:
    """What a setting admits, in words: its declared `allowed`, else its choices or bounds."""
    spec = SCHEMA[name]
    if "allowed" in spec:
        return str(spec["allowed"])
    if "enum" in spec:
        return f"{', '.join(spec['enum'][:-1])} or {spec['enum'][-1]}"
    if "maximum" in spec:
        return f"{spec['minimum']}-{spec['maximum']}"
    if "exclusiveMinimum" in spec:
        return f"> {spec['exclusiveMinimum']}"
    return "true or false"


def example_toml() -> str:
    """The whole config.example.toml: required settings set to placeholders, the rest
    commented out at their defaults, each under its description."""
    assert set(SECTIONS) <= set(FIELDS), "a section starts at a setting that does not exist"
    lines = [EXAMPLE_HEADER.rstrip("\n")]
    for name, field in FIELDS.items():
        if name in SECTIONS:
            lines += ["", f"# ---- {SECTIONS[name]} ".ljust(78, "-")]
        lines += ["", *_comment(f"{field.description} Allowed: {allowed(name)}.")]
        if field.is_required():
            lines.append(f"{name} = {toml_value((field.examples or [])[0])}")
        else:
            lines.append(f"# {name} = {toml_value(field.get_default(call_default_factory=True))}")
    return "\n".join(lines) + "\n"


def settings_table() -> str:
    """The README's table: one row per setting, in declaration order."""
    rows = ["| setting | default | allowed | meaning |", "| --- | --- | --- | --- |"]
    for name, field in FIELDS.items():
        default = field.get_default(call_default_factory=True)
        shown = "required" if field.is_required() else f"`{toml_value(default)}`"
        rows.append(f"| `{name}` | {shown} | {allowed(name)} | {field.description} |")
    return "\n".join(rows)


def render_readme(page: str) -> str:
    """`page` with the text between the settings markers replaced by the current table."""
    head, rest = page.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{settings_table()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--example", action="store_true", help="print config.example.toml")
    what.add_argument("--table", action="store_true", help="print the README's settings table")
    what.add_argument("--write", action="store_true", help="update both files in place")
    args = parser.parse_args(argv)
    if args.example:
        print(example_toml(), end="")
    elif args.table:
        print(settings_table())
    else:
        EXAMPLE.write_text(example_toml(), encoding="utf-8")
        README.write_text(render_readme(README.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"wrote {EXAMPLE.name} and the settings table of {README.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
