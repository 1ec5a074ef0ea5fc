# Phase 10: sign-in through an identity provider (app/signin.py, tests/signin/).
#
# The sign-in tests start a real redis-server (Homebrew or Debian package) to share the
# OAuth proxy's state between two server processes, as Memorystore does
# between replicas on GKE. `make test` installs it when it is missing.

.PHONY: redis-server

redis-server: ## Install redis-server (Homebrew or Debian package) for the sign-in tests, if missing
	$(call system-package,redis-server,redis,redis-server)

test-deps: redis-server
