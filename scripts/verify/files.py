"""Reading the project's YAML: values files, workflows, ArgoCD manifests, rendered charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .framework import CheckFailed


def load_yaml(path: Path) -> Any:
    from ruamel.yaml import YAML  # the dev dependency group; imported late for --help speed

    if not path.is_file():
        raise CheckFailed(f"{path} does not exist")
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def load_yaml_all(text: str) -> list[Any]:
    from ruamel.yaml import YAML

    return [doc for doc in YAML(typ="safe").load_all(text) if doc]
