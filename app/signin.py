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

import base64
import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import jwt
from fastmcp.server.auth import AccessToken, TokenVerifier
from fastmcp.server.auth.jwt_issuer import derive_jwt_key
from fastmcp.utilities.ui import FASTMCP_LOGO_URL
from key_value.aio.protocols import AsyncKeyValue
from key_value.aio.stores.memory import MemoryStore
from mcp.server.auth.provider import AuthorizationCode, RefreshToken, TokenError
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from app.auth import refuse
from app.catalog import ALL_SCOPES
from app.challenges import POLICY_ALLOWS_CLAIM
from app.config import DISCOVERY_TIMEOUT_SECONDS, ConfigError, Settings
from app.fastmcp_adapter import route_at, wrap_route
from app.key_files import Denylist, is_revoked
from app.logs import SampledLog
from app.metrics import count_decision
from app.policy import Identity, ScopePolicy
from app.sealed_store import SealedStore
from app.signin_cache import CheckedToken, CheckedTokens, valid_until
from app.signin_pages import (
    LOGO,
    RegistrationLimit,
    client_redirect,
    consent_extras,
    refusal_page,
    registration_limiter,
)
from app.signin_secret import ClientSecretFile

if TYPE_CHECKING:
    from app.config import Config
    from app.shared_limits import Limiter

log = logging.getLogger("app.signin")

# What the server asks the upstream for: who the person is, nothing of theirs.
UPSTREAM_SCOPES = "openid email profile"
# Google issues a refresh token only when asked for offline access, and asks
# for consent again only with prompt=consent; other providers ignore neither.
GOOGLE_ISSUER_HOST = "accounts.google.com"


def oauth_storage(url: str | None, signing_key: bytes, settings: Settings) -> AsyncKeyValue:
    """The proxy's state store: Redis when a URL is given, else this process's memory.

    Upstream tokens are kept there, so the store is encrypted with a key derived
    from the proxy's signing key (the same on every replica), and each value is
    sealed to the key it is stored under (app/sealed_store.py).
    """
    store: AsyncKeyValue
    if url is None:
        store = MemoryStore()
    else:
        from app.signin_store import redis_state_store  # password, CA, timeouts, 503s

        store = redis_state_store(settings, url)
    encryption_key = derive_jwt_key(
        high_entropy_material=signing_key.decode(), salt="mcp-oauth-storage-sealing"
    )
    return SealedStore(store, base64.urlsafe_b64decode(encryption_key))


@dataclass(frozen=True)
class _Grant:
    identity: Identity
    scopes: list[str]


# The decision for the exchange in progress, read by the proxy's scope hooks below.
_current_grant: ContextVar[_Grant | None] = ContextVar("current_grant", default=None)


def _log_issued(identity: Identity, issued: OAuthToken) -> None:
    """Name the ids of the tokens just issued: what an operator puts on the deny-list."""

    def token_id(token: str | None) -> str | None:
        if not token:
            return None
        return str(jwt.decode(token, options={"verify_signature": False}).get("jti"))

    log.info(
        "sign-in token issued",
        extra={
            "event": "signin",
            "subject": identity.principal,
            "jti": token_id(issued.access_token),
            "refresh_jti": token_id(issued.refresh_token),
        },
    )


