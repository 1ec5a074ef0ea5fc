"""The OAuth client secret follows its mounted file, as kubelet updates it, without a restart.

The sign-in provider is the server's own, built against the real test
provider; the secret file sits in a kubelet-style volume (the file is a
symlink through `..data`, which is flipped to a new timestamped folder). What
is checked is the client the proxy builds for each call to the provider's
token endpoint: the secret it authenticates with.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

import app.key_files
from app import config
from app.http_app import _auth_provider, limiters
from app.key_files import CHECK_SECONDS
from app.signin import PolicyOIDCProxy
from tests.app.conftest import Clock

NAME = "client-secret"


def mount(volume: Path, secret: str, generation: int) -> None:
    """Write a new timestamped folder and flip `..data` to it in one step, as kubelet does."""
    folder = volume / f"..2026_12_06_{generation:02d}"
    folder.mkdir()
    (folder / NAME).write_text(secret + "\n")
    link = volume / "..data_tmp"
    link.symlink_to(folder.name)
    os.replace(link, volume / "..data")
    if not (volume / NAME).is_symlink():
        (volume / NAME).symlink_to(f"..data/{NAME}")


def upstream_secret(provider: PolicyOIDCProxy) -> str | None:
    client = provider._create_upstream_oauth_client()
    return client.client_secret


def test_a_rotated_client_secret_reaches_the_running_proxy(
    monkeypatch: pytest.MonkeyPatch,
    signin_env: dict[str, str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    volume = tmp_path / "mcp-oauth"
    volume.mkdir()
    mount(volume, "first-secret-value", 1)
    for name in list(os.environ):
        if name.startswith("MCP_"):
            monkeypatch.delenv(name)
    env = {k: v for k, v in signin_env.items() if k != "MCP_OIDC_CLIENT_SECRET"}
    for name, value in {**env, "MCP_OIDC_CLIENT_SECRET_FILE": str(volume / NAME)}.items():
        monkeypatch.setenv(name, value)
    # The clock of app.key_files is the test's: no sleeping through the once-a-second look.
    clock = Clock()
    monkeypatch.setattr(app.key_files, "time", clock)
    loaded_config = config.load()
    provider = _auth_provider(loaded_config, limiters(loaded_config.settings))
    assert isinstance(provider, PolicyOIDCProxy)
    assert upstream_secret(provider) == "first-secret-value"

    mount(volume, "second-secret-value", 2)
    clock.now += CHECK_SECONDS  # the file is looked at no more than once a second
    with caplog.at_level(logging.INFO, logger="app.key_files"):
        assert upstream_secret(provider) == "second-secret-value"
    [loaded] = [r for r in caplog.records if r.getMessage() == "secret loaded"]
    assert loaded.setting == "MCP_OIDC_CLIENT_SECRET_FILE"  # type: ignore[attr-defined]
    assert "second-secret-value" not in caplog.text  # a fingerprint, never the secret

    # An empty secret (a half-written rotation) is refused: the last good one stays.
    mount(volume, "", 3)
    clock.now += CHECK_SECONDS
    assert upstream_secret(provider) == "second-secret-value"


def test_a_secret_given_as_a_value_stays_that_value(
    monkeypatch: pytest.MonkeyPatch, signin_env: dict[str, str]
) -> None:
    for name in list(os.environ):
        if name.startswith("MCP_"):
            monkeypatch.delenv(name)
    for name, value in signin_env.items():
        monkeypatch.setenv(name, value)
    loaded_config = config.load()
    provider = _auth_provider(loaded_config, limiters(loaded_config.settings))
    assert isinstance(provider, PolicyOIDCProxy)
    assert upstream_secret(provider) == signin_env["MCP_OIDC_CLIENT_SECRET"]
