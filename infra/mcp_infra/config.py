"""Load and validate the Google Cloud stack's settings from `infra/config.toml`.

The learner's values live in `infra/config.toml` (copy `config.example.toml`; the
path can be changed with `MCP_INFRA_CONFIG`), and only there: no environment
variable overrides a setting. settings.py declares them; a bad one stops synth,
before the slow provider import, with one line that names it and what to do:

    infra/config.toml: zone 'europe-west1-b' is not in region 'us-central1' (like us-central1-a)

This module imports nothing from CDK Terrain, so it is cheap to test.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .settings import AuthorizedNetwork, InfraConfig
from .settings_doc import allowed

__all__ = ["CONFIG_ENV", "ConfigError", "InfraConfig", "config_path", "from_mapping", "load_config"]

INFRA_DIR = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = INFRA_DIR / "config.example.toml"
CONFIG_ENV = "MCP_INFRA_CONFIG"


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names it."""


def config_path() -> Path:
    """The config file in use: $MCP_INFRA_CONFIG, else infra/config.toml."""
    return Path(os.environ.get(CONFIG_ENV) or INFRA_DIR / "config.toml")


def load_config() -> InfraConfig:
    """Read and validate config_path(); raise ConfigError naming the bad setting."""
    path = config_path()
    if not path.is_file():
        raise ConfigError(
            f"{path}: config file not found; copy {EXAMPLE_CONFIG.name} to config.toml "
            f"in {INFRA_DIR} and set your values (or point {CONFIG_ENV} at one)"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return from_mapping(data, source=str(path))


def from_mapping(data: Mapping[str, Any], source: str = "config") -> InfraConfig:
    """Build an InfraConfig from plain values (a parsed TOML table) and validate it."""
    try:
        return InfraConfig.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(f"{source}: {first_problem(exc)}") from None


def first_problem(exc: ValidationError) -> str:
    """One line, "<setting> <what is wrong>", for the first error: unknown settings
    first, then missing ones, then the rest in declaration order (as pydantic lists them)."""
    error = min(exc.errors(), key=lambda e: {"extra_forbidden": 0, "missing": 1}.get(e["type"], 2))
    kind, loc, value = error["type"], error["loc"], error.get("input")
    name = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)[1:]
    # authorized_networks holds the only nested tables; `labels.app` is a key of a dict.
    fields = InfraConfig.model_fields if len(loc) == 1 else AuthorizedNetwork.model_fields
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]).lower(), list(fields), n=1)
        fix = f"did you mean {close[0]}?" if close else f"see {EXAMPLE_CONFIG.name}"
        return f"unknown setting {name!r} (check the spelling: {fix})"
    if kind == "missing":
        return f"{name} is required: {fields[str(loc[-1])].description}"
    if kind == "value_error":  # a validator of settings.py says the rest (the whole line if no loc)
        return f"{name} {error['ctx']['error']}".strip()
    if kind == "string_pattern_mismatch":
        return f"{name} {value!r} is not {allowed(name)}"
    # pydantic's own words: "Input should be greater than or equal to 1" -> "must be ...".
    what = re.sub(r"^\w+ should", "must", error["msg"]).replace(" after validation", "")
    return f"{name} {what}, got {value!r}"