class PolicyOIDCProxy(ClientSecretFile):
    """FastMCP's OIDC proxy with the scope policy deciding what each token carries."""

    def __init__(
        self,
        *,
        policy: ScopePolicy,
        static_verifier: TokenVerifier,
        denylist: Denylist | None = None,
        registration_limiter: Limiter | None = None,
        unused_client_ttl_seconds: int | None = None,
        store_in_redis: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._store_in_redis = store_in_redis
        self._policy = policy
        self._static_verifier = static_verifier
        self._denylist = denylist or Denylist(None)
        self._registration_limiter = registration_limiter
        self._unused_client_ttl = unused_client_ttl_seconds
        # PyJWT checks our own tokens first, to tell an expired one from a forged one.
        self._own_key: bytes = kwargs["jwt_signing_key"]
        self._checked = CheckedTokens()
        self._rejections = SampledLog(log, "token rejected", "authentication")

    # -- the decision -------------------------------------------------------

    async def _identity_from(self, idp_tokens: dict[str, Any]) -> Identity:
        id_token = idp_tokens.get("id_token")
        verified = await self.verify_upstream_id_token(id_token) if id_token else None
        if verified is None:
            raise TokenError("invalid_grant", "the identity provider sent no valid ID token")
        return Identity.from_claims(verified.claims, self._policy.groups_claim)

    async def _scopes_for(self, identity: Identity, requested: list[str]) -> tuple[list[str], bool]:
        """What the policy grants (nothing to a revoked person), and whether they are revoked."""
        denied = is_revoked(None, identity.principal, await self._denylist.current())
        return ([] if denied else self._policy.grant(identity, requested)), denied

    async def _decide(self, identity: Identity, requested: list[str]) -> _Grant:
        """The decision of record for an issued token: counted and logged once per token."""
        scopes, denied = await self._scopes_for(identity, requested)
        count_decision("allowed" if scopes else "denied", "signin_policy")
        log.info(
            "sign-in scopes granted",
            extra={
                "event": "signin",
                "subject": identity.principal,
                # The address only when the provider vouches for it: else it proves nothing.
                "email": identity.verified_email,
                "requested": sorted(requested),
                "scopes": scopes,
                "revoked": denied,
            },
        )
        return _Grant(identity=identity, scopes=scopes)

    @staticmethod
    def _refusal(identity: Identity, requested: list[str]) -> str:
        account = identity.verified_email or identity.principal
        if requested:
            return (
                f"this server's scope policy grants the account {account} none of the "
                f"scopes asked for ({' '.join(sorted(requested))})"
            )
        return f"this server's scope policy does not list the account {account}"

    async def after_idp_callback(self, request: Request, response: Response) -> Response:
        # The provider's answer is where we first know who signed in: a person the
        # policy grants nothing is told so here, instead of being issued an empty token.
        location = response.headers.get("location") if response.status_code == 302 else None
        query = parse_qs(urlsplit(location).query) if location else {}
        if "code" not in query:
            return response
        code = await self.stored_code(query["code"][0])
        if code is None:
            return response
        try:
            identity = await self._identity_from(code.idp_tokens)
        except TokenError:
            return response  # the code exchange refuses it with invalid_grant
        scopes, _ = await self._scopes_for(identity, list(code.scopes))
        if scopes:
            return response  # decided, counted and logged at the code exchange
        await self._decide(identity, list(code.scopes))  # the refusal, on the record
        await self.forget_code(code.code)
        description = self._refusal(identity, list(code.scopes))
        params = {"error": "access_denied", "error_description": description}
        if "state" in query:
            params["state"] = query["state"][0]
        if "iss" in query:
            params["iss"] = query["iss"][0]
        account = identity.email or identity.principal
        if identity.email and not identity.email_verified:
            account += " (an address the identity provider has not verified)"
        return refusal_page(account, description, client_redirect(code.redirect_uri, params))

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> OAuthToken:
        code = await self.stored_code(authorization_code.code)
        if code is None:  # the proxy answers invalid_grant
            return await super().exchange_authorization_code(client, authorization_code)
        identity = await self._identity_from(code.idp_tokens)
        grant = await self._decide(identity, list(authorization_code.scopes))
        if not grant.scopes:
            raise TokenError("invalid_grant", self._refusal(identity, authorization_code.scopes))
        token = _current_grant.set(grant)
        try:
            decided = authorization_code.model_copy(update={"scopes": grant.scopes})
            issued = await super().exchange_authorization_code(client, decided)
        finally:
            _current_grant.reset(token)
        await self._keep_client(client)
        _log_issued(identity, issued)
        return issued

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
        if is_revoked(payload.get("jti"), None, await self._denylist.current()):
            raise TokenError("invalid_grant", "the refresh token was revoked; sign in again")
        # Asked again on refresh, so a policy change (or a revoked person) reaches
        # signed-in clients.
        identity = Identity.from_claims(claims, "groups")
        grant = await self._decide(identity, scopes)
        if not grant.scopes:
            raise TokenError("invalid_grant", self._refusal(identity, scopes))
        token = _current_grant.set(grant)
        try:
            issued = await super().exchange_refresh_token(client, refresh_token, grant.scopes)
        finally:
            _current_grant.reset(token)
        _log_issued(identity, issued)
        return issued

    # -- registered clients -------------------------------------------------

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        await super().register_client(client_info)
        if self._unused_client_ttl is None or client_info.client_id is None:
            return
        # Anyone may register; a client that never completes a sign-in expires.
        await self.keep_client_for(client_info.client_id, self._unused_client_ttl)

    async def _keep_client(self, client: OAuthClientInformationFull) -> None:
        """A client someone signed in with is kept (no expiry), as FastMCP keeps any."""
        if self._unused_client_ttl is None or client.client_id is None:
            return
        await self.keep_client_for(client.client_id, None)

    def get_routes(self, mcp_path: str | None = None) -> list[Route]:
        routes = super().get_routes(mcp_path)
        limiter = self._registration_limiter
        wrap_route(route_at(routes, "/register"), lambda app: RegistrationLimit(app, limiter))
        return routes

    def get_middleware(self) -> list[Middleware]:
        middleware: list[Middleware] = super().get_middleware()
        if not self._store_in_redis:
            return middleware
        from app.signin_store import StoreUnavailableAs503  # imports the Redis client

        # Ahead of the bearer authentication, which loads sign-in tokens from the store.
        return [Middleware(StoreUnavailableAs503), *middleware]

    async def after_consent_page(self, request: Request, response: Response) -> Response:
        if not isinstance(response, HTMLResponse) or response.status_code != 200:
            return response
        scopes = await self.requested_scopes(request.query_params.get("txn_id"))
        page = bytes(response.body).decode()
        page = page.replace(FASTMCP_LOGO_URL, LOGO)
        page = page.replace(
            '<div class="redirect-section">',
            consent_extras(scopes) + '<div class="redirect-section">',
            1,
        )
        response.body = page.encode()
        response.headers["content-length"] = str(len(response.body))
        return response

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
        checked = self._checked.get(token)
        if checked is None:
            if not self._is_ours(token):
                return await self._static_verifier.verify_token(token)
            checked = await self._check_own(token)
            if checked is None:
                return None
            self._checked.keep(token, checked)
        # The one thing that can change before the answer expires: asked every call.
        if is_revoked(checked.jti, checked.principal, await self._denylist.current()):
            self._refuse("revoked")
            return None
        count_decision("authenticated", "valid_token")
        return checked.access

    async def _check_own(self, token: str) -> CheckedToken | None:
        """One of our own tokens, checked in full (app/signin_cache.py keeps the answer)."""
        try:
            claims = jwt.decode(
                token,
                self._own_key,
                algorithms=["HS256"],
                audience=self.jwt_issuer.audience,
                issuer=self.jwt_issuer.issuer,
                options={"require": ["exp", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            # PyJWT checks exp only after the signature, so this exp is authentic.
            exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
            self._refuse("expired", exp if isinstance(exp, int) else None)
            return None
        except jwt.PyJWTError:
            self._refuse("bad_signature")
            return None
        identity = Identity.from_claims(claims.get("upstream_claims") or {}, "groups")
        if is_revoked(claims.get("jti"), identity.principal, await self._denylist.current()):
            self._refuse("revoked")
            return None
        loaded = await super().load_access_token(token)
        if loaded is None:
            # Why: the mapping behind the token is gone (or was not written under
            # this token's id: app/sealed_store.py), or the provider said no.
            try:
                known = await self.knows_token_id(str(claims["jti"]))
            except Exception:  # the store itself is out of reach (Redis down)
                self._refuse("signin_state_unavailable")
                return None
            self._refuse("signin_upstream_refused" if known else "signin_unknown")
            return None
        access = AccessToken.model_validate(loaded.model_dump())
        # What the policy would ever give this person: the 403 tells a scope the
        # client could ask for from one no sign-in will bring (app/scope_gate.py).
        allowed = sorted(self._policy.allowed(identity))
        # The stored grant may narrow the token's own signed scopes, never widen them.
        signed = str(claims.get("scope") or "").split(" ")
        # Logs and the rate limit key on the provider's stable id, issuer-qualified.
        answer = access.model_copy(
            update={
                "subject": identity.principal,
                "scopes": [s for s in access.scopes if s in signed],
                "claims": {**(access.claims or {}), POLICY_ALLOWS_CLAIM: allowed},
            }
        )
        until = valid_until(claims["exp"], loaded.expires_at)
        return CheckedToken(answer, str(claims["jti"]), identity.principal, until)

    def _refuse(self, reason: str, expired_at: int | None = None) -> None:
        refuse(self._rejections, reason, expired_at, signin=True)
        return None

    def _is_ours(self, token: str) -> bool:
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            return False
        return bool(issuer) and str(issuer).rstrip("/") == str(self.jwt_issuer.issuer).rstrip("/")


def upstream_authorize_params(config_url: str) -> dict[str, str]:
    """What the sign-in asks the provider for; Google's extras only when the host is Google's."""
    params = {"scope": UPSTREAM_SCOPES}
    # The host exactly: "accounts.google.com" inside a path or as a prefix of
    # another domain is someone else's provider.
    if urlsplit(config_url).hostname == GOOGLE_ISSUER_HOST:
        params |= {"access_type": "offline", "prompt": "consent"}
    return params


def build_signin_provider(
    config: Config, static_verifier: TokenVerifier, registrations: Limiter | None
) -> PolicyOIDCProxy:
    """The OAuth proxy; `registrations` counts the registration limit in Redis (None: here)."""
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
    return PolicyOIDCProxy(
        policy=signin.policy,
        static_verifier=static_verifier,
        denylist=config.denylist,
        registration_limiter=registration_limiter(
            settings.oauth_registrations_per_minute, registrations
        ),
        store_in_redis=storage_url is not None,
        unused_client_ttl_seconds=settings.oauth_unused_client_ttl_seconds,
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
        extra_authorize_params=upstream_authorize_params(settings.oidc_config_url),
        client_secret_file=settings.oidc_client_secret_file,
    )
