# Secure MCP Server: every command a learner or CI needs.
#
# `make run` and `make test` are all a fresh machine with Python 3.11 and
# Node 20 needs; each target installs what it uses, and nothing more.
# Targets of the later phases (image, synth, chart, pipeline) live in mk/*.mk,
# one file per part, included at the bottom.

# macOS ships GNU make 3.81, which ignores .SHELLFLAGS (added in 3.82): its
# recipes would run without -e -o pipefail, so a failing step could pass.
ifneq ($(MAKE_VERSION),3.82)
ifeq ($(firstword $(sort $(MAKE_VERSION) 3.82)),$(MAKE_VERSION))
$(error GNU make $(MAKE_VERSION) is too old (3.82+ needed): brew install make, then put it first on PATH: export PATH="$$(brew --prefix make)/libexec/gnubin:$$PATH")
endif
endif

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# A recipe that fails leaves no half-written target that a later run takes as built
# (an empty dev key, say).
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
# uv installs into our venv only, never into the system Python.
UV_PIP := $(UV) pip
UV_INSTALL := $(UV_PIP) install --python $(BIN)/python --require-hashes --quiet
DEV_KEY := .dev/jwt-secret

# make token SCOPES=public:read,confidential:read SUB=alice EXPIRES_IN=3600
SCOPES ?= public:read
SUB ?= learner
EXPIRES_IN ?= 3600

export FASTMCP_LOG_ENABLED := false

# $(call system-package,COMMAND,HOMEBREW NAME,DEBIAN NAME[,WHAT GOES UNCHECKED]): a
# recipe that installs a tool from the machine's package manager when COMMAND is
# missing (Homebrew; apt-get as root or with passwordless sudo, as on GitHub's
# Ubuntu runners), and otherwise stops with the commands to run. An empty Homebrew
# name leaves Homebrew out; with a fourth argument the tool is optional: a note
# says what goes unchecked and make carries on.
comma := ,
define system-package
@command -v $(1) >/dev/null || \
if [ -n "$(2)" ] && [ "$$(uname -s)" = Darwin ] && command -v brew >/dev/null; then \
  echo "Installing $(2) (Homebrew)$(if $(filter-out $(1),$(2)), for $(1))" >&2; brew install $(2); \
