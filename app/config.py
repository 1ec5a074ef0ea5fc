"""Server configuration from MCP_* environment variables, checked before anything starts.

`load()` returns a `Config` with the keys and documents already read, or raises
`ConfigError` whose message names each bad setting and how to fix it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from ipaddress import ip_network
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.catalog import DOCUMENTS
from app.errors import ConfigError as ConfigError  # raised here; importable from here
from app.key_files import Denylist, KeyRing, check_key, parse_denylist
from app.tokens import DEFAULT_AUDIENCE, DEFAULT_ISSUER, MAX_EXPIRES_IN

if TYPE_CHECKING:
    from app.policy import ScopePolicy

BUNDLED_DOCUMENTS = Path(__file__).parent / "documents"
DISCOVERY_TIMEOUT_SECONDS = 10  # sign-in mode: the provider's configuration, read at start
KEY_HINT = "generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"{value!r} is not an http(s) URL such as https://mcp.example.com")
    return value.rstrip("/")


def _check_network(value: str) -> str:
    # Addresses and CIDRs only: uvicorn would take a host name or `*` too, and
    # `*` lets any client name any address, defeating the per-address limit.
    # Strict, as uvicorn parses them: it keeps a CIDR with host bits set
    # (10.0.0.1/8) as a name no client address ever equals, trusting nobody.
    try:
        ip_network(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address or CIDR such as 130.211.0.0/22") from None
    return value


def _check_redis_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        # The value itself is not echoed: it may hold a password.
        raise ValueError("must be a redis:// or rediss:// URL such as rediss://10.0.0.3:6378/0")
    # Refused rather than warned: the URL is a plain value (chart values, git),
    # the password belongs in a mounted file.
    if parts.password:
        raise ValueError(
            "holds a password; put it in a file named by MCP_REDIS_PASSWORD_FILE "
            "and leave it out of the URL"
        )
    return value


class Settings(BaseSettings):
    """Every MCP_* variable the server reads; the names are part of the project's contract."""

    model_config = SettingsConfigDict(env_prefix="MCP_", extra="ignore", frozen=True)

    # Each field's description is the one documentation of the setting: the
    # reference page's table (docs/reference.md) and .env.example are generated
    # from the fields (scripts/settings_table.py, scripts/env_example.py), which
    # is where .env.example's placeholder for an unset setting comes from: `examples`.
    host: str = Field(default="127.0.0.1", description="bind address (the image sets `0.0.0.0`)")
    port: int = Field(default=8080, ge=1, le=65535, description="bind port")
    public_url: str | None = Field(
        default=None,
        examples=["https://mcp.example.com"],
        description="base URL clients use, for RFC 9728 metadata; default `http://{host}:{port}`",
    )
    authorization_server: str | None = Field(
        default=None,
        examples=["https://issuer.example.com"],
        description="authorization server named in the metadata; default: the issuer "
        "if it is a URL, else none (shared-key tokens come from `make token`)",
    )

    jwt_secret_key: SecretStr | None = Field(
        default=None, description="HS256 signing key, at least 32 bytes (or `_FILE`)"
    )
    jwt_secret_file: Path | None = Field(
        default=None,
        examples=[".dev/jwt-secret"],
        description="file holding the signing key; re-read when it changes",
    )
    jwt_previous_secret_key: SecretStr | None = Field(
        default=None, description="a second key still accepted, during a rotation"
    )
    jwt_previous_secret_file: Path | None = Field(
        default=None,
        description="file of the previous key; may appear and vanish while the server runs",
    )
    jwt_denylist_file: Path | None = Field(
        default=None,
        examples=["/etc/mcp/denylist/revoked-token-ids"],
        description="revoked token ids (`jti`), one per line, `#` comments; a line "
        "`sub:<subject>` revokes every token of that subject; re-read when it changes",
    )
    jwt_jwks_url: str | None = Field(
        default=None,
        examples=["https://issuer.example.com/.well-known/jwks.json"],
        description="also accept RS256/ES256 tokens of an OIDC issuer by its JWKS",
    )
    jwt_issuer: str = Field(default=DEFAULT_ISSUER, min_length=1, description="expected `iss`")
    jwt_audience: str = Field(default=DEFAULT_AUDIENCE, min_length=1, description="expected `aud`")
    jwt_leeway_seconds: int = Field(
        default=30,
        ge=0,
        le=300,
        description="clock skew tolerated on `exp`/`nbf`/`iat`; the verifier's decision "
        "is the outcome",
    )
    jwt_max_token_lifetime_seconds: int = Field(
        default=MAX_EXPIRES_IN,
        ge=60,
        le=MAX_EXPIRES_IN,
        description="tokens whose `exp` lies further ahead are refused, whoever signed them",
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="`DEBUG`, `INFO`, `WARNING` or `ERROR`"
    )
    log_format: Literal["json", "console"] = Field(
        default="json", description="`json` (one object per line, for Cloud Logging) or `console`"
    )
    gcp_project_id: str | None = Field(
        default=None,
        examples=["my-project-id"],
        pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$",
        description="with it, JSON request lines link a `traceparent` to Cloud Trace",
    )

    documents_dir: Path | None = Field(
        default=None,
        examples=["/etc/mcp/documents"],
        description="folder holding `public.md` and `confidential.md`; default: bundled",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default=["http://localhost", "http://127.0.0.1", "http://[::1]"],
        description="browser origins allowed on `/mcp`, comma-separated (no port = any "
        "port); requests without `Origin` are not browsers and pass",
    )
    rate_limit_per_minute: int = Field(
        default=120,
        ge=0,
        description="requests per subject per minute (per replica unless "
        "`MCP_RATE_LIMIT_STORAGE_URL` is set); `0` = off",
    )
    auth_failure_limit_per_minute: int = Field(
        default=30,
        ge=0,
        description="refused tokens per client address per minute before it gets 429; `0` = off",
    )
    rate_limit_storage_url: str | None = Field(
        default=None,
        examples=["redis://127.0.0.1:6379/0"],
        description="`redis://` or `rediss://` URL where both limits above (and sign-in's "
        "registration limit) are counted, shared by every replica; unset = in memory, per "
        "process; unreachable = served without the limits (fail open)",
    )
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default=[],
        examples=[["130.211.0.0/22", "35.191.0.0/16", "203.0.113.10"]],
        description="proxies trusted to name the client in `X-Forwarded-For` (addresses or "
        "CIDRs, comma-separated, as uvicorn's `forwarded_allow_ips`); default none",
    )
    redis_password_file: Path | None = Field(
        default=None,
        examples=["/var/run/secrets/mcp-redis/auth"],
        description="file holding the Redis AUTH string for both Redis URLs (never a "
        "password in a URL); re-read when a connection opens",
    )
    redis_ca_file: Path | None = Field(
        default=None,
        examples=["/var/run/secrets/mcp-redis/ca.pem"],
        description="PEM CA that signs the `rediss://` server's certificate (Memorystore's "
        "server CA); unset = the system's CA bundle",
    )
    shutdown_drain_seconds: float = Field(
        default=0.0,
        ge=0,
        le=120,
        description="how long `/ready` answers 503 before the listener closes (the chart sets 5)",
    )
    shutdown_timeout_seconds: float = Field(
        default=15.0, gt=0, le=300, description="longest wait for in-flight requests"
    )
    request_body_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=120,
        description="longest wait for the next part of a request body before 408 "
        "(the whole body: six times this)",
    )

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _normalise_case(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        return value.upper() if value.lower() in {"debug", "info", "warning", "error"} else value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _origins_from_csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("forwarded_allow_ips", mode="before")
    @classmethod
    def _proxies_from_csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies_are_addresses(cls, value: list[str]) -> list[str]:
        return [_check_network(item) for item in value]

    @field_validator("rate_limit_storage_url")
    @classmethod
    def _limit_store_url(cls, value: str | None) -> str | None:
        return None if value is None else _check_redis_url(value)

    @field_validator("allowed_origins")
    @classmethod
    def _origins_are_urls(cls, value: list[str]) -> list[str]:
        return [_check_url(origin) for origin in value]

    @field_validator("public_url", "authorization_server", "jwt_jwks_url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return None if value is None else _check_url(value)

    @model_validator(mode="after")
    def _one_source_per_key(self) -> Settings:
        for name in ("jwt_secret", "jwt_previous_secret"):
            if getattr(self, f"{name}_key") and getattr(self, f"{name}_file"):
                upper = f"MCP_{name.upper()}"
                raise ValueError(f"set only one of {upper}_KEY and {upper}_FILE")
        return self

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return self.public_url or f"http://{host}:{self.port}"

    # Sign-in mode (tutorial phase 10), off unless MCP_OIDC_CONFIG_URL is set: the
    # server becomes an OAuth authorization server for MCP clients, backed by this
    # upstream OpenID Connect provider (see app/signin.py).
    oidc_config_url: str | None = Field(
        default=None,
        examples=["https://accounts.google.com/.well-known/openid-configuration"],
        description="sign-in mode: the provider's `/.well-known/openid-configuration` URL",
    )
    oidc_client_id: str | None = Field(
        default=None,
        examples=["1234567890-abc.apps.googleusercontent.com"],
        description="sign-in mode: this server's OAuth client id at the provider",
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="sign-in mode: the OAuth client's secret (or `_FILE`)"
    )
    oidc_client_secret_file: Path | None = Field(
        default=None,
        examples=["/var/run/secrets/mcp-oauth/client-secret"],
        description="sign-in mode: file holding the OAuth client's secret",
    )
    scope_policy_file: Path | None = Field(
        default=None,
        examples=["/etc/mcp/policy/policy.yaml"],
        description="sign-in mode: which identities get which scopes (YAML or JSON; default deny)",
    )
    # A URL may carry a password (redis://:password@host), so it is kept secret too.
    oauth_storage_url: SecretStr | None = Field(
        default=None,
        examples=["redis://127.0.0.1:6379/0"],
        description="sign-in mode: `redis://` or `rediss://` URL for the OAuth state shared "
        "by replicas; in memory when unset; unreachable = sign-in answers 503",
    )
    oauth_registrations_per_minute: int = Field(
        default=10,
        ge=0,
        description="sign-in mode: OAuth clients one address may register per minute before "
        "it gets 429 (per replica unless `MCP_RATE_LIMIT_STORAGE_URL` is set); `0` = off",
    )
    oauth_unused_client_ttl_seconds: int = Field(
        default=3600,
        ge=1,
        description="sign-in mode: a registered client nobody signs in with is forgotten "
        "after this long",
    )

    @model_validator(mode="after")
    def _signin_complete(self) -> Settings:
        if self.oidc_config_url is None:
            stray = [
                f"MCP_{name.upper()}"
                for name in ("oidc_client_id", "oidc_client_secret", "oidc_client_secret_file")
                if getattr(self, name) is not None
            ]
            if stray:
                raise ValueError(
                    f"{', '.join(stray)} set without MCP_OIDC_CONFIG_URL; set it to the "
                    "provider's /.well-known/openid-configuration URL, or unset them"
                )
            return self
        try:
            _check_url(self.oidc_config_url)
        except ValueError as exc:
            raise ValueError(f"MCP_OIDC_CONFIG_URL: {exc}") from None
        if not self.oidc_client_id:
            raise ValueError(
                "sign-in mode (MCP_OIDC_CONFIG_URL) needs MCP_OIDC_CLIENT_ID, the client id "
                "of this server's OAuth client at the provider"
            )
        if (self.oidc_client_secret is None) == (self.oidc_client_secret_file is None):
            raise ValueError(
                "sign-in mode needs exactly one of MCP_OIDC_CLIENT_SECRET and "
                "MCP_OIDC_CLIENT_SECRET_FILE (the OAuth client's secret)"
            )
        if self.scope_policy_file is None:
            raise ValueError(
                "sign-in mode needs MCP_SCOPE_POLICY_FILE, the file saying which identities "
                "get which scopes (nobody gets any without it)"
            )
        if self.oauth_storage_url is not None:
            try:
                _check_redis_url(self.oauth_storage_url.get_secret_value())
            except ValueError as exc:
                raise ValueError(f"MCP_OAUTH_STORAGE_URL {exc}") from None
        return self

    @model_validator(mode="after")
    def _redis_files_have_a_store(self) -> Settings:
        for name in ("redis_password_file", "redis_ca_file"):
            if getattr(self, name) is not None and not self.redis_urls:
                raise ValueError(
                    f"MCP_{name.upper()} is set but no Redis store is: set "
                    "MCP_RATE_LIMIT_STORAGE_URL or MCP_OAUTH_STORAGE_URL, or unset it"
                )
        if self.redis_ca_file is not None:
            plain = [name for name, url in self.redis_urls.items() if url.startswith("redis:")]
            if plain:
                raise ValueError(
                    f"MCP_REDIS_CA_FILE is set but {', '.join(plain)} uses redis:// (no TLS); "
                    "use rediss:// so the CA is used"
                )
        return self

    @property
    def redis_urls(self) -> dict[str, str]:
        """The Redis URLs in use, by setting name."""
        urls = {
            "MCP_OAUTH_STORAGE_URL": self.oauth_storage_url.get_secret_value()
            if self.oauth_storage_url is not None and self.oidc_config_url is not None
            else None,
            "MCP_RATE_LIMIT_STORAGE_URL": self.rate_limit_storage_url,
        }
        return {name: url for name, url in urls.items() if url}


@dataclass(frozen=True)
class SignIn:
    """Sign-in mode's secret and policy, read and checked at start."""

    client_secret: str
    policy: ScopePolicy


def load_signin(settings: Settings) -> SignIn | None:
    """Read the client secret and the policy, and reach the provider once; None when off."""
    if settings.oidc_config_url is None:
        return None
    # Imported here: the OAuth proxy costs ~0.5 s of a start shared-key mode never uses.
    from fastmcp.server.auth.oidc_proxy import OIDCConfiguration

    from app.policy import PolicyError, load_policy

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
    # FastMCP logs a failed fetch with its whole traceback before it raises;
    # the one line below says all there is to say, so its logger is muted meanwhile.
    fastmcp_log = logging.getLogger(OIDCConfiguration.__module__)
    muted, fastmcp_log.disabled = fastmcp_log.disabled, True
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
    finally:
        fastmcp_log.disabled = muted
    return SignIn(client_secret=secret, policy=policy)


@dataclass(frozen=True)
class Config:
    """Settings plus what they point at, loaded once at start."""

    settings: Settings
    keys: KeyRing  # the HS256 keys, current first; follows their files
    documents: dict[str, str]  # file name (from DOCUMENTS) -> markdown
    denylist: Denylist  # revoked token ids (jti); follows its file
    signin: SignIn | None = None  # sign-in mode's secret and policy, when it is on


def _read_key(
    label: str, value: SecretStr | None, path: Path | None, *, may_be_absent: bool = False
) -> bytes | None:
    if value is not None:
        key = value.get_secret_value().strip().encode()
        source = f"{label}_KEY"
    elif path is not None:
        source = f"{label}_FILE"
        if may_be_absent and not path.exists():
            return None  # mounted later, when a rotation starts; the server watches for it
        try:
            key = path.read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read {path}: {exc.strerror}") from None
    else:
        return None
    try:
        return check_key(key)  # the same rule the live reload applies
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}; {KEY_HINT}") from None


def _read_denylist(path: Path | None) -> frozenset[str]:
    if path is None:
        return frozenset()
    try:
        return parse_denylist(path.read_bytes())
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(
            f"MCP_JWT_DENYLIST_FILE: cannot read {path}: {reason}; "
            "it holds one token id (jti) per line"
        ) from None


def _read_documents(directory: Path | None) -> dict[str, str]:
    folder = directory or BUNDLED_DOCUMENTS
    documents: dict[str, str] = {}
    for name in DOCUMENTS:
        path = folder / name
        try:
            documents[name] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise ConfigError(
                f"MCP_DOCUMENTS_DIR: cannot read {path}: {reason}; "
                f"the folder must hold {' and '.join(DOCUMENTS)}"
            ) from None
    return documents


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        field = "_".join(str(part) for part in item["loc"] if isinstance(part, str))
        name = f"MCP_{field.upper()}" if field else "configuration"
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{name}: {message}")
    return "; ".join(lines)


def load() -> Config:
    """Read and check the configuration; raise ConfigError naming the setting on any problem."""
    try:
        settings = Settings()
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    current = _read_key("MCP_JWT_SECRET", settings.jwt_secret_key, settings.jwt_secret_file)
    previous = _read_key(
        "MCP_JWT_PREVIOUS_SECRET",
        settings.jwt_previous_secret_key,
        settings.jwt_previous_secret_file,
        may_be_absent=True,
    )
    if previous is not None and current is None:
        raise ConfigError("MCP_JWT_PREVIOUS_SECRET_KEY is set without MCP_JWT_SECRET_KEY/_FILE")
    if current is None and settings.jwt_jwks_url is None:
        raise ConfigError(
            "MCP_JWT_SECRET_KEY: no signing key; set MCP_JWT_SECRET_KEY or MCP_JWT_SECRET_FILE "
            f"(or MCP_JWT_JWKS_URL for an OIDC issuer); {KEY_HINT}"
        )
    keys = KeyRing(current, previous, settings.jwt_secret_file, settings.jwt_previous_secret_file)
    documents = _read_documents(settings.documents_dir)
    denylist = Denylist(settings.jwt_denylist_file, _read_denylist(settings.jwt_denylist_file))
    if settings.redis_urls:
        from app.redis_store import check_files  # imports the Redis client

        check_files(settings)
    signin = load_signin(settings)
    return Config(
        settings=settings, keys=keys, documents=documents, denylist=denylist, signin=signin
    )
