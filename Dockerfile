# The MCP server's image: `make image` builds it, tests/container/ proves it.
#
# Two stages: the builder has pip, uv and setuptools and installs the locked,
# hashed requirements into /opt/venv; the runtime stage gets only that venv
# (which holds the app and its documents) on a fresh slim base. No compilers,
# package caches or build tools reach the image that runs.
#
# Kept to what Docker's legacy builder understands (no RUN --mount, COPY --link
# or heredocs): Debian's Docker and docker-py build without BuildKit.

# The base image of both stages, written once: `make image`, the engine script
# (scripts/ci/docker-engine.sh) and tests/container/ read it from this line.
# Pinned by tag; Dependabot (.github/dependabot.yml) proposes updates.
FROM python:3.11-slim AS base


FROM base AS builder

# No caches in layers; use the base image's Python, never download one.
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    UV_NO_CACHE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never

# GNU strip, for this stage only: the wheels' extension modules carry debug
# symbols (uvloop's shrinks from 13.6 to 1.6 MB). Not pinned: it is the base's
# Debian release's own package, and nothing of it reaches the runtime stage.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends binutils \
    && rm -rf /var/lib/apt/lists/*

# uv and setuptools, pinned by hash (requirements/image-build.txt).
COPY requirements/image-build.txt /tmp/image-build.txt
RUN pip install --require-hashes -r /tmp/image-build.txt

# Dependencies first: this layer is reused until requirements/main.txt changes.
# Then out go the distributions the server never imports (FastMCP's command
# line and the keyring stack of py-key-value's keyring store; the list is
# checked against the server's import closure by
# tests/container/test_unused_packages.py), and the debug symbols.
COPY requirements/main.txt /tmp/main.txt
RUN uv venv /opt/venv --python /usr/local/bin/python3 \
    && uv pip install --python /opt/venv/bin/python --require-hashes -r /tmp/main.txt \
    && uv pip uninstall --python /opt/venv/bin/python \
       cyclopts docstring-parser rich-rst pyperclip \
       keyring jaraco-classes jaraco-context jaraco-functools secretstorage jeepney \
       importlib-metadata zipp more-itertools lazy-importer \
    && find /opt/venv -name '*.so' -exec strip --strip-unneeded {} +

# The app itself, without dependencies: they are all pinned above. The wheel
# is built with the hashed setuptools (no isolated, unpinned build backend).
# The command-line tools (mcp_cli/) stay out: the server never runs them, so
# their package is not copied, and the console scripts the project declares
# (which would only fail on the missing package) are deleted by the names its
# metadata lists.
COPY pyproject.toml README.md /src/
COPY app /src/app
RUN pip wheel --no-deps --no-build-isolation --wheel-dir /tmp/dist /src \
    && uv pip install --python /opt/venv/bin/python --no-deps /tmp/dist/*.whl \
    && /opt/venv/bin/python -c "import importlib.metadata as m, pathlib; [pathlib.Path('/opt/venv/bin', e.name).unlink() for e in m.distribution('secure-mcp-server').entry_points.select(group='console_scripts')]"

# Bytecode for what the server imports at start, in either mode (shared keys;
# sign-in, with its Redis store), and for what uvicorn loads by name: the
# read-only container cannot cache it. The libraries' start modules keep only
# their bytecode (a sourceless .pyc in place of the .py: 15 MB less, and their
# tracebacks name file and line without the line's text); the app's own code
# keeps its source. scripts/image_bytecode.py says which and why;
# tests/container/test_image.py checks that nothing is compiled at start.
COPY scripts/image_bytecode.py /tmp/image_bytecode.py
RUN /opt/venv/bin/python /tmp/image_bytecode.py


FROM base

# OCI labels; `make image` and the pipeline pass the real values.
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="mcp-server" \
      org.opencontainers.image.description="MCP server with tools guarded by scoped JWT bearer tokens" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"

# A fixed numeric UID/GID, so Kubernetes' runAsNonRoot can verify it and
# volume permissions are predictable; no home directory, no login shell.
RUN groupadd --gid 10001 mcp \
    && useradd --uid 10001 --gid 10001 --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin --no-log-init mcp

# Owned by root and read-only for the server: it cannot modify its own code.
COPY --from=builder /opt/venv /opt/venv

# PYTHONDONTWRITEBYTECODE: the root filesystem may be read-only (bytecode is
# precompiled). PYTHONUNBUFFERED: log lines leave at once, even on a crash.
# PYTHONSAFEPATH: never import from the working directory, so nothing dropped
# into a writable directory can shadow a module.
# MCP_HOST: listen on all interfaces, as the container's port is the boundary.
# The port is the app's default (app/config.py); `python -m app` itself
# switches FastMCP's console logging off, so neither is set here.
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONSAFEPATH=1 \
    MCP_HOST=0.0.0.0

USER 10001:10001
# The app's default port: Docker cannot read it from app/config.py, so
# tests/container/test_image.py checks the built image's EXPOSE against it.
EXPOSE 8080

# Liveness through the venv's Python: no curl or wget in the image. The port
# is the server's own setting (MCP_PORT or its default), read the way it reads it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["/opt/venv/bin/python", "-c", "import sys, urllib.request; from app.config import Settings; url = f'http://127.0.0.1:{Settings().port}/health'; sys.exit(0 if urllib.request.urlopen(url, timeout=2).status == 200 else 1)"]

# Exec form: the server is PID 1 and receives SIGTERM itself, so it drains
# and exits 0 (a shell in between would swallow the signal).
ENTRYPOINT ["/opt/venv/bin/python", "-m", "app"]
