"""Build the image once per session and run it on a real Docker engine.

The engine is whatever DOCKER_HOST (or the default socket) points at: Docker on
a laptop, or the private engine `scripts/ci/docker-engine.sh start` brings up
on the build machines. Without one the tests skip with the reason, and fail
under CI=true. Containers use host networking on a free loopback port: the
private engine has no bridge network, and a laptop's engine works the same way.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import secrets
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Ryuk, testcontainers' reaper, is an image from a registry we cannot reach;
# the fixtures below remove their own containers. Must be set before import.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

import docker
from docker.errors import BuildError, DockerException
from docker.models.containers import Container
from docker.models.images import Image
from testcontainers.core.container import DockerContainer
from testcontainers.core.image import DockerImage

from app.tokens import mint_token
from tests.helpers import ROOT, require
from tests.server_process import free_port
from tests.server_process import wait_until_ready as wait_for_ready

IMAGE_TAG = "mcp-server:test"


def dockerfile_base_image() -> str:
    """The Dockerfile names its base image once, in its `FROM <image> AS base` line."""
    found = re.search(r"^FROM (\S+) AS base$", (ROOT / "Dockerfile").read_text(), re.M)
    assert found, "the Dockerfile has no `FROM <image> AS base` line"
    return found[1]


BASE_IMAGE = dockerfile_base_image()
# Labels the build args set; the tests check they reach the image.
BUILD_ARGS = {
    "VERSION": "0.0.0-test",
    "REVISION": "test-revision",
    "SOURCE": "https://example.test/repo",
}
# How long `docker stop` waits before SIGKILL (Docker's default, and well under
# Kubernetes' 30 s terminationGracePeriodSeconds).
STOP_GRACE_SECONDS = 10
READY_DEADLINE_SECONDS = 60
ENGINE_HINT = 'start one with: eval "$(scripts/ci/docker-engine.sh start)"'


# Where `scripts/ci/docker-engine.sh start` puts its private engine's socket.
PRIVATE_ENGINE = f"unix://{os.environ.get('MCP_DOCKER_DIR', '/tmp/mcp-docker')}/docker.sock"


def connect() -> docker.DockerClient | None:
    # docker-py drops the socket of a connection that failed without closing it.
    # Let it go here, where that is expected, rather than as a ResourceWarning
    # failing whichever later test the garbage collector happens to run in.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            client: docker.DockerClient | None = docker.from_env(timeout=300)
            assert client is not None
            client.ping()
        except DockerException:
            client = None
        if client is None:
            gc.collect()
    return client


def engine() -> docker.DockerClient | None:
    """The engine DOCKER_HOST names; without DOCKER_HOST, the default one or the private one."""
    client = connect()
    if client is None and "DOCKER_HOST" not in os.environ:
        # testcontainers makes its own clients from the environment: point them there too.
        os.environ["DOCKER_HOST"] = PRIVATE_ENGINE
        client = connect()
        if client is None:
            del os.environ["DOCKER_HOST"]
    return client


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    client = engine()
    require(
        client is not None,
        "no Docker engine reachable (DOCKER_HOST, the default socket or the private engine); "
        + ENGINE_HINT,
    )
    assert client is not None
    yield client
    client.close()


@pytest.fixture(scope="session")
def base_image(docker_client: docker.DockerClient) -> Image:
    try:
        return docker_client.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        pass
    try:
        return docker_client.images.pull(BASE_IMAGE)
    except DockerException as exc:
        require(False, f"{BASE_IMAGE} is neither present nor pullable ({exc}); {ENGINE_HINT}")
        raise


@pytest.fixture(scope="session")
def image(docker_client: docker.DockerClient, base_image: Image) -> Image:
    """The project's image, built once per session with the legacy builder (what docker-py uses).

    Kept after the session (clean_up=False) so the next run reuses its layer cache.
    """
    built = DockerImage(
        path=ROOT,
        tag=IMAGE_TAG,
        clean_up=False,
        network_mode="host",  # the private engine has no bridge; the build needs PyPI
        buildargs=BUILD_ARGS,
        rm=True,
        forcerm=True,
    )
    try:
        built.build()
    except BuildError as exc:
        log = "".join(str(chunk.get("stream", chunk.get("error", ""))) for chunk in exc.build_log)
        pytest.fail(f"docker build failed: {exc.msg}\n{log[-4000:]}", pytrace=False)
    return docker_client.images.get(IMAGE_TAG)


@pytest.fixture(scope="session")
def signing_key() -> str:
    return secrets.token_urlsafe(48)


@pytest.fixture(scope="session")
def token_for(signing_key: str) -> Callable[..., str]:
    def make(*scopes: str, sub: str = "container-test") -> str:
        return mint_token(signing_key, sub, list(scopes), expires_in=600)

    return make


@dataclass
class Running:
    """A started container of the image and where its server listens."""

    container: Container
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/mcp"

    def logs(self) -> str:
        output: bytes = self.container.logs()
        return output.decode(errors="replace")

    def state(self) -> dict[str, Any]:
        self.container.reload()
        state: dict[str, Any] = self.container.attrs["State"]
        return state


def wait_until_ready(running: Running) -> None:
    wait_for_ready(
        running.base_url,
        lambda: running.state()["Status"] == "exited",
        running.logs,
        READY_DEADLINE_SECONDS,
    )


StartContainer = Callable[..., Running]


@pytest.fixture(scope="session")
def start_container(image: Image, signing_key: str) -> Iterator[StartContainer]:
    """Run the image as the chart does: key from the environment, read-only root, tmpfs /tmp."""
    started: list[DockerContainer] = []

    def start(files: Mapping[str, Path] | None = None, **env: str) -> Running:
        """`files`: container path -> host file, mounted read-only."""
        port = free_port()
        environment = {
            "MCP_JWT_SECRET_KEY": signing_key,
            "MCP_PORT": str(port),
            # Host networking: bind loopback only, not every interface of the machine.
            "MCP_HOST": "127.0.0.1",
            **env,
        }
        container = DockerContainer(
            IMAGE_TAG,
            env=environment,
            network_mode="host",
            read_only=True,
            # The image's own check command, polled every second instead of ten.
            healthcheck={"interval": 1_000_000_000, "start_period": 30_000_000_000},
            stop_signal="SIGTERM",
        ).with_tmpfs_mount("/tmp", "rw,noexec,nosuid,size=16m")
        for inside, host in (files or {}).items():
            container.with_volume_mapping(str(host), inside, "ro")
        container.start()
        started.append(container)
        running = Running(container.get_wrapped_container(), port)
        wait_until_ready(running)
        return running

    yield start
    for container in started:
        with contextlib.suppress(DockerException):
            container.get_wrapped_container().remove(force=True)


@pytest.fixture(scope="session")
def server(start_container: StartContainer) -> Running:
    """The shared container: rate limit off so the suite's volume is not throttled."""
    return start_container(MCP_RATE_LIMIT_PER_MINUTE="0")
