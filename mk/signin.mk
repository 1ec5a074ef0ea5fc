# Phase 10: sign-in through an identity provider (app/signin.py, tests/signin/).
#
# The sign-in tests start a real redis-server (Debian package) to share the
# OAuth proxy's state between two server processes, as Memorystore does
# between replicas on GKE. `make test` installs it when it is missing.

.PHONY: redis-server

redis-server: ## Install redis-server (Debian package) for the sign-in tests, if missing
	@command -v redis-server >/dev/null || { echo "Installing redis-server (Debian package)" >&2; \
	  apt-get install -y -qq redis-server >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; } || \
	  { echo "error: install redis-server with your package manager" >&2; exit 1; }; }

test-deps: redis-server
