{{/*
Names, labels and the checks that make a misconfiguration fail at render time
(helm template, ArgoCD's sync) instead of as a crash-looping pod.
*/}}

{{- define "mcp-server.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release name (mcp-server), unless overridden. */}}
{{- define "mcp-server.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "mcp-server.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "mcp-server.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "mcp-server.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels: only name and instance, which never change for a release,
because a Deployment's selector is immutable.
*/}}
{{- define "mcp-server.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mcp-server.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The recommended app.kubernetes.io labels, on every object. */}}
{{- define "mcp-server.labels" -}}
{{ include "mcp-server.selectorLabels" . }}
app.kubernetes.io/version: {{ include "mcp-server.imageTag" . | quote }}
app.kubernetes.io/component: server
app.kubernetes.io/part-of: secure-mcp-server
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "mcp-server.chart" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "mcp-server.serviceAccountName" -}}
{{- default (include "mcp-server.fullname" .) .Values.serviceAccount.name }}
{{- end }}

{{- define "mcp-server.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* repository@digest when a digest is set (it pins the exact bytes), else repository:tag. */}}
{{- define "mcp-server.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (include "mcp-server.imageTag" .) }}
{{- end }}
{{- end }}

{{- define "mcp-server.usesExternalSecrets" -}}
{{- if eq .Values.signingKey.source "externalSecrets" }}true{{ end }}
{{- end }}

{{- define "mcp-server.secretStoreName" -}}
{{- printf "%s-%s" (include "mcp-server.fullname" .) (.Values.externalSecrets.provider | kebabcase) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The replica count that counts for the PDB: the HPA's floor when it scales. */}}
{{- define "mcp-server.minReplicas" -}}
{{- if .Values.autoscaling.enabled }}{{ .Values.autoscaling.minReplicas }}{{ else }}{{ .Values.replicaCount }}{{ end }}
{{- end }}

{{/*
Checks across values that a JSON schema cannot express well. Each message says
what to change. Included once, from the Deployment.
*/}}
{{- define "mcp-server.validate" -}}
{{- $tag := include "mcp-server.imageTag" . }}
{{- if eq $tag "latest" }}
{{- fail "image.tag must not be \"latest\": pin a version (and ideally image.digest) so rollouts and rollbacks are reproducible" }}
{{- end }}
{{- $placeholder := "PROJECT_ID" }}
{{- $gcp := .Values.externalSecrets.gcpSecretManager }}
{{- range $what, $value := dict "image.repository" .Values.image.repository "serviceAccount.gcpServiceAccount" .Values.serviceAccount.gcpServiceAccount "externalSecrets.gcpSecretManager.projectID" $gcp.projectID }}
{{- if contains $placeholder $value }}
{{- fail (printf "%s still holds the placeholder %s (%q): replace it with your Google Cloud project id in values-gke.yaml (docs/tutorial/06-helm-external-secrets.md, step 1)" $what $placeholder $value) }}
{{- end }}
{{- end }}
{{- if include "mcp-server.usesExternalSecrets" . }}
{{- if eq .Values.externalSecrets.provider "gcpSecretManager" }}
{{- if not (regexMatch "^[a-z][a-z0-9-]{4,28}[a-z0-9]$" $gcp.projectID) }}
{{- fail (printf "externalSecrets.gcpSecretManager.projectID must be your Google Cloud project id (6-30 lowercase letters, digits, hyphens), got %q" $gcp.projectID) }}
{{- end }}
{{- if not .Values.serviceAccount.gcpServiceAccount }}
{{- fail "serviceAccount.gcpServiceAccount is required with the gcpSecretManager provider: ESO authenticates as the chart's KSA through Workload Identity, which needs the GSA annotation" }}
{{- end }}
{{- /* infra/ owns these names; values-gke.yaml spells them, the chart's defaults do not. */}}
{{- range $name, $output := dict "secretId" "secret_id" "clusterName" "cluster_name" "clusterLocation" "cluster_location" }}
{{- if not (get $gcp $name) }}
{{- fail (printf "externalSecrets.gcpSecretManager.%s is required with the gcpSecretManager provider: set it to infra/'s terraform output %s, as values-gke.yaml does" $name $output) }}
{{- end }}
{{- end }}
{{- if and .Values.signingKey.previousKey (not $gcp.previousVersion) }}
{{- fail "signingKey.previousKey needs externalSecrets.gcpSecretManager.previousVersion (the Secret Manager version of the old key)" }}
{{- end }}
{{- else }}
{{- if lt (len .Values.externalSecrets.fake.signingKey) 32 }}
{{- fail "externalSecrets.fake.signingKey must be at least 32 bytes: pass it with --set-file externalSecrets.fake.signingKey=.dev/jwt-secret" }}
{{- end }}
{{- if and .Values.signingKey.previousKey (lt (len .Values.externalSecrets.fake.previousSigningKey) 32) }}
{{- fail "signingKey.previousKey with the fake provider needs externalSecrets.fake.previousSigningKey (at least 32 bytes)" }}
{{- end }}
{{- end }}
{{- end }}
{{- $preStop := int (include "mcp-server.preStopSeconds" . | default "0") }}
{{- $needed := add .Values.server.shutdownDrainSeconds .Values.server.shutdownTimeoutSeconds $preStop }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must exceed server.shutdownDrainSeconds + server.shutdownTimeoutSeconds%s (%v), or Kubernetes kills pods mid-drain" .Values.terminationGracePeriodSeconds (ternary " + signin.ingress.preStopSleepSeconds" "" (gt $preStop 0)) $needed) }}
{{- end }}
{{- if and .Values.autoscaling.enabled (lt (int .Values.autoscaling.maxReplicas) (int .Values.autoscaling.minReplicas)) }}
{{- fail "autoscaling.maxReplicas must be at least autoscaling.minReplicas" }}
{{- end }}
{{- end }}

{{/* Seconds of the preStop sleep: only behind the Ingress, empty otherwise. */}}
{{- define "mcp-server.preStopSeconds" -}}
{{- if and .Values.signin.enabled .Values.signin.ingress.enabled (gt (int .Values.signin.ingress.preStopSleepSeconds) 0) }}{{ .Values.signin.ingress.preStopSleepSeconds }}{{ end }}
{{- end }}

{{/*
Where the pods find the mounted files. One definition each, used by the
volumes, the mounts and the MCP_* variables alike.
*/}}
{{- define "mcp-server.keyDir" -}}/var/run/secrets/mcp{{- end }}
{{- define "mcp-server.denylistDir" -}}/etc/mcp/denylist{{- end }}
{{- define "mcp-server.denylistKey" -}}revoked-token-ids{{- end }}
{{- define "mcp-server.documentsDir" -}}/etc/mcp/documents{{- end }}

{{/*
"true" when values override the documents (the schema makes public and
confidential come together); otherwise the server reads the ones bundled in
the image and the chart renders no ConfigMap, mount or MCP_DOCUMENTS_DIR.
*/}}
{{- define "mcp-server.customDocuments" -}}
{{- if .Values.documents.public }}true{{ end }}
{{- end }}

{{/*
The restricted Pod Security profile, written once around the two ids in
values.yaml (securityContext). The pod level sets who the process is and the
group that may read the mounted files; the container level removes what a
compromised process could use to escalate. Nothing here is a value: weakening
the profile needs a change to the chart, not an override.
*/}}
{{- define "mcp-server.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
# Mounted Secret and ConfigMap files are group-readable (0440) by this gid.
fsGroup: {{ .Values.securityContext.runAsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "mcp-server.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}
