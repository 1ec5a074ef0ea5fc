"""Sign-in mode in the container: the image's libraries (the OAuth proxy, Authlib, the key-value
store, Fernet) run from bytecode alone, so a whole sign-in goes through the real image.

The same flow as tests/signin/test_signin_flow.py: the Python SDK's OAuth client
registers, signs in through the consent page and the OIDC provider (a loopback
process, reachable from the container's host network), and lists tools.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.container.conftest import StartContainer
from tests.signin.conftest import oidc_provider, policy_file, signin_env  # noqa: F401 (fixtures)
from tests.signin.flow import Browser, MemoryTokens, list_tools, oauth_client

pytestmark = pytest.mark.container

POLICY_IN_CONTAINER = "/etc/mcp/policy.yaml"


async def test_a_person_signs_in_to_the_container_and_gets_the_policys_tools(
    start_container: StartContainer,
    signin_env: dict[str, str],  # noqa: F811 (the fixture imported above)
    policy_file: Path,  # noqa: F811
) -> None:
    env = {**signin_env, "MCP_SCOPE_POLICY_FILE": POLICY_IN_CONTAINER}
    running = start_container(files={POLICY_IN_CONTAINER: policy_file}, **env)
    storage = MemoryTokens()
    browser = Browser("bob")  # the policy gives partner.example public:read only
    tools = await list_tools(running.url, oauth_client(running.url, browser, storage))
    assert tools == ["get_public_info"]
    assert storage.tokens is not None
    assert storage.tokens.scope == "public:read"