elif command -v apt-get >/dev/null && { [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then \
  echo "Installing $(3) (Debian package)$(if $(filter-out $(1),$(3)), for $(1))" >&2; \
  as_root=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
  $$as_root apt-get install -y -qq --no-install-recommends $(3) >/dev/null 2>&1 || \
  { $$as_root apt-get update -qq && \
    $$as_root apt-get install -y -qq --no-install-recommends $(3) >/dev/null; }; \
else echo "$(if $(4),note: $(1) not found; $(4),error: $(1) not found):" \
  "$(if $(2),brew install $(2) (macOS)$(comma) )sudo apt-get install $(3) (Debian, Ubuntu)," \
  "or your package manager's $(or $(2),$(3))" >&2$(if $(4),,; exit 1); fi
endef

.PHONY: help install install-main run token test check-docs test-deps lint lock bench bench-memory bench-start clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | \
	  awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

# The venv and uv inside it; the only thing taken from the machine is python3,
# which must be 3.11+ (pyproject's requires-python): refused here, with the fix.
PYTHON_FIX := Ubuntu 22.04 ships 3.10: sudo add-apt-repository ppa:deadsnakes/ppa && \
  sudo apt-get install python3.11 python3.11-venv, or uv python install 3.11; then \
  export PYTHON=python3.11 (or PYTHON="$$(uv python find 3.11)"). macOS: brew install python@3.11

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "error: $(PYTHON) is $$($(PYTHON) --version 2>&1 || echo missing), 3.11+ needed. $(PYTHON_FIX)" >&2; \
	  exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9

# Stamps make each install run once per change of its requirements file.
$(VENV)/.main-installed: requirements/main.txt pyproject.toml | $(UV)
	$(UV_INSTALL) -r requirements/main.txt
	$(UV_PIP) install --python $(BIN)/python --quiet --no-deps -e .
	@touch $@

$(VENV)/.dev-installed: requirements/dev.txt $(VENV)/.main-installed
	$(UV_INSTALL) -r requirements/dev.txt
	@touch $@

install-main: $(VENV)/.main-installed

install: $(VENV)/.dev-installed ## Create .venv with the server, tests and linters

# A development signing key, made once and never committed (.dev/ is ignored).
$(DEV_KEY): | $(UV)
	@mkdir -p $(dir $@)
	@umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(48))' > $@
	@echo "Generated a local development signing key in $@" >&2

# The server logs the URL it serves (its host and port settings: app/config.py).
run: install-main $(DEV_KEY) ## Start the server with the dev key; it logs its URL
	@echo "Starting the server (Ctrl-C stops it)"
	@echo "Get a token in another terminal:  make token SCOPES=public:read"
	MCP_JWT_SECRET_FILE=$(DEV_KEY) MCP_LOG_FORMAT=$${MCP_LOG_FORMAT:-console} $(BIN)/python -m app

token: install-main $(DEV_KEY) ## Mint a token with the dev key: make token SCOPES=a,b [SUB=name]
	@$(BIN)/mcp-token --sub '$(SUB)' --scopes '$(SCOPES)' \
	  --expires-in '$(EXPIRES_IN)' --secret-file $(DEV_KEY)

# Parts add what their tests need as prerequisites of test-deps (see mk/).
test-deps: install

# Coverage of app/ (server processes included) with the gate in pyproject.toml;
# `make test COVERAGE= PYTEST_ARGS=tests/chart` runs a part without it.
COVERAGE ?= --cov --cov-report=term
# Two lanes: the behaviour tests (does the software work; the coverage gate is
# theirs), then the doc checks (do the docs still match the code: tests marked
# `docs`, all of tests/docs). A part given in PYTEST_ARGS may hold no test of a
# lane: pytest's "no tests collected" (exit 5) then passes; the whole suite has both.
LANE_MAY_BE_EMPTY = $(if $(PYTEST_ARGS),|| [ $$? -eq 5 ])

test: test-deps ## Run the behaviour tests (with the coverage gate), then make check-docs
	$(BIN)/pytest $(COVERAGE) -m 'not docs' $(PYTEST_ARGS) $(LANE_MAY_BE_EMPTY)
	@$(MAKE) --no-print-directory check-docs

check-docs: test-deps ## Check that the docs still match the code: commands, tables, links
	$(BIN)/pytest -m docs $(PYTEST_ARGS) $(LANE_MAY_BE_EMPTY)

lint: install ## Lint and type-check everything
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@# tests/ apart: they import infra as infra.mcp_infra, the stack as mcp_infra.
	$(BIN)/mypy tests

# --python-version 3.11 keeps the pins that only older 3.11 patch releases need
# (redis wants async-timeout below 3.11.3; the image's base may be such a one).
# Existing pins are kept; `uv pip compile --upgrade` moves them.
LOCK := $(UV_PIP) compile --generate-hashes --no-header --quiet --python-version 3.11

lock: | $(UV) ## Re-pin every requirements file (hashed, no index URLs)
	$(LOCK) pyproject.toml -o requirements/main.txt
	$(LOCK) pyproject.toml --group dev -o requirements/dev.txt
	$(LOCK) --group infra -c requirements/dev.txt -o requirements/infra.txt
	$(LOCK) --group bench -c requirements/dev.txt -o requirements/bench.txt
	$(LOCK) --group mutate -c requirements/dev.txt -o requirements/mutate.txt

# wrk measures the server, not itself (a Python load generator tops out first).
# matplotlib (requirements/bench.txt) draws the picture; only this target needs it.
$(VENV)/.bench-installed: requirements/bench.txt $(VENV)/.dev-installed
	$(UV_INSTALL) -r requirements/bench.txt
	@touch $@

bench: install $(VENV)/.bench-installed redis-server ## Throughput vs stock FastMCP, auth off, Redis limits, sign-in; writes docs/benchmarks.md (~3 min)
	$(call system-package,wrk,wrk,wrk)
	$(BIN)/python -m benchmarks.run --write $(BENCH_ARGS)

bench-memory: install ## RSS of the server before and after 10,000 calls over 1,000 distinct tokens
	$(BIN)/python -m benchmarks.memory $(BENCH_ARGS)

bench-start: install ## Container start to ready, median of 5 (needs a Docker engine and make image)
	$(BIN)/python -m benchmarks.container_start --image $(IMAGE):$(IMAGE_TAG) $(BENCH_ARGS)

clean: ## Remove the venv, tools and build output (keeps .dev/)
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache infra/cdktf.out mutants

-include mk/*.mk
