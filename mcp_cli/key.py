"""Manage the JWT signing key in Google Secret Manager (tutorial phase 5).

The Terraform stack creates the secret (--secret; its name is the stack's
`secret_id` setting) but never a value, so the key is in no Terraform config or
state. This tool adds the value:

  create   add a new random key (64 random bytes, base64url text) as version 1
  rotate   add a new key; the previous one stays enabled for the overlap window
           (the server accepts a current and a previous key); older ones are disabled
  show     the secret's metadata and its versions (never a key)
  token    mint a token signed with the latest enabled key; prints only the token

It never prints, logs or writes a key. Credentials are Application Default
Credentials (`gcloud auth application-default login`).

Examples:
  mcp-key --project my-project create
  mcp-key --project my-project show
  mcp-key --project my-project token --sub alice --scopes public:read
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import secrets
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.tokens import token_id
from mcp_cli.claims import add_claim_arguments, mint_from_arguments
from mcp_cli.infra import infra_module

KEY_BYTES = 64
ENDPOINT_ENV = "MCP_SECRET_MANAGER_ENDPOINT"
LOOPBACK_NAMES = {"localhost"}


def default_secret_id() -> str:
    """The secret the stack creates: infra's `secret_id` default, its one owner."""
    settings = infra_module("settings")  # read, not copied: a rename there renames it here
    return str(settings.InfraConfig.model_fields["secret_id"].default)


class KeyToolError(Exception):
    """A failure the user can act on; printed as one `error: ...` line."""


# ---------------------------------------------------------------- checksums


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum Secret Manager verifies on each payload."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def new_key() -> bytes:
    """64 random bytes as base64url text (86 characters): safe in a file or env var."""
    return secrets.token_urlsafe(KEY_BYTES).encode("ascii")


# ---------------------------------------------------------------- the client


def make_client(endpoint: str | None) -> Any:
    """A Secret Manager client: Google's API with ADC, or a loopback stand-in for tests."""
    from google.cloud import secretmanager

    if not endpoint:
        return secretmanager.SecretManagerServiceClient()
    host = endpoint.rsplit(":", 1)[0].strip("[]")
    if not _is_loopback(host):
        raise KeyToolError(
            f"{ENDPOINT_ENV}/--endpoint {endpoint!r}: only a local test server on loopback "
            "may be used (the connection is plaintext and unauthenticated)"
        )
    import grpc
    from google.cloud.secretmanager_v1.services.secret_manager_service.transports import (
        SecretManagerServiceGrpcTransport,
    )

    transport = SecretManagerServiceGrpcTransport(channel=grpc.insecure_channel(endpoint))
    return secretmanager.SecretManagerServiceClient(transport=transport)


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Version:
    number: int
    name: str
    state: str
    created: datetime | None


class KeyStore:
    """The signing-key secret, through the Secret Manager client."""

    def __init__(self, client: Any, project: str, secret_id: str) -> None:
        self.client = client
        self.secret_name = f"projects/{project}/secrets/{secret_id}"

    def secret(self) -> Any:
        return self.client.get_secret(request={"name": self.secret_name})

    def versions(self) -> list[Version]:
        """All versions, newest first."""
        found = [
            Version(
                number=int(v.name.rsplit("/", 1)[-1]),
                name=v.name,
                state=v.state.name,
                created=v.create_time if v.create_time else None,
            )
            for v in self.client.list_secret_versions(request={"parent": self.secret_name})
        ]
        return sorted(found, key=lambda v: v.number, reverse=True)

    def enabled(self) -> list[Version]:
        return [v for v in self.versions() if v.state == "ENABLED"]

    def add(self, key: bytes) -> Version:
        version = self.client.add_secret_version(
            request={
                "parent": self.secret_name,
                # The service verifies the checksum, so a corrupted key is never stored.
                "payload": {"data": key, "data_crc32c": crc32c(key)},
            }
        )
        return Version(
            number=int(version.name.rsplit("/", 1)[-1]),
            name=version.name,
            state=version.state.name,
            created=version.create_time or None,
        )

    def disable(self, version: Version) -> None:
        self.client.disable_secret_version(request={"name": version.name})

    def access(self, version: Version) -> bytes:
        response = self.client.access_secret_version(request={"name": version.name})
        data: bytes = response.payload.data
        if response.payload.data_crc32c and crc32c(data) != response.payload.data_crc32c:
            raise KeyToolError(f"version {version.number}: checksum mismatch, key not used")
        return data


# ---------------------------------------------------------------- commands


def cmd_create(store: KeyStore, args: argparse.Namespace) -> None:
    store.secret()  # fails clearly if the stack has not created the secret yet
    enabled = store.enabled()
    if enabled:
        raise KeyToolError(
            f"{store.secret_name} already has enabled version {enabled[0].number}; "
            "use `rotate` to replace the key"
        )
    version = store.add(new_key())
    print(f"added version {version.number} of {store.secret_name} (a new {KEY_BYTES}-byte key)")


def cmd_rotate(store: KeyStore, args: argparse.Namespace) -> None:
    before = store.enabled()
    if not before:
        raise KeyToolError(f"{store.secret_name} has no enabled version; use `create` first")
    version = store.add(new_key())
    previous, older = before[0], before[1:]
    for old in older:
        store.disable(old)
    print(f"added version {version.number} of {store.secret_name} (the new current key)")
    print(
        f"version {previous.number} stays enabled as the previous key: tokens signed with it "
        "keep working until they expire"
    )
    if older:
        print("disabled versions: " + ", ".join(str(v.number) for v in older))


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else "-"


