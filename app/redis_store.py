"""Connections to Redis (or Memorystore): one way to open them for both stores.

The sign-in state (MCP_OAUTH_STORAGE_URL) and the shared limits
(MCP_RATE_LIMIT_STORAGE_URL) take the same options:

- the AUTH string from MCP_REDIS_PASSWORD_FILE, read again whenever a
  connection opens, so a rotated Memorystore AUTH string reaches a running pod;
  never from the URL (the settings refuse a password there);
- for `rediss://`, the server's certificate checked against MCP_REDIS_CA_FILE
  (Memorystore's server CA is not in any system bundle), host name included;
- short socket timeouts and one retry without back-off: when the store is
  away, a request learns it within about two seconds instead of redis-py's
  default of three retries with up to ten seconds of back-off each.

What each store does when Redis cannot be reached is its own policy: sign-in
answers 503 (app/signin_store.py), the limits fail open (app/shared_limits.py).
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.credentials import CredentialProvider

from app.errors import ConfigError

if TYPE_CHECKING:
    from app.config import Settings

log = logging.getLogger("app.redis_store")

CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 1.0
# One retry on a fresh connection: after Redis restarts, the pooled connections
# are dead and the first command on each fails once.
RETRIES = 1


class PasswordFile(CredentialProvider):
    """The AUTH string from a mounted file, read each time a connection opens."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get_credentials(self) -> tuple[str]:
        return (_read_password(self.path),)

    async def get_credentials_async(self) -> tuple[str]:
        return self.get_credentials()  # a small local file: not worth a thread


def _read_password(path: Path) -> str:
    try:
        password = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"MCP_REDIS_PASSWORD_FILE: cannot read {path}: {reason}") from None
    if not password:
        raise ConfigError(
            f"MCP_REDIS_PASSWORD_FILE: {path} is empty; it holds the Redis AUTH string"
        )
    return password


def check_files(settings: Settings) -> None:
    """Fail at start, naming the setting, when the password or CA file is unusable."""
    if settings.redis_password_file is not None:
        _read_password(settings.redis_password_file)
    if settings.redis_ca_file is not None:
        try:
            ssl.create_default_context(cafile=str(settings.redis_ca_file))
        except (OSError, ssl.SSLError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a PEM CA"
            raise ConfigError(
                f"MCP_REDIS_CA_FILE: cannot use {settings.redis_ca_file}: {reason}; it must "
                "hold the PEM certificate(s) of the CA that signed the server's certificate"
            ) from None


def client_options(settings: Settings, url: str) -> dict[str, Any]:
    """Keyword arguments for redis-py's `from_url`, the same for both stores."""
    options: dict[str, Any] = {
        "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "socket_timeout": READ_TIMEOUT_SECONDS,
        "retry": redis.asyncio.retry.Retry(NoBackoff(), RETRIES),
    }
    if settings.redis_password_file is not None:
        options["credential_provider"] = PasswordFile(settings.redis_password_file)
    if urlsplit(url).scheme == "rediss" and settings.redis_ca_file is not None:
        options["ssl_ca_certs"] = str(settings.redis_ca_file)
    return options


def async_client(settings: Settings, url: str, **extra: Any) -> redis.asyncio.Redis:
    return redis.asyncio.Redis.from_url(url, **client_options(settings, url), **extra)


def describe(url: str) -> str:
    """The URL without anything secret in it, for log lines."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}{parts.path}"


def warn_if_unreachable(settings: Settings, setting: str, url: str) -> bool:
    """Ping the store once at start; log a WARNING naming the setting if it does not answer.

    Not fatal: static tokens work without Redis, and a store that comes up
    after the server is used as soon as it answers.
    """
    options = client_options(settings, url)
    options["retry"] = redis.retry.Retry(NoBackoff(), 0)
    client = redis.Redis.from_url(url, **options)
    try:
        client.ping()
    except Exception as exc:  # any failure here is what the warning is about
        log.warning(
            "Redis store unreachable at start",
            extra={
                "event": "redis",
                "setting": setting,
                "store": describe(url),
                "reason": f"{type(exc).__name__}: {exc}",
            },
        )
        return False
    finally:
        client.close()
    return True
