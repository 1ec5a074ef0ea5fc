"""Shared test helpers: tool lookup, and skipping that turns into failure in CI."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS_BIN = ROOT / ".tools" / "bin"


def in_ci() -> bool:
    """CI sets CI=true; there a missing tool or engine is a failure, not a skip."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    """Skip the calling test with `reason` when `condition` is false (fail under CI=true)."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"required under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def tool(name: str) -> str:
    """Path of a validator installed by `make tools` (or on PATH); skips/fails if absent."""
    candidate = TOOLS_BIN / name
    path = str(candidate) if candidate.exists() else shutil.which(name)
    require(path is not None, f"{name} not installed; run `make tools`")
    assert path is not None
    return path
