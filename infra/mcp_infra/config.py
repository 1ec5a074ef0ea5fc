"""Load and validate the Google Cloud stack's settings from `infra/config.toml`.

The learner's values live in `infra/config.toml` (copy `config.example.toml`;
the path can be changed with `MCP_INFRA_CONFIG`). What each setting means,
its default and its rules are declared once, in settings.py; this module
applies them before the slow provider import, and a bad setting stops synth
with one message that names it and says what to do, e.g.

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

from .rules import Invalid
from .settings import PLACEHOLDERS, SETTINGS, AuthorizedNetwork, InfraConfig, is_required

__all__ = [
    "CONFIG_ENV",
    "EXAMPLE_CONFIG",
    "PLACEHOLDERS",
    "AuthorizedNetwork",
    "ConfigError",
    "InfraConfig",
    "config_path",
    "from_mapping",
    "load_config",
    "validate",
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


def load_config(path: Path | None = None) -> InfraConfig:
    """Read and validate the TOML config file; raise ConfigError naming the bad setting."""
    path = path or config_path()
    if not path.is_file():
        raise ConfigError(
            f"{path}: config file not found; copy {EXAMPLE_CONFIG.name} to config.toml "
            f"in {INFRA_DIR} and set your values (or point {CONFIG_ENV} at one)"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return from_mapping(data, source=str(path))


def from_mapping(data: Mapping[str, Any], source: str = "config") -> InfraConfig:
    """Build an InfraConfig from plain values (a parsed TOML table) and validate it."""
    known = [spec.name for spec in SETTINGS]
    unknown = sorted(set(data) - set(known))
    if unknown:
        close = difflib.get_close_matches(unknown[0], known, n=1)
        fix = f"did you mean {close[0]}?" if close else f"see {EXAMPLE_CONFIG.name}"
        raise ConfigError(f"{source}: unknown setting {unknown[0]!r} (check the spelling: {fix})")
    for spec in SETTINGS:
        if is_required(spec) and spec.name not in data:
            raise ConfigError(f"{source}: {spec.name} is required: {spec.metadata['description']}")

    values = dict(data)
    raw_networks = values["authorized_networks"]
    if not isinstance(raw_networks, list):
        raise ConfigError(
            f"{source}: authorized_networks must be a list of {{cidr = ..., name = ...}} tables"
        )
    networks = []
    for i, item in enumerate(raw_networks):
        if not isinstance(item, Mapping) or set(item) != {"cidr", "name"}:
            raise ConfigError(
                f"{source}: authorized_networks[{i}] must be a table with exactly cidr and name"
            )
        networks.append(AuthorizedNetwork(cidr=str(item["cidr"]), name=str(item["name"])))
    values["authorized_networks"] = tuple(networks)
    if "labels" in values:
        if not isinstance(values["labels"], Mapping):
            raise ConfigError(f'{source}: labels must be a table of key = "value"')
        values["labels"] = dict(values["labels"])

    _check_types(values, source)
    config = InfraConfig(**values)
    validate(config, source)
    return config


def _check_types(values: Mapping[str, Any], source: str) -> None:
    expected = {spec.name: spec.type for spec in SETTINGS}
    for name, value in values.items():
        kind = expected[name]
        if kind == "str" and not isinstance(value, str):
            raise ConfigError(f"{source}: {name} must be a string, got {value!r}")
        # bool is an int in Python: refuse it where a number is meant.
        if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(f"{source}: {name} must be a whole number, got {value!r}")
        if kind == "bool" and not isinstance(value, bool):
            raise ConfigError(f"{source}: {name} must be true or false, got {value!r}")


def validate(cfg: InfraConfig, source: str = "config") -> None:
    """Raise ConfigError with one clear message for the first bad setting.

    Placeholders first (an unedited example names its first one), then each
    setting's rules in declaration order, so a rule may rely on the settings
    declared above it (zone on region, the ranges on each other).
    """
    for spec in SETTINGS:
        value = getattr(cfg, spec.name)
        if isinstance(value, str) and value in PLACEHOLDERS:
            raise ConfigError(
                f"{source}: {spec.name} is still the example value {value!r}: "
                f"set your own in {source}"
            )
    for i, net in enumerate(cfg.authorized_networks):
        if net.cidr in PLACEHOLDERS:
            raise ConfigError(
                f"{source}: authorized_networks[{i}].cidr is still the example value "
                f"{net.cidr!r}: set the address you run kubectl from "
                "(curl -4 -s https://ifconfig.me, then add /32)"
            )
    for spec in SETTINGS:
        for rule in spec.metadata["rules"]:
            try:
                rule.check(getattr(cfg, spec.name), cfg)
            except Invalid as exc:
                raise ConfigError(f"{source}: {exc.setting or spec.name} {exc.message}") from None
