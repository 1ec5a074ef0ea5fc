"""Server configuration from MCP_* environment variables, checked before anything starts.

`load()` returns a `Config` with the keys and documents already read, or raises
`ConfigError` whose message names each bad setting and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.tokens import DEFAULT_AUDIENCE, DEFAULT_ISSUER, MIN_KEY_BYTES

if TYPE_CHECKING:
    from app.signin import SignIn

BUNDLED_DOCUMENTS = Path(__file__).parent / "documents"
DOCUMENTS = ("public.md", "confidential.md")
KEY_HINT = "generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


class ConfigError(Exception):
    """Misconfiguration; the message is safe to print (it never holds a secret)."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"{value!r} is not an http(s) URL such as https://mcp.example.com")
    return value.rstrip("/")


class Settings(BaseSettings):
    """Every MCP_* variable the server reads; the names are part of the project's contract."""

    model_config = SettingsConfigDict(env_prefix="MCP_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str | None = None
    authorization_server: str | None = None

    jwt_secret_key: SecretStr | None = None
    jwt_secret_file: Path | None = None
    jwt_previous_secret_key: SecretStr | None = None
    jwt_previous_secret_file: Path | None = None
    jwt_jwks_url: str | None = None
    jwt_issuer: str = Field(default=DEFAULT_ISSUER, min_length=1)
    jwt_audience: str = Field(default=DEFAULT_AUDIENCE, min_length=1)
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"

    documents_dir: Path | None = None
    # Browsers send Origin; anything else (CLIs, agents) does not and is not checked.
    allowed_origins: Annotated[list[str], NoDecode] = [
        "http://localhost",
        "http://127.0.0.1",
        "http://[::1]",
    ]
    rate_limit_per_minute: int = Field(default=120, ge=0)
    shutdown_drain_seconds: float = Field(default=0.0, ge=0, le=120)
    shutdown_timeout_seconds: float = Field(default=15.0, gt=0, le=300)

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
    oidc_config_url: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_client_secret_file: Path | None = None
    scope_policy_file: Path | None = None
    # A URL may carry a password (redis://:password@host), so it is kept secret too.
    oauth_storage_url: SecretStr | None = None

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
            scheme = urlsplit(self.oauth_storage_url.get_secret_value()).scheme
            if scheme not in {"redis", "rediss"}:
                raise ValueError(
                    "MCP_OAUTH_STORAGE_URL must be a redis:// or rediss:// URL "
                    "such as redis://10.0.0.3:6379/0"
                )
        return self


@dataclass(frozen=True)
class Config:
    """Settings plus what they point at, loaded once at start."""

    settings: Settings
    hs_keys: tuple[bytes, ...]  # current key first, then the previous one
    documents: dict[str, str]  # file name (from DOCUMENTS) -> markdown
    signin: SignIn | None = None  # sign-in mode's secret and policy, when it is on


def _read_key(label: str, value: SecretStr | None, path: Path | None) -> bytes | None:
    if value is not None:
        key = value.get_secret_value().strip().encode()
        source = f"{label}_KEY"
    elif path is not None:
        source = f"{label}_FILE"
        try:
            key = path.read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read {path}: {exc.strerror}") from None
    else:
        return None
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(
            f"{source}: the key is {len(key)} bytes, it must be at least "
            f"{MIN_KEY_BYTES}; {KEY_HINT}"
        )
    return key


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
    )
    if previous is not None and current is None:
        raise ConfigError("MCP_JWT_PREVIOUS_SECRET_KEY is set without MCP_JWT_SECRET_KEY/_FILE")
    if current is None and settings.jwt_jwks_url is None:
        raise ConfigError(
            "MCP_JWT_SECRET_KEY: no signing key; set MCP_JWT_SECRET_KEY or MCP_JWT_SECRET_FILE "
            f"(or MCP_JWT_JWKS_URL for an OIDC issuer); {KEY_HINT}"
        )
    keys = tuple(key for key in (current, previous) if key is not None)
    # Imported here: app.signin needs ConfigError from this module.
    from app.signin import load_signin

    return Config(
        settings=settings,
        hs_keys=keys,
        documents=_read_documents(settings.documents_dir),
        signin=load_signin(settings),
    )
