# Phases 6 and 8: the Helm chart (helm/mcp-server) and the ArgoCD objects (argocd/).
#
# `make chart` renders the chart for every values combination (each values
# file and each feature switch) and checks the result with the validators from
# `make tools`: helm lint --strict, kubernetes-validate --strict for GKE's
# Kubernetes versions, the CRD validators, checkov, and the assertions in
# tests/chart. `make chart-render` writes the manifests a learner deploys to
# build/chart/ to read them.

CHART_DIR := helm/mcp-server
CHART_OUT := build/chart
HELM := .tools/bin/helm
# The chart's YAML and the ArgoCD objects follow yamllint's defaults, 100 columns.
YAMLLINT_CHART := {extends: default, rules: {line-length: {max: 100}, document-start: disable, truthy: {check-keys: false}, comments: {min-spaces-from-content: 1}}}
# Stands in for PROJECT_ID in values-gke.yaml when rendering for a look.
CHART_PROJECT ?= my-project-id

.PHONY: chart chart-render lint-chart

chart: tools install ## Render and validate the chart for every values combination
	$(BIN)/pytest tests/chart -q -p no:cacheprovider

chart-render: tools ## Write the rendered manifests (values-dev, values-gke) to build/chart/
	@mkdir -p $(CHART_OUT)
	$(HELM) template mcp-server $(CHART_DIR) --namespace mcp-prototype \
	  --values $(CHART_DIR)/values-dev.yaml > $(CHART_OUT)/dev.yaml
	sed 's/PROJECT_ID/$(CHART_PROJECT)/g' $(CHART_DIR)/values-gke.yaml > $(CHART_OUT)/values-gke.yaml
	$(HELM) template mcp-server $(CHART_DIR) --namespace mcp-prototype \
	  --values $(CHART_OUT)/values-gke.yaml > $(CHART_OUT)/gke.yaml
	@grep -c '^kind:' $(CHART_OUT)/dev.yaml $(CHART_OUT)/gke.yaml | sed 's/:/: objects: /'

lint-chart: tools ## Lint the chart and the ArgoCD objects (helm lint, yamllint)
	$(HELM) lint --strict $(CHART_DIR) --values $(CHART_DIR)/values-dev.yaml
	.tools/bin/yamllint --strict -d '$(YAMLLINT_CHART)' argocd $(CHART_DIR)/Chart.yaml \
	  $(CHART_DIR)/values.yaml $(CHART_DIR)/values-dev.yaml $(CHART_DIR)/values-gke.yaml \
	  helm/.checkov.yaml

lint: lint-chart
