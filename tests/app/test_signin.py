"""Shared-key mode: sign-in stays off, and its OAuth proxy is never loaded."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def test_sign_in_is_off_without_its_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    """load_signin answers None without MCP_OIDC_CONFIG_URL (app.config skips it then too)."""
    from app.config import Settings, load_signin

    monkeypatch.setenv("MCP_JWT_SECRET_KEY", "k" * 40)
    monkeypatch.delenv("MCP_OIDC_CONFIG_URL", raising=False)
    assert load_signin(Settings()) is None


@pytest.mark.other_process
def test_shared_key_mode_never_imports_the_oauth_proxy() -> None:
    """~0.5 s of every start (docs/benchmarks.md): only sign-in mode pays for it."""
    script = (
        "import sys, app.__main__;"
        "from app import config, probes, http_app;"
        "http_app.build_app(config.load(), probes.Lifecycle());"
        "print(sorted(m for m in sys.modules if 'oauth_proxy' in m or 'oidc_proxy' in m))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MCP_", "FASTMCP_"))}
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**clean, "MCP_JWT_SECRET_KEY": "k" * 40},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("config_url", "google"),
    [
        ("https://accounts.google.com/.well-known/openid-configuration", True),
        ("https://ACCOUNTS.google.com/.well-known/openid-configuration", True),
        ("https://evil.example/accounts.google.com/.well-known/openid-configuration", False),
        ("https://accounts.google.com.evil.example/.well-known/openid-configuration", False),
        ("https://evil.example/.well-known/openid-configuration?accounts.google.com", False),
    ],
)
def test_googles_extras_only_for_googles_host(config_url: str, google: bool) -> None:
    """Offline access and forced consent go to Google's host only, matched exactly."""
    from app.signin import upstream_authorize_params

    params = upstream_authorize_params(config_url)
    assert params["scope"] == "openid email profile"
    # Google issues a refresh token only for access_type=offline (its documented value).
    assert (params.get("access_type") == "offline") is google
    assert ("access_type" in params) is google
    assert (params.get("prompt") == "consent") is google
