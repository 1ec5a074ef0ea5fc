{{/*
Sign-in mode (tutorial phase 10): the pieces the Deployment includes, and the
checks that refuse a sign-in setup that could not work.
*/}}

{{/* Refuse sign-in values that would fail at run time. */}}
{{- define "mcp-server.validateSignin" -}}
{{- $s := .Values.signin }}
{{- if $s.enabled }}
{{- if not $s.clientId }}
{{- fail "signin.clientId is required with signin.enabled: the client id of the OAuth client you created at the identity provider (docs/tutorial/10-sign-in.md, step 1)" }}
{{- end }}
{{- $replicas := ternary .Values.autoscaling.minReplicas .Values.replicaCount .Values.autoscaling.enabled }}
{{- if and (gt (int $replicas) 1) (not $s.storageUrl) }}
{{- fail (printf "signin.enabled with %d replicas needs signin.storageUrl (a redis:// URL, e.g. Memorystore): without it each pod keeps sign-in flows in its own memory and a flow started on one pod fails on the other. Set signin.storageUrl, or replicaCount=1 with autoscaling off" (int $replicas)) }}
{{- end }}
{{- if and $s.ingress.enabled (not $s.ingress.host) }}
{{- fail "signin.ingress.host is required with signin.ingress.enabled: the public host name browsers reach (server.publicUrl must be https://<host>)" }}
{{- end }}
{{- if and $s.ingress.enabled (ne .Values.server.publicUrl (printf "https://%s" $s.ingress.host)) }}
{{- fail (printf "server.publicUrl must be https://%s when signin.ingress is on: the identity provider sends browsers back to <publicUrl>/auth/callback" $s.ingress.host) }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mcp-server.signinClientSecretName" -}}
{{- .Values.signin.clientSecret.secretName }}
{{- end }}

{{/* The OAuth client secret comes from Secret Manager when the signing key does. */}}
{{- define "mcp-server.signinUsesExternalSecrets" -}}
{{- if and .Values.signin.enabled (include "mcp-server.usesExternalSecrets" .) (eq .Values.externalSecrets.provider "gcpSecretManager") }}true{{ end }}
{{- end }}

{{/* Environment for the server container. */}}
{{- define "mcp-server.signinEnv" -}}
{{- if .Values.signin.enabled }}
- name: MCP_OIDC_CONFIG_URL
  value: {{ .Values.signin.oidcConfigUrl | quote }}
- name: MCP_OIDC_CLIENT_ID
  value: {{ .Values.signin.clientId | quote }}
- name: MCP_OIDC_CLIENT_SECRET_FILE
  value: /var/run/secrets/mcp-oauth/client-secret
- name: MCP_SCOPE_POLICY_FILE
  value: /etc/mcp/policy/policy.yaml
{{- with .Values.signin.storageUrl }}
- name: MCP_OAUTH_STORAGE_URL
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mcp-server.signinVolumeMounts" -}}
{{- if .Values.signin.enabled }}
- name: oauth-client-secret
  mountPath: /var/run/secrets/mcp-oauth
  readOnly: true
- name: scope-policy
  mountPath: /etc/mcp/policy
  readOnly: true
{{- end }}
{{- end }}

{{- define "mcp-server.signinVolumes" -}}
{{- if .Values.signin.enabled }}
- name: oauth-client-secret
  secret:
    secretName: {{ include "mcp-server.signinClientSecretName" . }}
    defaultMode: 288  # 0440
    items:
      - key: client-secret
        path: client-secret
- name: scope-policy
  configMap:
    name: {{ include "mcp-server.fullname" . }}-scope-policy
    defaultMode: 288  # 0440
{{- end }}
{{- end }}
