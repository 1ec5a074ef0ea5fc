# Phase 10: sign-in through an identity provider (app/signin.py, tests/signin/).
#
# The sign-in tests start a real redis-server (Homebrew or Debian package) to share the
# OAuth proxy's state between two server processes, as Memorystore does
# between replicas on GKE. `make test` installs it when it is missing.

.PHONY: redis-server

redis-server: ## Install redis-server (Homebrew or Debian package) for the sign-in tests, if missing
	@command -v redis-server >/dev/null || \
	if [ "$$(uname -s)" = Darwin ] && command -v brew >/dev/null; then \
	  echo "Installing redis (Homebrew)" >&2; brew install redis; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing redis-server (Debian package)" >&2; \
	  apt-get install -y -qq redis-server >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }; \
	else echo "error: redis-server not found: brew install redis (macOS), sudo apt-get install" \
	  "redis-server (Debian, Ubuntu), or your package manager's redis" >&2; exit 1; fi

test-deps: redis-server
