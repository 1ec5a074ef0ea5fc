"""Configuration from MCP_* variables: every bound at its edge, every refusal by its words."""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastmcp.server.auth.oidc_proxy import OIDCConfiguration

from app.catalog import DOCUMENTS
from app.config import BUNDLED_DOCUMENTS, KEY_HINT, Config, ConfigError, Settings, load
from tests.helpers import StubHandler, loopback_server
from tests.server_process import free_port

KEY = "k" * 32
PREVIOUS = "p" * 40


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the variables a test sets: none from the machine running the suite."""
    for name in list(os.environ):
        if name.startswith("MCP_"):
            monkeypatch.delenv(name)


def refusal(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load()
    return str(caught.value)


def loads(monkeypatch: pytest.MonkeyPatch, **env: str) -> Config:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load()


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_JWT_SECRET_KEY", KEY)
    config = load()
    settings = config.settings
    assert settings.rate_limit_per_minute == 120  # on unless switched off
    assert settings.auth_failure_limit_per_minute == 30
    assert settings.jwt_leeway_seconds == 30
    assert settings.jwt_max_token_lifetime_seconds == 7 * 24 * 3600
    assert settings.allowed_origins == ["http://localhost", "http://127.0.0.1", "http://[::1]"]
    assert config.keys.keys == (KEY.encode(),)
    assert config.denylist.ids() == frozenset()
    assert config.signin is None
    assert set(config.documents) == set(DOCUMENTS)
    assert config.documents["public.md"] == (BUNDLED_DOCUMENTS / "public.md").read_text()


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("MCP_JWT_LEEWAY_SECONDS", ["0", "300"], ["-1", "301"]),
        ("MCP_JWT_MAX_TOKEN_LIFETIME_SECONDS", ["60", "604800"], ["59", "604801"]),
        ("MCP_RATE_LIMIT_PER_MINUTE", ["0", "1"], ["-1"]),
        ("MCP_AUTH_FAILURE_LIMIT_PER_MINUTE", ["0"], ["-1"]),
        ("MCP_PORT", ["1", "65535"], ["0", "65536"]),
        ("MCP_SHUTDOWN_DRAIN_SECONDS", ["0", "120"], ["-0.1", "120.1"]),
        ("MCP_SHUTDOWN_TIMEOUT_SECONDS", ["0.1", "300"], ["0", "300.1"]),
        ("MCP_REQUEST_BODY_TIMEOUT_SECONDS", ["0.1", "120"], ["0", "120.1"]),
    ],
)
def test_numeric_bounds_at_their_edges(
    monkeypatch: pytest.MonkeyPatch, name: str, good: list[str], bad: list[str]
) -> None:
    monkeypatch.setenv("MCP_JWT_SECRET_KEY", KEY)
    field = name.removeprefix("MCP_").lower()
    for value in good:
        monkeypatch.setenv(name, value)
        assert float(getattr(load().settings, field)) == float(value)
    for value in bad:
        monkeypatch.setenv(name, value)
        with pytest.raises(ConfigError, match=rf"^{name}: "):
            load()


@pytest.mark.parametrize("length", [16, 31])
def test_short_keys_are_refused(monkeypatch: pytest.MonkeyPatch, length: int) -> None:
    message = refusal(monkeypatch, MCP_JWT_SECRET_KEY="k" * length)
    problem, fix = message.split("; generate one with: ")
    assert problem == f"MCP_JWT_SECRET_KEY: the key is {length} bytes, it must be at least 32"
    # The fix is a command that really makes a key this server accepts.
    command = shlex.split(fix)
    assert command[0] == "python3"
    made = subprocess.run(
        [sys.executable, *command[1:]], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert loads(monkeypatch, MCP_JWT_SECRET_KEY=made).keys.keys == (made.strip().encode(),)


def test_keys_are_stripped_before_counting(monkeypatch: pytest.MonkeyPatch) -> None:
    config = loads(monkeypatch, MCP_JWT_SECRET_KEY=f"  {KEY}\n")
    assert config.keys.keys == (KEY.encode(),)
    assert "31 bytes" in refusal(monkeypatch, MCP_JWT_SECRET_KEY=" " + "k" * 31 + " ")


def test_key_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text(KEY + "\n")
    config = loads(monkeypatch, MCP_JWT_SECRET_FILE=str(path))
    assert config.keys.keys == (KEY.encode(),)


def test_short_key_file_names_the_file_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "key"
    path.write_text("short\n")
    assert refusal(monkeypatch, MCP_JWT_SECRET_FILE=str(path)) == (
        f"MCP_JWT_SECRET_FILE: the key is 5 bytes, it must be at least 32; {KEY_HINT}"
    )


def test_unreadable_key_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    assert refusal(monkeypatch, MCP_JWT_SECRET_FILE=str(missing)) == (
        f"MCP_JWT_SECRET_FILE: cannot read {missing}: No such file or directory"
    )


@pytest.mark.parametrize("name", ["MCP_JWT_SECRET", "MCP_JWT_PREVIOUS_SECRET"])
def test_a_key_given_both_ways_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str
) -> None:
    path = tmp_path / "key"
    path.write_text(PREVIOUS)
    monkeypatch.setenv("MCP_JWT_SECRET_KEY", KEY)
    assert refusal(monkeypatch, **{f"{name}_KEY": PREVIOUS, f"{name}_FILE": str(path)}) == (
        f"configuration: set only one of {name}_KEY and {name}_FILE"
    )


def test_previous_key(monkeypatch: pytest.MonkeyPatch) -> None:
    config = loads(monkeypatch, MCP_JWT_SECRET_KEY=KEY, MCP_JWT_PREVIOUS_SECRET_KEY=PREVIOUS)
    assert config.keys.keys == (KEY.encode(), PREVIOUS.encode())


def test_previous_key_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "previous"
    path.write_text(PREVIOUS + "\n")
    config = loads(monkeypatch, MCP_JWT_SECRET_KEY=KEY, MCP_JWT_PREVIOUS_SECRET_FILE=str(path))
    assert config.keys.keys == (KEY.encode(), PREVIOUS.encode())
    assert config.keys.refresh(now=time.monotonic() + 5) == (KEY.encode(), PREVIOUS.encode())


def test_short_previous_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refusal(monkeypatch, MCP_JWT_SECRET_KEY=KEY, MCP_JWT_PREVIOUS_SECRET_KEY="p" * 31)
    assert message.startswith("MCP_JWT_PREVIOUS_SECRET_KEY: the key is 31 bytes")


def test_key_files_are_followed_after_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    current, later = tmp_path / "current", tmp_path / "previous"
    current.write_text(KEY)
    config = loads(
        monkeypatch, MCP_JWT_SECRET_FILE=str(current), MCP_JWT_PREVIOUS_SECRET_FILE=str(later)
    )
    assert config.keys.keys == (KEY.encode(),)
    later.write_text(KEY)  # the rotation starts: the previous-key file appears
    fresh = tmp_path / "fresh"
    fresh.write_text(PREVIOUS)
    fresh.replace(current)
    assert config.keys.refresh(now=time.monotonic() + 5) == (PREVIOUS.encode(), KEY.encode())


def test_current_key_file_may_not_be_absent(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    message = refusal(monkeypatch, MCP_JWT_SECRET_FILE=str(tmp_path / "absent"))
    assert message.startswith("MCP_JWT_SECRET_FILE: cannot read ")


def test_previous_without_current_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert refusal(
        monkeypatch,
        MCP_JWT_PREVIOUS_SECRET_KEY=PREVIOUS,
        MCP_JWT_JWKS_URL="https://idp.example/jwks",
    ) == ("MCP_JWT_PREVIOUS_SECRET_KEY is set without MCP_JWT_SECRET_KEY/_FILE")


def test_no_key_at_all_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert refusal(monkeypatch) == (
        "MCP_JWT_SECRET_KEY: no signing key; set MCP_JWT_SECRET_KEY or MCP_JWT_SECRET_FILE "
        f"(or MCP_JWT_JWKS_URL for an OIDC issuer); {KEY_HINT}"
    )


def test_a_jwks_url_alone_is_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    config = loads(monkeypatch, MCP_JWT_JWKS_URL="https://idp.example/jwks/")
    assert config.keys.keys == ()
    assert config.settings.jwt_jwks_url == "https://idp.example/jwks"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://localhost:3000, https://app.example.com/", ["http://localhost:3000", "https://app.example.com"]),
        (" , http://a.example,,", ["http://a.example"]),
    ],
)  # fmt: skip
def test_allowed_origins_from_a_comma_list(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: list[str]
) -> None:
    config = loads(monkeypatch, MCP_JWT_SECRET_KEY=KEY, MCP_ALLOWED_ORIGINS=value)
    assert config.settings.allowed_origins == expected


@pytest.mark.parametrize("value", ["localhost:3000", "ftp://a.example", "https://"])
def test_urls_must_be_http(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    assert refusal(monkeypatch, MCP_JWT_SECRET_KEY=KEY, MCP_PUBLIC_URL=value) == (
        f"MCP_PUBLIC_URL: {value!r} is not an http(s) URL such as https://mcp.example.com"
    )


def test_several_bad_settings_are_named_together(monkeypatch: pytest.MonkeyPatch) -> None:
    assert refusal(
        monkeypatch, MCP_PORT="0", MCP_JWT_LEEWAY_SECONDS="301", MCP_LOG_LEVEL="loud"
    ) == (
        "MCP_PORT: Input should be greater than or equal to 1; "
        "MCP_JWT_LEEWAY_SECONDS: Input should be less than or equal to 300; "
        "MCP_LOG_LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'"
    )


def signin(tmp_path: Path, **env: str) -> dict[str, str]:
    """Sign-in settings with an empty policy, plus `env`: the provider at idp.example."""
    policy = tmp_path / "policy.yaml"
    policy.write_text("rules: []\n")
    return {
        "MCP_JWT_SECRET_KEY": KEY,
        "MCP_OIDC_CONFIG_URL": "https://idp.example/.well-known/openid-configuration",
        "MCP_OIDC_CLIENT_ID": "mcp",
        "MCP_SCOPE_POLICY_FILE": str(policy),
        **env,
    }


def test_sign_in_settings_are_read_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "secret"
    message = refusal(monkeypatch, **signin(tmp_path, MCP_OIDC_CLIENT_SECRET_FILE=str(missing)))
    unreadable = f"MCP_OIDC_CLIENT_SECRET_FILE: cannot read {missing}"
    assert message == f"{unreadable}: No such file or directory"
    missing.write_bytes(b"\xff")
    message = refusal(monkeypatch)
    assert message == f"{unreadable}: not UTF-8 text"


@pytest.mark.parametrize("source", ["MCP_OIDC_CLIENT_SECRET", "MCP_OIDC_CLIENT_SECRET_FILE"])
def test_an_empty_client_secret_is_refused_naming_where_it_came_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source: str
) -> None:
    blank = tmp_path / "secret"
    blank.write_text(" \n")
    value = str(blank) if source.endswith("_FILE") else " "
    message = refusal(monkeypatch, **signin(tmp_path, **{source: value}))
    assert message == f"{source} is empty; paste the OAuth client's secret from the provider"


def test_an_unreachable_provider_is_one_line_naming_the_failure_and_fastmcp_logs_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    records: list[logging.LogRecord] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Recorder()
    fastmcp_log = logging.getLogger(OIDCConfiguration.__module__)
    monkeypatch.setattr(fastmcp_log, "handlers", [handler])
    closed = f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
    env = signin(tmp_path, MCP_OIDC_CONFIG_URL=closed, MCP_OIDC_CLIENT_SECRET="the-client-secret")
    message = refusal(monkeypatch, **env)
    reading = f"MCP_OIDC_CONFIG_URL: cannot read the provider's configuration from {closed}"
    assert message.startswith(f"{reading} (ConnectError);")
    assert records == []
    assert not fastmcp_log.disabled  # muted only while the configuration is read


def test_denylist_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "denylist"
    path.write_text("id-1\n# comment\nid-2\n")
    config = loads(monkeypatch, MCP_JWT_SECRET_KEY=KEY, MCP_JWT_DENYLIST_FILE=str(path))
    assert config.denylist.ids() == frozenset({"id-1", "id-2"})


def test_unreadable_denylist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing, binary = tmp_path / "missing", tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe")
    hint = "it holds one token id (jti) per line"
    monkeypatch.setenv("MCP_JWT_SECRET_KEY", KEY)
    assert refusal(monkeypatch, MCP_JWT_DENYLIST_FILE=str(missing)) == (
        f"MCP_JWT_DENYLIST_FILE: cannot read {missing}: No such file or directory; {hint}"
    )
    assert refusal(monkeypatch, MCP_JWT_DENYLIST_FILE=str(binary)) == (
        f"MCP_JWT_DENYLIST_FILE: cannot read {binary}: not UTF-8 text; {hint}"
    )


def test_documents_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "public.md").write_text("# public\n")
    (tmp_path / "confidential.md").write_text("# secret\n")
    config = loads(monkeypatch, MCP_JWT_SECRET_KEY=KEY, MCP_DOCUMENTS_DIR=str(tmp_path))
    assert config.documents == {"public.md": "# public\n", "confidential.md": "# secret\n"}


def test_unreadable_documents(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "public.md").write_text("# public\n")
    hint = "the folder must hold public.md and confidential.md"
    monkeypatch.setenv("MCP_JWT_SECRET_KEY", KEY)
    missing = tmp_path / "confidential.md"
    assert refusal(monkeypatch, MCP_DOCUMENTS_DIR=str(tmp_path)) == (
        f"MCP_DOCUMENTS_DIR: cannot read {missing}: No such file or directory; {hint}"
    )
    missing.write_bytes(b"\xff")
    assert refusal(monkeypatch, MCP_DOCUMENTS_DIR=str(tmp_path)) == (
        f"MCP_DOCUMENTS_DIR: cannot read {missing}: not UTF-8 text; {hint}"
    )


def test_log_settings_are_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(jwt_secret_key=KEY, log_level="debug", log_format="console")  # type: ignore[arg-type]
    assert (settings.log_level, settings.log_format) == ("DEBUG", "console")


def test_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(host="::1", port=9000).base_url == "http://[::1]:9000"
    assert Settings(public_url="https://mcp.example.com/").base_url == "https://mcp.example.com"
    # Only slashes are trimmed: the path keeps every other character.
    public = Settings(public_url="https://mcp.example.com/MCPX//")
    assert public.base_url == "https://mcp.example.com/MCPX"


@pytest.fixture
def discovery_url() -> Iterator[str]:
    """A provider's /.well-known/openid-configuration, served on a loopback port."""

    class Discovery(StubHandler):
        def do_GET(self) -> None:
            base = f"http://{self.headers['Host']}"  # 127.0.0.1:<port>, as asked
            body = json.dumps(
                {
                    "issuer": base,
                    "authorization_endpoint": f"{base}/authorize",
                    "token_endpoint": f"{base}/token",
                    "jwks_uri": f"{base}/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            ).encode()
            self.answer(body)

    with loopback_server(Discovery) as base:
        yield f"{base}/.well-known/openid-configuration"


def test_sign_in_mode_loads_its_secret_and_policy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, discovery_url: str
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("rules:\n  - emails: [a@example.com]\n    scopes: [public:read]\n")
    config = loads(
        monkeypatch,
        MCP_JWT_SECRET_KEY=KEY,
        MCP_OIDC_CONFIG_URL=discovery_url,
        MCP_OIDC_CLIENT_ID="mcp-server",
        MCP_OIDC_CLIENT_SECRET=" the-client-secret\n",
        MCP_SCOPE_POLICY_FILE=str(policy),
    )
    assert config.signin is not None
    assert config.signin.client_secret == "the-client-secret"
    assert config.signin.policy.rules


# --- Redis stores and trusted proxies --------------------------------------------


def test_a_password_inside_a_redis_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refusal(
        monkeypatch,
        MCP_JWT_SECRET_KEY=KEY,
        MCP_RATE_LIMIT_STORAGE_URL="redis://:hunter2-secret@10.0.0.3:6379/0",
    )
    assert message.startswith("MCP_RATE_LIMIT_STORAGE_URL:")
    assert "MCP_REDIS_PASSWORD_FILE" in message
    assert "hunter2-secret" not in message


@pytest.mark.parametrize("url", ["http://10.0.0.3:6379", "10.0.0.3:6379", "redis://"])
def test_a_limit_store_must_be_a_redis_url(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    message = refusal(monkeypatch, MCP_JWT_SECRET_KEY=KEY, MCP_RATE_LIMIT_STORAGE_URL=url)
    assert message.startswith("MCP_RATE_LIMIT_STORAGE_URL:")
    assert "redis:// or rediss://" in message


@pytest.mark.parametrize("name", ["MCP_REDIS_PASSWORD_FILE", "MCP_REDIS_CA_FILE"])
def test_redis_files_without_a_store_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str
) -> None:
    message = refusal(monkeypatch, MCP_JWT_SECRET_KEY=KEY, **{name: str(tmp_path / "f")})
    assert name in message
    assert "MCP_RATE_LIMIT_STORAGE_URL" in message


def test_a_ca_with_a_plain_redis_url_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    message = refusal(
        monkeypatch,
        MCP_JWT_SECRET_KEY=KEY,
        MCP_RATE_LIMIT_STORAGE_URL="redis://10.0.0.3:6379/0",
        MCP_REDIS_CA_FILE=str(tmp_path / "ca.pem"),
    )
    assert "MCP_REDIS_CA_FILE" in message
    assert "rediss://" in message


def test_an_unusable_ca_file_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate\n")
    env = {"MCP_JWT_SECRET_KEY": KEY, "MCP_RATE_LIMIT_STORAGE_URL": "rediss://10.0.0.3:6378/0"}
    message = refusal(monkeypatch, **env, MCP_REDIS_CA_FILE=str(not_pem))
    assert message.startswith("MCP_REDIS_CA_FILE: cannot use")
    assert "PEM" in message
    message = refusal(monkeypatch, **env, MCP_REDIS_CA_FILE=str(tmp_path / "absent.pem"))
    assert message.startswith("MCP_REDIS_CA_FILE: cannot use")


def test_an_empty_password_file_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "auth"
    empty.write_text("\n")
    message = refusal(
        monkeypatch,
        MCP_JWT_SECRET_KEY=KEY,
        MCP_RATE_LIMIT_STORAGE_URL="redis://10.0.0.3:6379/0",
        MCP_REDIS_PASSWORD_FILE=str(empty),
    )
    assert message.startswith("MCP_REDIS_PASSWORD_FILE:")
    assert "empty" in message


def test_trusted_proxies_are_addresses_or_cidrs(monkeypatch: pytest.MonkeyPatch) -> None:
    config = loads(
        monkeypatch,
        MCP_JWT_SECRET_KEY=KEY,
        MCP_FORWARDED_ALLOW_IPS=" 130.211.0.0/22, 35.191.0.0/16,2001:db8::1 ",
    )
    assert config.settings.forwarded_allow_ips == ["130.211.0.0/22", "35.191.0.0/16", "2001:db8::1"]
    monkeypatch.delenv("MCP_FORWARDED_ALLOW_IPS")
    assert loads(monkeypatch, MCP_JWT_SECRET_KEY=KEY).settings.forwarded_allow_ips == []


@pytest.mark.parametrize("value", ["*", "lb.example.com", "10.0.0.0/33", "10.0.0.1/8"])
def test_anything_else_as_a_trusted_proxy_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    message = refusal(monkeypatch, MCP_JWT_SECRET_KEY=KEY, MCP_FORWARDED_ALLOW_IPS=value)
    assert message.startswith("MCP_FORWARDED_ALLOW_IPS:")
    assert "IP address or CIDR" in message


def test_the_oauth_store_counts_as_a_redis_store_only_in_sign_in_mode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without MCP_OIDC_CONFIG_URL the OAuth store is unused, so a Redis password has no store."""
    password = tmp_path / "password"
    password.write_text("secret")
    message = refusal(
        monkeypatch,
        MCP_JWT_SECRET_KEY="k" * 40,
        MCP_OAUTH_STORAGE_URL="redis://127.0.0.1:6379",
        MCP_REDIS_PASSWORD_FILE=str(password),
    )
    assert "MCP_REDIS_PASSWORD_FILE is set but no Redis store is" in message
