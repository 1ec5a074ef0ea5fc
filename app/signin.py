"""Sign-in mode: the server is an OAuth 2.1 authorization server for MCP clients.

Built on FastMCP's own OAuth proxy (`OIDCProxy`), which does the OAuth: dynamic
client registration and Client ID Metadata Documents, PKCE, the consent page,
the upstream OpenID Connect sign-in, and refresh. It issues its own short JWTs
that point at the upstream tokens it keeps (encrypted) in its storage.

What this module adds is the scope decision. The proxy would grant what the
client asked for (or what the upstream echoes); here the scope policy
(app/policy.py) decides from the identity in the upstream's verified ID token,
when the code is exchanged and again on every refresh. The granted scopes are
what the issued token carries and what `AccessToken.scopes` holds for the scope
gate, so sign-in tokens pass the same gate, logs and metrics as static ones.
Static tokens (`make token`) keep working next to sign-in.

State (registered clients, flows in progress, token mappings) lives in
MCP_OAUTH_STORAGE_URL (Redis protocol) so that a flow started on one replica
finishes on another; in memory when unset (one replica only).
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.fernet import Fernet
from fastmcp.server.auth import AccessToken, TokenVerifier
from fastmcp.server.auth.jwt_issuer import derive_jwt_key
from fastmcp.server.auth.oidc_proxy import OIDCConfiguration
from key_value.aio.protocols import AsyncKeyValue
from key_value.aio.stores.memory import MemoryStore
from key_value.aio.wrappers.encryption import FernetEncryptionWrapper
from mcp.server.auth.provider import AuthorizationCode, RefreshToken, TokenError
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyHttpUrl

from app.catalog import ALL_SCOPES
from app.config import ConfigError, Settings
from app.metrics import count_decision
from app.policy import Identity, PolicyError, ScopePolicy, load_policy
from app.signin_cache import CachedTokenChecks
from app.signin_secret import ClientSecretFile

if TYPE_CHECKING:
    from app.config import Config

log = logging.getLogger("app.signin")

# What the server asks the upstream for: who the person is, nothing of theirs.
UPSTREAM_SCOPES = "openid email profile"
DISCOVERY_TIMEOUT_SECONDS = 10
# Google issues a refresh token only when asked for offline access, and asks
# for consent again only with prompt=consent; other providers ignore neither.
GOOGLE_ISSUER_HOST = "accounts.google.com"


@dataclass(frozen=True)
class SignIn:
    """Sign-in mode's secret and policy, read and checked at start."""

    client_secret: str
    policy: ScopePolicy


def load_signin(settings: Settings) -> SignIn | None:
    """Read the client secret and the policy, and reach the provider once; None when off."""
    if settings.oidc_config_url is None:
        return None
    if settings.oidc_client_secret is not None:
        secret = settings.oidc_client_secret.get_secret_value().strip()
        source = "MCP_OIDC_CLIENT_SECRET"
    else:
        assert settings.oidc_client_secret_file is not None  # the settings check ensures one
        source = "MCP_OIDC_CLIENT_SECRET_FILE"
        try:
            secret = settings.oidc_client_secret_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise ConfigError(
                f"{source}: cannot read {settings.oidc_client_secret_file}: {reason}"
            ) from None
    if not secret:
        raise ConfigError(f"{source} is empty; paste the OAuth client's secret from the provider")
    assert settings.scope_policy_file is not None  # the settings check ensures it
    try:
        policy = load_policy(settings.scope_policy_file)
    except PolicyError as exc:
        raise ConfigError(f"MCP_SCOPE_POLICY_FILE: {exc}") from None
    try:
        # Cached by FastMCP, so the provider built later does not fetch it again.
        OIDCConfiguration.get_oidc_configuration(
            AnyHttpUrl(settings.oidc_config_url),
            strict=None,
            timeout_seconds=DISCOVERY_TIMEOUT_SECONDS,
        )
    except Exception as exc:
        raise ConfigError(
            f"MCP_OIDC_CONFIG_URL: cannot read the provider's configuration from "
            f"{settings.oidc_config_url} ({type(exc).__name__}); it must be the provider's "
            "/.well-known/openid-configuration URL, reachable from the server"
        ) from None
    return SignIn(client_secret=secret, policy=policy)


def oauth_storage(url: str | None, signing_key: bytes, settings: Settings) -> AsyncKeyValue:
    """The proxy's state store: Redis when a URL is given, else this process's memory.

    Upstream tokens are kept there, so the store is encrypted with a key derived
    from the proxy's signing key (the same on every replica).
    """
    store: AsyncKeyValue
    if url is None:
        store = MemoryStore()
    else:
        from app.signin_store import redis_state_store  # password, CA, timeouts, 503s

        store = redis_state_store(settings, url)
    encryption_key = derive_jwt_key(
        high_entropy_material=signing_key.decode(), salt="mcp-oauth-storage-encryption"
    )
    return FernetEncryptionWrapper(
        key_value=store, fernet=Fernet(encryption_key), raise_on_decryption_error=False
    )


@dataclass(frozen=True)
class _Grant:
    identity: Identity
    scopes: list[str]


# The decision for the exchange in progress, read by the proxy's scope hooks below.
_current_grant: ContextVar[_Grant | None] = ContextVar("current_grant", default=None)


