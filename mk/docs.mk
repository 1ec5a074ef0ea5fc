# The docs' cloud commands are parsed by the real CLIs (tests/docs/test_cli_parse.py):
# gcloud and kubectl come with the machine (phase 5 installs them); gh is the
# Debian package here. Without gh, the test skips its gh commands (fails under CI=true).

.PHONY: gh-cli

gh-cli: ## Install GitHub's gh (Debian package) for the docs' command check, if missing
	$(call system-package,gh,,gh,the docs' gh commands go unchecked)

test-deps: gh-cli
