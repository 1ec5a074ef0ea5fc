# Alert and SLO rules (infra/mcp_infra/monitoring.py, tests/infra/rules/).
#
# tests/infra/test_promtool.py writes the stack's PromQL into a Prometheus rule
# file and runs `promtool test rules` on the cases in tests/infra/rules/.
# promtool ships with Debian's prometheus package (Homebrew: prometheus);
# `make test` installs it when it is missing (as root, or with passwordless sudo
# as on GitHub's Ubuntu runners).

.PHONY: promtool

promtool: ## Install promtool (Homebrew or Debian package) for the alert rule tests, if missing
	$(call system-package,promtool,prometheus,prometheus)

test-deps: promtool
