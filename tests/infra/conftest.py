"""Fixtures for the infra tests: one synth of the stack per test session.

Importing the Google provider is the slow part (seconds), so the stack is
synthesized once, into a temporary cdktf.out, and every test reads that JSON.
The config is an obvious example (documentation IP range, example project),
used only here.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.mcp_infra.config import InfraConfig, from_mapping
from tests.helpers import require
from tests.infra.example import EXAMPLE_SETTINGS, SIGNIN_HOST


@pytest.fixture(scope="session")
def example_config() -> InfraConfig:
    return from_mapping(EXAMPLE_SETTINGS, source="example")


@dataclass(frozen=True)
class Synth:
    """The synthesized stack: the parsed JSON, its text, and where it was written."""

    config: InfraConfig
    doc: dict[str, Any]
    text: str
    stack_dir: Path

    def resources(self, rtype: str) -> dict[str, dict[str, Any]]:
        """All resources of one Terraform type, by their logical id."""
        found: dict[str, dict[str, Any]] = self.doc.get("resource", {}).get(rtype, {})
        return found

    def only(self, rtype: str) -> dict[str, Any]:
        """The single resource of a type (fails if there are several)."""
        found = self.resources(rtype)
        assert len(found) == 1, f"expected one {rtype}, found {sorted(found)}"
        return next(iter(found.values()))

    def by_path(self, rtype: str, suffix: str) -> dict[str, Any]:
        """The resource of a type whose construct path ends with `suffix`."""
        for body in self.resources(rtype).values():
            if body["//"]["metadata"]["path"].endswith(suffix):
                return body
        raise AssertionError(f"no {rtype} at a path ending in {suffix!r}")


def cdktn_available() -> bool:
    return (
        importlib.util.find_spec("cdktn") is not None
        and importlib.util.find_spec("cdktn_provider_google") is not None
        and shutil.which("node") is not None
    )


def _synth(config: InfraConfig, outdir: Path) -> Synth:
    require(cdktn_available(), "cdktn / cdktn-provider-google or node missing; run `make synth`")
    from infra.mcp_infra.stack import build_app  # slow the first time (provider import)

    app, _stack = build_app(config, outdir=str(outdir))
    app.synth()
    stack_dir = outdir / "stacks" / config.stack_name
    text = (stack_dir / "cdk.tf.json").read_text(encoding="utf-8")
    return Synth(config=config, doc=json.loads(text), text=text, stack_dir=stack_dir)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory, example_config: InfraConfig) -> Synth:
    """The stack as a learner starting from nothing synthesizes it."""
    return _synth(example_config, tmp_path_factory.mktemp("cdktf.out"))


@pytest.fixture(scope="session")
def adopting_synth(tmp_path_factory: pytest.TempPathFactory, synth: Synth) -> Synth:
    """The same stack adopting a hand-made registry and secret (import blocks)."""
    settings = dict(EXAMPLE_SETTINGS, import_existing_registry=True, import_existing_secret=True)
    config = from_mapping(settings, source="example")
    return _synth(config, tmp_path_factory.mktemp("cdktf.out-adopting"))


# A learner's config with every option on: alerts by e-mail, sign-in's public host
# (the uptime check) and each cluster option of "Cluster options".
LEARNER_OPTIONS: dict[str, Any] = {
    "alert_email": "oncall@example.com",
    "signin_host": "mcp.example.com",
    "regional": True,
    "node_count": 1,
    "min_nodes": 1,
    "max_nodes": 3,
    "maintenance_exclusion_start": "2026-12-24T00:00:00Z",
    "maintenance_exclusion_end": "2027-01-02T00:00:00Z",
    "maintenance_exclusion_scope": "NO_MINOR_UPGRADES",
    "upgrade_notifications": True,
    "database_encryption": True,
}


@pytest.fixture(scope="session")
def alerting_synth(tmp_path_factory: pytest.TempPathFactory, synth: Synth) -> Synth:
    """The same stack with LEARNER_OPTIONS: channels, uptime check, every cluster option."""
    config = from_mapping(dict(EXAMPLE_SETTINGS, **LEARNER_OPTIONS), source="example")
    return _synth(config, tmp_path_factory.mktemp("cdktf.out-alerting"))


@pytest.fixture(scope="session")
def signin_synth(tmp_path_factory: pytest.TempPathFactory, synth: Synth) -> Synth:
    """The same stack with signin_host set: sign-in's Google Cloud parts (phase 10)."""
    settings = dict(EXAMPLE_SETTINGS, signin_host=SIGNIN_HOST)
    config = from_mapping(settings, source="example")
    return _synth(config, tmp_path_factory.mktemp("cdktf.out-signin"))
