"""Load and validate the Google Cloud stack's settings from `infra/config.toml`.

The learner's values live in `infra/config.toml` (copy `config.example.toml`;
the path can be changed with `MCP_INFRA_CONFIG`). What each setting means,
its default and its rules are declared once, in settings.py; pydantic-settings
reads the file into that model before the slow provider import, and a bad
setting stops synth with one message that names it and says what to do, e.g.

    infra/config.toml: zone 'europe-west1-b' is not in region 'us-central1' (like us-central1-a)

This module imports nothing from CDK Terrain, so it is cheap to test.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .rules import Invalid, bounds, choice
from .settings import InfraConfig

__all__ = [
    "CONFIG_ENV",
    "EXAMPLE_CONFIG",
    "ConfigError",
    "InfraConfig",
    "config_path",
    "from_mapping",
    "load_config",
]

INFRA_DIR = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = INFRA_DIR / "config.toml"
EXAMPLE_CONFIG = INFRA_DIR / "config.example.toml"
CONFIG_ENV = "MCP_INFRA_CONFIG"


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names it."""


def config_path() -> Path:
    """The config file in use: $MCP_INFRA_CONFIG, else infra/config.toml."""
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else DEFAULT_CONFIG


class _ConfigFile(BaseSettings, InfraConfig):
    """InfraConfig read from config_path(), and from nothing else."""

    # pydantic-settings would take ZONE for zone; TOML keys are case-sensitive, and
    # so is every other reader of this file (the verifier, the infra workflow).
    model_config = SettingsConfigDict(case_sensitive=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file alone: no environment variable or .env file changes a setting
        # behind the back of the config.toml a learner reads.
        return (TomlConfigSettingsSource(settings_cls, config_path()),)


def load_config() -> InfraConfig:
    """Read and validate config_path(); raise ConfigError naming the bad setting."""
    path = config_path()
    if not path.is_file():
        raise ConfigError(
            f"{path}: config file not found; copy {EXAMPLE_CONFIG.name} to config.toml "
            f"in {INFRA_DIR} and set your values (or point {CONFIG_ENV} at one)"
        )
    try:
        # The values come from the file, not from arguments (mypy cannot know that).
        return _ConfigFile()  # type: ignore[call-arg]
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        raise ConfigError(f"{path}: {first_problem(exc)}") from None


def from_mapping(data: Mapping[str, Any], source: str = "config") -> InfraConfig:
    """Build an InfraConfig from plain values (a parsed TOML table) and validate it."""
    try:
        return InfraConfig.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(f"{source}: {first_problem(exc)}") from None


# What a value of the wrong TOML type is told, by pydantic's error type.
WRONG_TYPE = {
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "dict_type": 'must be a table of key = "value"',
    "tuple_type": "must be a list of {cidr = ..., name = ...} tables",
}


def first_problem(exc: ValidationError) -> str:
    """One line, "<setting> <what is wrong>", for the first error: unknown settings
    first, then missing ones, then the rest in declaration order (as pydantic lists them)."""
    order = {"extra_forbidden": 0, "missing": 1}
    error = min(exc.errors(), key=lambda e: order.get(e["type"], 2))
    kind, loc = error["type"], error["loc"]
    reason = error.get("ctx", {}).get("error")
    if isinstance(reason, Invalid):  # a rule of rules.py, raised by InfraConfig's validator
        return f"{reason.setting} {reason.message}"
    name = str(loc[0])
    if name == "authorized_networks" and kind in {"missing", "extra_forbidden", "model_type"}:
        return f"authorized_networks[{loc[1]}] must be a table with exactly cidr and name"
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(name.lower(), list(InfraConfig.model_fields), n=1)
        fix = f"did you mean {close[0]}?" if close else f"see {EXAMPLE_CONFIG.name}"
        return f"unknown setting {name!r} (check the spelling: {fix})"
    field = InfraConfig.model_fields[name]
    if kind == "missing":
        return f"{name} is required: {field.description}"
    if kind in {"greater_than_equal", "less_than_equal"} and (limits := bounds(field)):
        return f"{name} must be between {limits[0]} and {limits[1]}, got {error['input']}"
    if kind == "literal_error":
        return f"{name} must be {choice(field)}, got {error['input']!r}"
    return f"{_toml_name(loc)} {WRONG_TYPE.get(kind, error['msg'])}, got {error['input']!r}"


def _toml_name(loc: tuple[int | str, ...]) -> str:
    """The setting as TOML names it: labels.app, authorized_networks[0].cidr."""
    name = str(loc[0])
    for part in loc[1:]:
        name += f"[{part}]" if isinstance(part, int) else f".{part}"
    return name