def cmd_show(store: KeyStore, args: argparse.Namespace) -> None:
    secret = store.secret()
    replication = secret.replication
    if "user_managed" in replication:
        where = ", ".join(r.location for r in replication.user_managed.replicas)
        replicated = f"user-managed ({where})"
    else:
        replicated = "automatic"
    print(f"secret:      {secret.name}")
    print(f"created:     {_when(secret.create_time or None)}")
    print(f"replication: {replicated}")
    labels = ", ".join(f"{k}={v}" for k, v in sorted(secret.labels.items()))
    print(f"labels:      {labels or '-'}")
    versions = store.versions()
    enabled_numbers = [v.number for v in versions if v.state == "ENABLED"]
    roles = {}
    if enabled_numbers:
        roles[enabled_numbers[0]] = "current"
    if len(enabled_numbers) > 1:
        roles[enabled_numbers[1]] = "previous"
    print(f"versions:    {len(versions)}" + (" (none yet: run `create`)" if not versions else ""))
    for v in versions:
        print(
            f"  {v.number:>4}  {v.state:<9} {_when(v.created)}  {roles.get(v.number, '')}".rstrip()
        )


def cmd_token(store: KeyStore, args: argparse.Namespace) -> None:
    enabled = store.enabled()
    if not enabled:
        raise KeyToolError(f"{store.secret_name} has no enabled version; run `create` first")
    key = store.access(enabled[0])
    try:
        token = mint_from_arguments(key, args)
    except ValueError as exc:
        raise KeyToolError(str(exc)) from None
    print(token)
    # stdout holds only the token; the id to revoke it by (the deny-list) goes to stderr.
    print(f"jti: {token_id(token)}", file=sys.stderr)


# ---------------------------------------------------------------- CLI


Command = Callable[[KeyStore, argparse.Namespace], None]


def build_parser() -> argparse.ArgumentParser:
    secret_id = default_secret_id()

    def common_options(target: argparse.ArgumentParser, top: bool) -> None:
        # Accepted before or after the command (`--project P token` and `token --project P`);
        # below the command they default to "not given", so they never undo the top level.
        def default(value: str | None) -> str | None:
            return value if top else argparse.SUPPRESS

        target.add_argument(
            "--project",
            default=default(os.environ.get("GOOGLE_CLOUD_PROJECT")),
            help="Google Cloud project id (default: $GOOGLE_CLOUD_PROJECT)",
        )
        target.add_argument(
            "--secret",
            default=default(secret_id),
            help=f"Secret Manager secret id (default: {secret_id}, the stack's secret_id)",
        )
        target.add_argument(
            "--endpoint",
            default=default(os.environ.get(ENDPOINT_ENV)),
            help=(
                "host:port of a local Secret Manager stand-in on loopback, plaintext "
                f"(tests only; default: ${ENDPOINT_ENV}, else Google's API)"
            ),
        )

    parser = argparse.ArgumentParser(
        prog="mcp-key",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common_options(parser, top=True)
    shared = argparse.ArgumentParser(add_help=False)
    common_options(shared, top=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # (command, what it runs, its line in --help, its own --help description)
    table: tuple[tuple[str, Command, str, str], ...] = (
        (
            "create",
            cmd_create,
            "add the first key (fails if an enabled version exists)",
            "Add a new random key as a version of an empty secret; prints no key.",
        ),
        (
            "rotate",
            cmd_rotate,
            "add a new key, keep the previous, disable older ones",
            "Add a new random key as the current version. The version that was current "
            "stays enabled as the previous key, so tokens it signed keep working until "
            "they expire; every older enabled version is disabled. Prints no key.",
        ),
        (
            "show",
            cmd_show,
            "print the secret's metadata and versions (never a key)",
            "Print the secret's name, replication, labels and versions; never a key.",
        ),
        (
            "token",
            cmd_token,
            "print a token signed with the latest enabled key",
            "Mint an HS256 token with the latest enabled key version and print only the "
            "token (the same claims as mcp-token).",
        ),
    )
    for name, run, summary, description in table:
        command = commands.add_parser(name, parents=[shared], help=summary, description=description)
        command.set_defaults(run=run)
        if run is cmd_token:
            add_claim_arguments(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.project:
        print("error: no project: pass --project or set GOOGLE_CLOUD_PROJECT", file=sys.stderr)
        return 2
    try:
        from google.api_core import exceptions as api
        from google.auth.exceptions import DefaultCredentialsError
        from google.cloud import secretmanager  # noqa: F401 (make_client's; missing is said here)
    except ImportError:
        # The client library comes with `make install`, not with the server (make install-main).
        print(
            "error: mcp-key needs the Secret Manager client library "
            "(google-cloud-secret-manager): run `make install`",
            file=sys.stderr,
        )
        return 2

    try:
        store = KeyStore(make_client(args.endpoint), args.project, args.secret)
        args.run(store, args)
    except KeyToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except api.NotFound as exc:
        print(
            f"error: not found: {exc.message} (apply the infra stack first: "
            "docs/tutorial/05-infrastructure.md)",
            file=sys.stderr,
        )
        return 1
    except api.PermissionDenied as exc:
        print(
            f"error: permission denied: {exc.message} (are you logged in with "
            "`gcloud auth application-default login` as a project owner?)",
            file=sys.stderr,
        )
        return 1
    except api.GoogleAPICallError as exc:
        print(f"error: Secret Manager: {exc.message}", file=sys.stderr)
        return 1
    except DefaultCredentialsError:
        print(
            "error: no Google credentials: run `gcloud auth application-default login`",
            file=sys.stderr,
        )
        return 1
    return 0