class PolicyOIDCProxy(CachedTokenChecks, ClientSecretFile):
    """FastMCP's OIDC proxy with the scope policy deciding what each token carries."""

    def __init__(
        self,
        *,
        policy: ScopePolicy,
        static_verifier: TokenVerifier,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._policy = policy
        self._static_verifier = static_verifier

    # -- the decision -------------------------------------------------------

    async def _identity_from(self, idp_tokens: dict[str, Any]) -> Identity:
        id_token = idp_tokens.get("id_token")
        verified = await self._token_validator.verify_token(id_token) if id_token else None
        if verified is None:
            raise TokenError("invalid_grant", "the identity provider sent no valid ID token")
        return Identity.from_claims(verified.claims, self._policy.groups_claim)

    def _decide(self, identity: Identity, requested: list[str]) -> _Grant:
        scopes = self._policy.grant(identity, requested)
        count_decision("allowed" if scopes else "denied", "signin_policy")
        log.info(
            "sign-in scopes granted",
            extra={
                "event": "signin",
                "subject": identity.email or identity.subject,
                "requested": sorted(requested),
                "scopes": scopes,
            },
        )
        return _Grant(identity=identity, scopes=scopes)

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> OAuthToken:
        code = await self._code_store.get(key=authorization_code.code)
        if code is None:  # the proxy answers invalid_grant
            return await super().exchange_authorization_code(client, authorization_code)
        grant = self._decide(
            await self._identity_from(code.idp_tokens), list(authorization_code.scopes)
        )
        token = _current_grant.set(grant)
        try:
            decided = authorization_code.model_copy(update={"scopes": grant.scopes})
            return await super().exchange_authorization_code(client, decided)
        finally:
            _current_grant.reset(token)

    async def exchange_refresh_token(
        self,
        client: OAuthClientInformationFull,
        refresh_token: RefreshToken,
        scopes: list[str],
    ) -> OAuthToken:
        try:
            payload = self.jwt_issuer.verify_token(
                refresh_token.token,
                expected_token_use="refresh",  # noqa: S106 (a label)
            )
        except Exception:  # the proxy answers invalid_grant
            return await super().exchange_refresh_token(client, refresh_token, scopes)
        claims = payload.get("upstream_claims") or {}
        # Asked again on refresh, so a policy change reaches signed-in clients.
        grant = self._decide(Identity.from_claims(claims, "groups"), scopes)
        token = _current_grant.set(grant)
        try:
            return await super().exchange_refresh_token(client, refresh_token, grant.scopes)
        finally:
            _current_grant.reset(token)

    # -- the proxy's hooks ----------------------------------------------------

    def _translate_scopes_from_idp(self, scopes: list[str]) -> list[str]:
        # The upstream echoes its own scopes (openid email ...), never ours.
        grant = _current_grant.get()
        return list(grant.scopes) if grant is not None else []

    def _prepare_scopes_for_upstream_refresh(self, scopes: list[str]) -> list[str]:
        # Our scopes mean nothing upstream: refresh its original grant unchanged.
        return []

    async def _extract_upstream_claims(self, idp_tokens: dict[str, Any]) -> dict[str, Any] | None:
        # The identity rides in the issued tokens so that a refresh can re-check it.
        grant = _current_grant.get()
        return grant.identity.as_claims() if grant is not None else None

    # -- tokens on requests -------------------------------------------------

    async def load_access_token(self, token: str) -> AccessToken | None:
        if not self._is_ours(token):
            return await self._static_verifier.verify_token(token)
        loaded = await super().load_access_token(token)
        access = AccessToken.model_validate(loaded.model_dump()) if loaded is not None else None
        if access is None:
            count_decision("denied", "signin_token_invalid")
            log.warning(
                "token rejected", extra={"event": "authentication", "reason": "signin_token"}
            )
            return None
        count_decision("authenticated", "valid_token")
        identity = (access.claims or {}).get("upstream_claims") or {}
        # Logs and the rate limit key on the subject: the person, not the IdP's opaque id.
        return access.model_copy(update={"subject": identity.get("email") or access.subject})

    def _is_ours(self, token: str) -> bool:
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            return False
        return bool(issuer) and str(issuer).rstrip("/") == str(self.jwt_issuer.issuer).rstrip("/")


def build_signin_provider(config: Config, static_verifier: TokenVerifier) -> PolicyOIDCProxy:
    settings = config.settings
    signin = config.signin
    if signin is None or not settings.oidc_config_url or not settings.oidc_client_id:
        raise ConfigError("sign-in mode needs MCP_OIDC_CONFIG_URL and MCP_OIDC_CLIENT_ID")
    # The proxy's own signing key, derived from the client secret as FastMCP does,
    # so every replica (same secret) issues and accepts the same tokens.
    signing_key = derive_jwt_key(
        high_entropy_material=signin.client_secret, salt="fastmcp-jwt-signing-key"
    )
    storage_url = settings.oauth_storage_url
    extra: dict[str, str] = {"scope": UPSTREAM_SCOPES}
    if GOOGLE_ISSUER_HOST in settings.oidc_config_url:
        extra |= {"access_type": "offline", "prompt": "consent"}
    return PolicyOIDCProxy(
        policy=signin.policy,
        static_verifier=static_verifier,
        config_url=settings.oidc_config_url,
        client_id=settings.oidc_client_id,
        client_secret=signin.client_secret,
        timeout_seconds=DISCOVERY_TIMEOUT_SECONDS,
        # Google's access tokens are opaque: its ID token (a JWT) proves who signed in.
        verify_id_token=True,
        base_url=settings.base_url,
        valid_scopes=list(ALL_SCOPES),
        client_storage=oauth_storage(
            storage_url.get_secret_value() if storage_url else None, signing_key, settings
        ),
        jwt_signing_key=signing_key,
        extra_authorize_params=extra,
        client_secret_file=settings.oidc_client_secret_file,
    )
