# The integration tests on a starved machine: real servers, real sockets, and
# stress-ng holding more CPU workers than there are cores. A test that only
# passes on an idle laptop (a deadline too tight, a race between a reload and
# a request) fails here first. Not part of `make test`: run it before a change
# to timing-sensitive code (guards, reloads, shutdown) lands.

STRESS_CPU ?= 4
STRESS_RUNS ?= 2

.PHONY: stress-ng test-stress

stress-ng: ## Install stress-ng (Homebrew or Debian package), if missing
	$(call system-package,stress-ng,stress-ng,stress-ng)

# stress-ng runs in the background for the whole loop and is stopped on every
# exit path (the trap), so a failed run never leaves the workers behind.
test-stress: test-deps stress-ng ## Run tests/integration STRESS_RUNS times under stress-ng --cpu STRESS_CPU
	@stress-ng --cpu $(STRESS_CPU) --quiet & load=$$!; \
	trap 'kill $$load 2>/dev/null; wait $$load 2>/dev/null' EXIT; \
	for run in $$(seq 1 $(STRESS_RUNS)); do \
	  echo "test-stress: run $$run of $(STRESS_RUNS), stress-ng --cpu $(STRESS_CPU) in the background" >&2; \
	  $(BIN)/pytest -q tests/integration $(PYTEST_ARGS); \
	done
