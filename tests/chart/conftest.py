"""Session fixtures for the chart tests: one working copy, one render per combination."""

from __future__ import annotations

from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.chart.rendering import ARGOCD, Chart
from tests.helpers import tool


@pytest.fixture(scope="session")
def chart(tmp_path_factory: pytest.TempPathFactory) -> Chart:
    return Chart(tool("helm"), tmp_path_factory.mktemp("chart"))


@pytest.fixture(scope="session")
def argocd_objects() -> dict[str, dict[str, Any]]:
    """argocd/*.yaml by file stem: project, application, application-kind."""
    return {path.stem: YAML(typ="safe").load(path.read_text()) for path in ARGOCD.glob("*.yaml")}
