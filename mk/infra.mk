# Phase 5: Google Cloud infrastructure as CDK Terrain stacks (infra/).
#
# `make synth` installs the CDK Terrain packages (cdktn, cdktn-provider-google;
# hundreds of MB, so only this target and `make test` pull them in) and writes
# the Terraform JSON to infra/cdktf.out/stacks/<stack>/cdk.tf.json.
# The learner's settings come from infra/config.toml (copy config.example.toml)
# or the file named by MCP_INFRA_CONFIG; see infra/README.md.

INFRA_STAMP := $(VENV)/.infra-installed

.PHONY: synth infra-install checkov-infra

# Only the venv is needed first: infra.txt is compiled against dev.txt's pins, so
# the shared packages agree whichever of the two is installed first.
$(INFRA_STAMP): requirements/infra.txt | $(UV)
	@echo "==> Installing CDK Terrain (cdktn, cdktn-provider-google) into $(VENV)"
	$(UV_INSTALL) -r requirements/infra.txt
	@touch $@

infra-install: $(INFRA_STAMP) ## Install the CDK Terrain packages into .venv

synth: $(INFRA_STAMP) ## Synthesize the Google Cloud stacks into infra/cdktf.out
	@echo "==> Synthesizing infra/ (config: $${MCP_INFRA_CONFIG:-infra/config.toml})"
	cd infra && ../$(BIN)/python main.py
	@echo "==> Wrote $${CDKTF_OUTDIR:-infra/cdktf.out}/stacks/*/cdk.tf.json:"
	@ls -1 "$${CDKTF_OUTDIR:-infra/cdktf.out}/stacks"

checkov-infra: synth tools ## Scan the synthesized stacks with checkov (needs make tools)
	.tools/bin/checkov --config-file infra/.checkov.yaml --quiet \
	  --directory infra/cdktf.out/stacks

# The infra tests (tests/infra) synthesize the stacks, so `make test` needs cdktn.
test-deps: $(INFRA_STAMP)
