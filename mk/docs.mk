# The docs' cloud commands are parsed by the real CLIs (tests/docs/test_cli_parse.py):
# gcloud and kubectl come with the machine (phase 5 installs them); gh is the
# Debian package here. Without gh, the test skips its gh commands (fails under CI=true).

.PHONY: gh-cli

gh-cli: ## Install GitHub's gh (Debian package) for the docs' command check, if missing
	@command -v gh >/dev/null || \
	if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing gh (Debian package)" >&2; \
	  apt-get install -y -qq gh >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq gh >/dev/null; }; \
	else echo "note: gh not found; the docs' gh commands go unchecked (brew install gh," \
	  "sudo apt-get install gh)" >&2; fi

test-deps: gh-cli
