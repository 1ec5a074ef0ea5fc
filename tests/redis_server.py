"""A real redis-server for tests: a free loopback port, optionally AUTH and TLS, stop and start.

The one launcher every test (and benchmarks/stores.py) uses. The Debian
package's redis-server is built with OpenSSL, so a test can run it the way
Memorystore runs with AUTH and in-transit encryption: `requirepass` and a
server certificate signed by a CA the test made (`make_tls`). By default data
is kept in an append-only file under the test's folder, so a server stopped
and started again on the same port still holds what it had, as a restarted
Memorystore instance does; `durable=False` keeps it in memory only (a store
that is never restarted, or a benchmark that must not measure the disk).
Without redis-server the test skips, and fails under CI=true (tests/helpers.py).
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.retry import Retry

from tests.helpers import require
from tests.server_process import free_port, stop

# redis-py's own default: three more tries, backing off about a second in all.
PATIENT = Retry(ExponentialWithJitterBackoff(base=1, cap=10), 3)


@dataclass(frozen=True)
class Tls:
    ca: Path  # what the client trusts (MCP_REDIS_CA_FILE)
    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_tls(folder: Path) -> Tls:
    """A CA, and a certificate it signs for 127.0.0.1 and localhost."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("test redis CA"))
        .issuer_name(_name("test redis CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    tls = Tls(ca=folder / "ca.pem", cert=folder / "server.pem", key=folder / "server-key.pem")
    tls.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tls.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return tls


class PortTaken(RuntimeError):
    """redis-server could not bind its port: something took it after it was picked."""


class RedisServer:
    """redis-server on a loopback port that stays the same across stop() and start()."""

    def __init__(
        self,
        folder: Path,
        *,
        password: str | None = None,
        tls: Tls | None = None,
        durable: bool = True,
    ):
        binary = shutil.which("redis-server")
        require(
            binary is not None,
            "redis-server not installed; `make test-deps` installs it (Debian package)",
        )
        assert binary is not None
        self.binary = binary
        self.folder = folder
        self.password = password
        self.tls = tls
        self.durable = durable
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._started = False

    @property
    def url(self) -> str:
        """The URL a server is given: never with the password in it."""
        return f"{'rediss' if self.tls else 'redis'}://127.0.0.1:{self.port}/0"

    def _args(self) -> list[str]:
        args = [self.binary, "--bind", "127.0.0.1", "--dir", str(self.folder)]
        args += ["--save", ""]
        args += ["--appendonly", "yes", "--appendfsync", "always"] if self.durable else []
        if self.password:
            args += ["--requirepass", self.password]
        if self.tls:
            args += ["--port", "0", "--tls-port", str(self.port)]
            args += ["--tls-cert-file", str(self.tls.cert), "--tls-key-file", str(self.tls.key)]
            args += ["--tls-ca-cert-file", str(self.tls.ca), "--tls-auth-clients", "no"]
        else:
            args += ["--port", str(self.port)]
        return args

    def client(self, retry: Retry = PATIENT) -> redis.Redis:
        return redis.Redis(
            retry=retry,
            host="127.0.0.1",
            port=self.port,
            password=self.password,
            ssl=self.tls is not None,
            ssl_ca_certs=str(self.tls.ca) if self.tls else None,
            socket_timeout=2,
            socket_connect_timeout=2,
        )

    def start(self) -> None:
        # A port free when picked may be taken before redis-server binds it (by a test
        # in another process, or as some client's ephemeral port): the first start
        # picks another. A restart keeps its port, as a restarted store would.
        for attempt in range(3):
            try:
                self._start()
            except PortTaken:
                if self._started or attempt == 2:
                    raise
                self.port = free_port()
            else:
                self._started = True
                return

    def _start(self) -> None:
        self._log = (self.folder / "redis.log").open("ab")
        logged = self._log.tell()
        self.process = subprocess.Popen(self._args(), stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._log.close()
                said = (self.folder / "redis.log").read_bytes()[logged:].decode(errors="replace")
                error = PortTaken if "Address already in use" in said else RuntimeError
                raise error(f"redis-server exited:\n{said}")
            try:
                # Not started yet is the expected answer: ask again soon, not after a backoff.
                with self.client(Retry(NoBackoff(), 0)) as client:
                    if client.ping():
                        return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server not ready after 20 s:\n{self.logs()}")

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
        if self._log is not None:
            self._log.close()
            self._log = None

    def logs(self) -> str:
        path = self.folder / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def running(
    folder: Path, *, password: str | None = None, tls: Tls | None = None, durable: bool = True
) -> Iterator[RedisServer]:
    """A started RedisServer, stopped on the way out."""
    server = RedisServer(folder, password=password, tls=tls, durable=durable)
    server.start()
    try:
        yield server
    finally:
        server.stop()
