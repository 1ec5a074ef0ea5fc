"""A loopback stand-in for Google's Secret Manager API, for testing mcp-key.

Google's service cannot be reached from the build machines (no network beyond
the package registries), so this small gRPC server plays its part: it speaks the
real wire protocol (`google.cloud.secretmanager.v1.SecretManagerService`, the
messages serialized by the real client library's own types) on 127.0.0.1 over a
plaintext channel. The tool under test uses the unmodified
`google-cloud-secret-manager` client; only the endpoint differs.

It implements the five methods the tool calls, with the service's documented
behavior for them: versions numbered from 1, `data_crc32c` verified on add and
returned on access, disabled versions refused on access, NOT_FOUND for unknown
names. Everything else answers UNIMPLEMENTED.
"""

from __future__ import annotations

import threading
from concurrent import futures
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import grpc
from google.cloud.secretmanager_v1.types import resources, service

SERVICE = "google.cloud.secretmanager.v1.SecretManagerService"


def crc32c(data: bytes) -> int:
    """CRC-32C, bit by bit: written apart from the tool's table version on purpose."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


@dataclass
class _Secret:
    meta: resources.Secret
    versions: list[resources.SecretVersion] = field(default_factory=list)
    payloads: dict[str, bytes] = field(default_factory=dict)


class FakeSecretManager:
    """In-memory secrets served over real gRPC on an ephemeral loopback port."""

    def __init__(self) -> None:
        self._secrets: dict[str, _Secret] = {}
        self._lock = threading.Lock()
        self.calls: list[str] = []
        # Faults a test injects: an RPC (by name) that the service refuses with a code,
        # and version names whose payload arrives with a checksum that does not match.
        self.failures: dict[str, grpc.StatusCode] = {}
        self.corrupted: set[str] = set()
        self._server: grpc.Server | None = None
        self.endpoint = ""

    # ---- what the Terraform stack would have created

    def create_secret(self, project: str, secret_id: str, *, region: str = "us-central1") -> str:
        name = f"projects/{project}/secrets/{secret_id}"
        meta = resources.Secret(
            name=name,
            create_time=datetime.now(UTC),
            labels={"app": "mcp-server", "managed-by": "cdktn"},
            replication=resources.Replication(
                user_managed=resources.Replication.UserManaged(
                    replicas=[resources.Replication.UserManaged.Replica(location=region)]
                )
            ),
        )
        with self._lock:
            self._secrets[name] = _Secret(meta=meta)
        return name

    # ---- what the tests inspect

    def states(self, secret_name: str) -> dict[int, str]:
        with self._lock:
            return {
                int(v.name.rsplit("/", 1)[-1]): v.state.name
                for v in self._secrets[secret_name].versions
            }

    def payload(self, secret_name: str, number: int) -> bytes:
        with self._lock:
            return self._secrets[secret_name].payloads[f"{secret_name}/versions/{number}"]

    # ---- the RPCs (each called by `handle` below, which holds the lock and records it)

    def _secret(self, name: str, context: grpc.ServicerContext) -> _Secret:
        secret = self._secrets.get(name)
        if secret is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Secret [{name}] not found.")
        assert secret is not None
        return secret

    def _version(self, name: str, context: grpc.ServicerContext) -> resources.SecretVersion:
        secret_name = name.split("/versions/", 1)[0]
        for version in self._secret(secret_name, context).versions:
            if version.name == name:
                return version
        context.abort(grpc.StatusCode.NOT_FOUND, f"Secret Version [{name}] not found.")
        raise AssertionError("unreachable")

    def get_secret(
        self, request: service.GetSecretRequest, context: grpc.ServicerContext
    ) -> resources.Secret:
        return self._secret(request.name, context).meta

    def add_secret_version(
        self, request: service.AddSecretVersionRequest, context: grpc.ServicerContext
    ) -> resources.SecretVersion:
        secret = self._secret(request.parent, context)
        data = request.payload.data
        if "data_crc32c" in request.payload and crc32c(data) != request.payload.data_crc32c:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Checksum mismatch.")
        name = f"{request.parent}/versions/{len(secret.versions) + 1}"
        version = resources.SecretVersion(
            name=name,
            create_time=datetime.now(UTC),
            state=resources.SecretVersion.State.ENABLED,
            client_specified_payload_checksum="data_crc32c" in request.payload,
        )
        secret.versions.append(version)
        secret.payloads[name] = data
        return version

    def list_secret_versions(
        self, request: service.ListSecretVersionsRequest, context: grpc.ServicerContext
    ) -> service.ListSecretVersionsResponse:
        if request.filter:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, "filters are not emulated")
        versions = list(reversed(self._secret(request.parent, context).versions))
        return service.ListSecretVersionsResponse(versions=versions, total_size=len(versions))

    def disable_secret_version(
        self, request: service.DisableSecretVersionRequest, context: grpc.ServicerContext
    ) -> resources.SecretVersion:
        version = self._version(request.name, context)
        # proto-plus accepts the enum member; its stubs type the field as int.
        version.state = resources.SecretVersion.State.DISABLED  # type: ignore[assignment]
        return version

    def access_secret_version(
        self, request: service.AccessSecretVersionRequest, context: grpc.ServicerContext
    ) -> service.AccessSecretVersionResponse:
        version = self._version(request.name, context)
        if version.state != resources.SecretVersion.State.ENABLED:
            context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"Secret Version [{request.name}] is in DISABLED state.",
            )
        secret_name = request.name.split("/versions/", 1)[0]
        data = self._secrets[secret_name].payloads[request.name]
        checksum = crc32c(data) ^ (1 if request.name in self.corrupted else 0)
        return service.AccessSecretVersionResponse(
            name=request.name,
            payload=resources.SecretPayload(data=data, data_crc32c=checksum),
        )

    # ---- the server

    def _handlers(self) -> grpc.GenericRpcHandler:
        def unary(fn: Any, request_type: Any, response_type: Any) -> grpc.RpcMethodHandler:
            method = "".join(part.title() for part in fn.__name__.split("_"))

            def handle(request: Any, context: grpc.ServicerContext) -> Any:
                if method in self.failures:
                    context.abort(self.failures[method], f"{method} refused by the test")
                # One RPC at a time, each recorded (tests assert what a command never calls).
                with self._lock:
                    self.calls.append(method)
                    return fn(request, context)

            return grpc.unary_unary_rpc_method_handler(
                handle,
                request_deserializer=request_type.deserialize,
                response_serializer=response_type.serialize,
            )

        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "GetSecret": unary(self.get_secret, service.GetSecretRequest, resources.Secret),
                "AddSecretVersion": unary(
                    self.add_secret_version,
                    service.AddSecretVersionRequest,
                    resources.SecretVersion,
                ),
                "ListSecretVersions": unary(
                    self.list_secret_versions,
                    service.ListSecretVersionsRequest,
                    service.ListSecretVersionsResponse,
                ),
                "DisableSecretVersion": unary(
                    self.disable_secret_version,
                    service.DisableSecretVersionRequest,
                    resources.SecretVersion,
                ),
                "AccessSecretVersion": unary(
                    self.access_secret_version,
                    service.AccessSecretVersionRequest,
                    service.AccessSecretVersionResponse,
                ),
            },
        )

    def start(self) -> str:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        server.add_generic_rpc_handlers((self._handlers(),))
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self._server = server
        self.endpoint = f"127.0.0.1:{port}"
        return self.endpoint

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=None)
            self._server = None
