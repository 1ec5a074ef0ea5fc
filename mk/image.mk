# Phase 4: the container image (Dockerfile, tests/container/).
#
# `make image` needs a running Docker engine. Where none runs (the build
# machines), start a private one first; it also provides the base image:
#   eval "$(scripts/ci/docker-engine.sh start)"
# The container tests are part of `make test`: they run when an engine is
# reachable, skip with the reason when not, and fail under CI=true.

IMAGE ?= mcp-server
IMAGE_VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' pyproject.toml)
IMAGE_TAG ?= $(IMAGE_VERSION)
IMAGE_REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
# The repository's web address, from the git remote with any credentials removed.
IMAGE_SOURCE ?= $(shell git remote get-url origin 2>/dev/null | \
  sed -E 's|^git@([^:]+):|https://\1/|; s|^(https?://)[^@/]*@|\1|; s|\.git$$||' || true)
# Host networking lets the build reach the package index on engines without a bridge.
IMAGE_BUILD_NETWORK ?= host
DOCKER ?= docker
# The Dockerfile's base image, from its one `FROM <image> AS base` line.
BASE_IMAGE = $(shell sed -n 's/^FROM \([^ ]*\) AS base$$/\1/p' Dockerfile)
# The image's platform: empty (the default) builds for this machine, so phase 4
# runs natively on an arm64 laptop; the image pushed for GKE's x86-64 nodes is
# built with PLATFORM=linux/amd64 (Docker Desktop emulates the other CPU). The
# build machines' engine is the legacy builder (no BuildKit): there --platform
# only selects the base image's variant, and RUN steps of another CPU need
# qemu-user-static registered with binfmt_misc.
PLATFORM ?=
HADOLINT := .tools/bin/hadolint
SHELLCHECK := .tools/bin/shellcheck

.PHONY: image lint-image lock-image

image: ## Build the image mcp-server:<version> [PLATFORM=linux/amd64] (needs a Docker engine)
	@$(DOCKER) info >/dev/null 2>&1 || { \
	  echo 'No Docker engine reachable. Start one with:' >&2; \
	  echo '  eval "$$(scripts/ci/docker-engine.sh start)"' >&2; exit 1; }
	$(DOCKER) build $(if $(PLATFORM),--platform $(PLATFORM)) --network $(IMAGE_BUILD_NETWORK) \
	  --build-arg VERSION=$(IMAGE_VERSION) \
	  --build-arg REVISION=$(IMAGE_REVISION) \
	  --build-arg SOURCE=$(or $(IMAGE_SOURCE),unknown) \
	  --tag $(IMAGE):$(IMAGE_TAG) --tag $(IMAGE):latest .
	@base=$$($(DOCKER) image inspect --format '{{.Size}}' $(BASE_IMAGE)); \
	  size=$$($(DOCKER) image inspect --format '{{.Size}}' $(IMAGE):$(IMAGE_TAG)); \
	  echo "Built $(IMAGE):$(IMAGE_TAG): $$(( (size - base) / 1000000 )) MB over $(BASE_IMAGE)"

lint-image: tools ## Lint the Dockerfile (hadolint) and the engine script (shellcheck)
	$(HADOLINT) --config .hadolint.yaml Dockerfile
	$(SHELLCHECK) scripts/ci/docker-engine.sh scripts/ci/debian-mirror.sh

lint: lint-image

lock-image: | $(UV) ## Re-pin the image's build tools (requirements/image-build.txt)
	$(UV_PIP) compile requirements/image-build.in --generate-hashes --no-header --quiet \
	  --python-version 3.11 -o requirements/image-build.txt

lock: lock-image
