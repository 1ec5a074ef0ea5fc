"""Checks of the Dockerfile, .dockerignore and engine script that need no Docker engine."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from docker.utils.build import exclude_paths

from tests.container.conftest import BASE_IMAGE
from tests.helpers import ROOT, tool

DOCKERFILE = ROOT / "Dockerfile"
HADOLINT_CONFIG = ROOT / ".hadolint.yaml"
ENGINE_SCRIPT = ROOT / "scripts" / "ci" / "docker-engine.sh"
MIRROR_SCRIPT = ROOT / "scripts" / "ci" / "debian-mirror.sh"  # the engine script runs it


def hadolint(dockerfile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("hadolint"), "--no-color", "--config", str(HADOLINT_CONFIG), str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_hadolint_passes() -> None:
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        # A required OCI label goes missing.
        (("org.opencontainers.image.revision=", "org.example.revision="), "DL3049"),
        # A base image from a registry outside the trusted list.
        ((f"FROM {BASE_IMAGE} AS base", f"FROM quay.io/{BASE_IMAGE} AS base"), "DL3026"),
        # An unpinned pip install in a RUN step.
        (
            (
                "RUN pip install --require-hashes",
                "RUN pip install uv && pip install --require-hashes",
            ),
            "DL3013",
        ),
    ],
)
def test_hadolint_config_catches_regressions(
    tmp_path: Path, change: tuple[str, str], rule: str
) -> None:
    """The config is in force: each of these edits to the real Dockerfile fails the lint."""
    original = DOCKERFILE.read_text()
    assert change[0] in original
    broken = tmp_path / "Dockerfile"
    broken.write_text(original.replace(change[0], change[1]))
    result = hadolint(broken)
    assert result.returncode != 0
    assert rule in result.stdout


def test_dockerfile_needs_no_buildkit() -> None:
    """Debian's Docker and docker-py build with the legacy builder: no BuildKit-only syntax."""
    text = DOCKERFILE.read_text()
    assert not text.startswith("# syntax=")
    instructions = "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")
    )
    assert not re.search(r"--mount|--link|<<-?\s*['\"]?[A-Z]", instructions)


def test_dockerignore_sends_only_what_the_build_uses(tmp_path: Path) -> None:
    """docker-py's own matcher, on a tree holding everything that must never be sent."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    wanted = {
        "Dockerfile",
        "pyproject.toml",
        "README.md",
        "requirements/main.txt",
        "requirements/image-build.txt",
        "app/__init__.py",
        "app/documents/public.md",
    }
    unwanted = {
        ".git/config",
        ".venv/bin/python",
        ".dev/jwt-secret",
        ".env",
        ".tools/bin/helm",
        "tests/test_x.py",
        "infra/main.py",
        "helm/mcp-server/values.yaml",
        "docs/tutorial/04-container.md",
        "benchmarks/run.py",
        "gha-creds-0123abcd.json",
        "app/gha-creds-0123abcd.json",
        "app/__pycache__/server.cpython-311.pyc",
        "requirements/dev.txt",
    }
    for name in wanted | unwanted:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")

    sent = {
        path
        for path in exclude_paths(str(tmp_path), patterns, dockerfile="Dockerfile")
        if (tmp_path / path).is_file()
    }

    # The Dockerfile itself is always sent (docker-py adds it back, like the CLI).
    assert sent == wanted


def test_engine_script_usage_and_stop_leaves_foreign_engines_alone() -> None:
    result = subprocess.run(
        [str(ENGINE_SCRIPT)], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 2
    assert "usage:" in result.stderr
    for mode in ("existing", "reused"):
        result = subprocess.run(
            [str(ENGINE_SCRIPT), "stop"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env={**os.environ, "MCP_DOCKER_ENGINE": mode},
        )
        assert result.returncode == 0
        assert "leaving the engine running" in result.stderr


def test_engine_script_passes_shellcheck() -> None:
    result = subprocess.run(
        [tool("shellcheck"), str(ENGINE_SCRIPT), str(MIRROR_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout
