"""The OAuth proxy's internals sign-in mode uses, under names this server owns.

Part of app.fastmcp_adapter (its docstring says why each is needed); a module
of its own because importing FastMCP's proxy costs ~0.5 s of every start.
"""

from __future__ import annotations

from typing import Any

from fastmcp.server.auth import AccessToken
from fastmcp.server.auth.oauth_proxy import OAuthProxy
from fastmcp.server.auth.oauth_proxy.models import ClientCode
from fastmcp.server.auth.oidc_proxy import OIDCProxy
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import Response

from app.fastmcp_adapter import FastMCPChanged

# What the OAuth proxy's __init__ must set, and the methods it must serve with.
PROXY_STATE = (
    "_code_store",
    "_transaction_store",
    "_client_store",
    "_jti_mapping_store",
    "_token_validator",
    "_upstream_client_secret",
)
PROXY_METHODS = (
    "_handle_idp_callback",
    "_show_consent_page",
    # Documented override hooks, but private names: checked as well.
    "_translate_scopes_from_idp",
    "_prepare_scopes_for_upstream_refresh",
    "_extract_upstream_claims",
)
# Where the adapter's setter keeps what the proxy's __init__ assigns to the secret.
_FIXED_SECRET = "_fixed_client_secret"  # noqa: S105 (an attribute name)


def check_proxy_internals(proxy: OAuthProxy) -> None:
    """FastMCPChanged unless FastMCP's proxy still sets and serves what the sign-in uses."""
    state = vars(proxy)
    missing = [
        name
        for name in PROXY_STATE
        if name not in state and not (name == "_upstream_client_secret" and _FIXED_SECRET in state)
    ]
    missing += [
        f"{name}()" for name in PROXY_METHODS if not callable(getattr(OAuthProxy, name, None))
    ]
    if missing:
        raise FastMCPChanged("the OAuth proxy no longer has " + ", ".join(missing))


class OIDCProxyAdapter(OIDCProxy):
    """FastMCP's OIDC proxy with its internals under names this server owns.

    Subclasses override `after_idp_callback`, `after_consent_page` and
    `current_client_secret` instead of FastMCP's private methods.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_proxy_internals(self)

    # -- state the proxy keeps ------------------------------------------------

    async def stored_code(self, code: str) -> ClientCode | None:
        """The authorization code as the proxy stored it (upstream tokens included)."""
        stored: ClientCode | None = await self._code_store.get(key=code)
        return stored

    async def forget_code(self, code: str) -> None:
        await self._code_store.delete(key=code)

    async def requested_scopes(self, txn_id: str | None) -> list[str]:
        """The scopes the client asked for in the flow `txn_id` ([] when unknown)."""
        txn = await self._transaction_store.get(key=txn_id) if txn_id else None
        return list(txn.scopes) if txn is not None else []

    async def keep_client_for(self, client_id: str, ttl_seconds: int | None) -> None:
        """Store the registered client again: expiring after `ttl_seconds`, or never (None)."""
        stored = await self._client_store.get(key=client_id)
        if stored is not None:
            await self._client_store.put(key=client_id, value=stored, ttl=ttl_seconds)

    async def knows_token_id(self, jti: str) -> bool:
        """Whether the store still maps this token id to upstream tokens (raises if unreachable)."""
        return await self._jti_mapping_store.get(key=jti) is not None

    async def verify_upstream_id_token(self, id_token: str) -> AccessToken | None:
        """The upstream ID token checked by the proxy's own validator (issuer, audience, keys)."""
        verified: AccessToken | None = await self._token_validator.verify_token(id_token)
        return verified

    # -- the pages the proxy serves -----------------------------------------

    async def after_idp_callback(self, request: Request, response: Response) -> Response:
        """Override: the answer to the provider's redirect back, once the proxy made it."""
        return response

    async def after_consent_page(self, request: Request, response: Response) -> Response:
        """Override: the consent page, once the proxy rendered it."""
        return response

    async def _handle_idp_callback(self, request: Request) -> Any:
        return await self.after_idp_callback(request, await super()._handle_idp_callback(request))

    async def _show_consent_page(self, request: Request) -> Any:
        return await self.after_consent_page(request, await super()._show_consent_page(request))

    # -- the client secret ----------------------------------------------------

    def current_client_secret(self) -> SecretStr | None:
        """Override: the secret the proxy uses now (token endpoint, consent cookies)."""
        fixed: SecretStr | None = self.__dict__.get(_FIXED_SECRET)
        return fixed

    # The proxy reads this attribute on every use, and its __init__ sets it.
    @property
    def _upstream_client_secret(self) -> SecretStr | None:
        return self.current_client_secret()

    @_upstream_client_secret.setter
    def _upstream_client_secret(self, value: SecretStr | None) -> None:
        self.__dict__[_FIXED_SECRET] = value
