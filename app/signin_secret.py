"""The OAuth client secret from MCP_OIDC_CLIENT_SECRET_FILE, following its file.

FastMCP's proxy keeps the secret it was given and reads it for every call to
the provider's token endpoint and to sign its consent cookies (through
app.fastmcp_adapter.oidc_proxy's `current_client_secret`). Here it is the
file's content now (app.key_files.WatchedSecret: looked at no more than once a second, re-read
when kubelet flips the `..data` symlink, an empty or unreadable new file
refused with the last good secret kept), so an External Secrets refresh of a
rotated secret reaches a running pod. The proxy's own token key stays the one
derived at start (app.signin.build_signin_provider): docs/operations.md says
when to restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import SecretStr

from app.fastmcp_adapter.oidc_proxy import OIDCProxyAdapter
from app.key_files import WatchedSecret


class ClientSecretFile(OIDCProxyAdapter):
    """OIDCProxy taking `client_secret_file`: its secret follows that file."""

    def __init__(self, *, client_secret_file: Path | None = None, **kwargs: Any) -> None:
        # Before the proxy's own __init__, which reads the secret through current_client_secret().
        self._client_secret_file: WatchedSecret | None = None
        if client_secret_file is not None:
            label = "MCP_OIDC_CLIENT_SECRET_FILE"
            self._client_secret_file = WatchedSecret(
                client_secret_file, kwargs["client_secret"], label
            )
        super().__init__(**kwargs)

    def current_client_secret(self) -> SecretStr | None:
        if self._client_secret_file is not None:
            return SecretStr(self._client_secret_file.value())
        return super().current_client_secret()
