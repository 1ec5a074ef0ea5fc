"""Example settings for the infra tests: obvious example values, used only here.

The project id and GitHub names are made up, and the authorized CIDR is in
TEST-NET-2 (RFC 5737, documentation only), so nothing here can be deployed.
"""

from __future__ import annotations

from typing import Any

EXAMPLE_SETTINGS: dict[str, Any] = {
    "project_id": "mcp-example-123456",
    "state_bucket": "mcp-example-123456-tfstate",
    "github_owner": "example-org",
    "github_repository": "secure-mcp-server",
    "github_repository_id": 123456789,
    "github_owner_id": 987654321,
    "authorized_networks": [{"cidr": "198.51.100.7/32", "name": "learner workstation"}],
}

# A host under example.com (RFC 2606): sign-in's resources in the synth, never deployable.
SIGNIN_HOST = "mcp.example.com"


def with_settings(**changes: Any) -> dict[str, Any]:
    """EXAMPLE_SETTINGS with some values changed (a value of None removes the key)."""
    settings = dict(EXAMPLE_SETTINGS)
    for key, value in changes.items():
        if value is None:
            settings.pop(key, None)
        else:
            settings[key] = value
    return settings
