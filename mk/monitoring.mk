# Alert and SLO rules (infra/mcp_infra/monitoring.py, tests/infra/rules/).
#
# tests/infra/test_promtool.py writes the stack's PromQL into a Prometheus rule
# file and runs `promtool test rules` on the cases in tests/infra/rules/.
# promtool ships with Debian's prometheus package (Homebrew: prometheus);
# `make test` installs it when it is missing (as root, or with passwordless sudo
# as on GitHub's Ubuntu runners).

.PHONY: promtool

promtool: ## Install promtool (Homebrew or Debian package) for the alert rule tests, if missing
	@command -v promtool >/dev/null || \
	if [ "$$(uname -s)" = Darwin ] && command -v brew >/dev/null; then \
	  echo "Installing prometheus (Homebrew) for promtool" >&2; brew install prometheus; \
	elif command -v apt-get >/dev/null && { [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then \
	  echo "Installing prometheus (Debian package) for promtool" >&2; \
	  as_root=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
	  $$as_root apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 || \
	  { $$as_root apt-get update -qq && \
	    $$as_root apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }; \
	else echo "error: promtool not found: brew install prometheus (macOS), sudo apt-get install" \
	  "prometheus (Debian, Ubuntu), or a release from prometheus.io/download" >&2; exit 1; fi

test-deps: promtool
