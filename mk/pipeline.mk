# Phase 7 and 9: the GitHub Actions pipeline and the phase verifier.
#
# `make lint-workflows` checks .github/ with the pinned validators from
# `make tools` (all offline): actionlint (with shellcheck on every run: block),
# zizmor's security audit (.github/zizmor.yml holds each ignore and its
# reason), and the workflow and Dependabot JSON schemas that
# check-jsonschema vendors, and shellcheck on the scripts the workflows run.
# `make lint` includes it.
#
# `make verify PHASE=N` runs tutorial phase N's Verify block as checks;
# `LIVE=1` adds the checks that need the cloud (gcloud, kubectl).

TOOLS_BIN := .tools/bin
WORKFLOWS := $(wildcard .github/workflows/*.yml)
PHASE ?=
LIVE ?=

.PHONY: lint-workflows verify

lint-workflows: tools ## Lint .github/ (actionlint, zizmor --offline, JSON schemas)
	$(TOOLS_BIN)/actionlint -shellcheck $(TOOLS_BIN)/shellcheck $(WORKFLOWS)
	$(TOOLS_BIN)/zizmor --offline --quiet --config .github/zizmor.yml .github/
	$(TOOLS_BIN)/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)
	$(TOOLS_BIN)/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
	$(TOOLS_BIN)/shellcheck scripts/ci/attestation.sh

lint: lint-workflows

# Its offline checks run the tests of each behaviour, so it installs what `make test` does.
verify: test-deps ## Check a tutorial phase: make verify PHASE=N [LIVE=1]
	@test -n "$(PHASE)" || { echo "usage: make verify PHASE=N [LIVE=1]  (N = 0..10)" >&2; exit 2; }
	$(BIN)/mcp-verify $(PHASE) $(if $(LIVE),--live)
