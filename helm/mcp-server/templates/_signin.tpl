{{/*
Sign-in mode (tutorial phase 10): the pieces the Deployment, the NetworkPolicy
and the Ingress include, and the checks that refuse a sign-in setup that could
not work.
*/}}

{{/* Refuse sign-in values that would fail at run time. */}}
{{- define "mcp-server.validateSignin" -}}
{{- $s := .Values.signin }}
{{- if $s.enabled }}
{{- if not $s.clientId }}
{{- fail "signin.clientId is required with signin.enabled: the client id of the OAuth client you created at the identity provider (docs/tutorial/10-sign-in.md, step 1)" }}
{{- end }}
{{- $replicas := ternary .Values.autoscaling.minReplicas .Values.replicaCount .Values.autoscaling.enabled }}
{{- if and (gt (int $replicas) 1) (not $s.redis.host) }}
{{- fail (printf "signin.enabled with %d replicas needs signin.redis.host (Memorystore's address, terraform output signin_redis_host): without it each pod keeps sign-in flows in its own memory and a flow started on one pod fails on the other. Set signin.redis.host, or replicaCount=1 with autoscaling off" (int $replicas)) }}
{{- end }}
{{- if $s.ingress.enabled }}
{{- if not $s.ingress.host }}
{{- fail "signin.ingress.host is required with signin.ingress.enabled: the public host name browsers reach (infra's signin_host; server.publicUrl must be https://<host>)" }}
{{- end }}
{{- if ne .Values.server.publicUrl (printf "https://%s" $s.ingress.host) }}
{{- fail (printf "server.publicUrl must be https://%s when signin.ingress is on: the identity provider sends browsers back to <publicUrl>/auth/callback" $s.ingress.host) }}
{{- end }}
{{- if not $s.ingress.staticIpAddress }}
{{- fail "signin.ingress.staticIpAddress is required with signin.ingress.enabled (terraform output signin_address): the load balancer adds it to X-Forwarded-For, and without trusting it every client would look like the load balancer to the rate limits" }}
{{- end }}
{{- if not (or $s.ingress.preSharedCertificate $s.ingress.tlsSecretName) }}
{{- fail "signin.ingress needs a certificate: signin.ingress.preSharedCertificate (infra/ creates mcp-signin) or signin.ingress.tlsSecretName" }}
{{- end }}
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

{{/* "true" when the pods use the shared store. */}}
{{- define "mcp-server.redisEnabled" -}}
{{- if and .Values.signin.enabled .Values.signin.redis.host }}true{{ end }}
{{- end }}

{{/* "true" when the store needs the Secret (an AUTH string, a CA, or both). */}}
{{- define "mcp-server.redisSecretEnabled" -}}
{{- $r := .Values.signin.redis }}
{{- if and (include "mcp-server.redisEnabled" .) (or $r.auth $r.tls) }}true{{ end }}
{{- end }}

{{/* The store's URL: address and port only. The AUTH string is a file, never in it. */}}
{{- define "mcp-server.redisUrl" -}}
{{- $r := .Values.signin.redis }}
{{- printf "%s://%s:%d/%d" (ternary "rediss" "redis" $r.tls) $r.host (int $r.port) (int $r.database) }}
{{- end }}

{{- define "mcp-server.redisDir" -}}/var/run/secrets/mcp-redis{{- end }}

{{/*
Google's load balancer and health-check ranges: the source addresses of every
request the Ingress sends to a pod (container-native load balancing sends
straight to pod IPs). https://cloud.google.com/load-balancing/docs/health-check-concepts#ip-ranges
*/}}
{{- define "mcp-server.loadBalancerRanges" -}}
35.191.0.0/16,130.211.0.0/22
{{- end }}

{{/* The paths the Ingress routes: what browsers and MCP clients need, nothing else. */}}
{{- define "mcp-server.publicPaths" -}}
/mcp,/.well-known/oauth-protected-resource,/.well-known/oauth-protected-resource/mcp,/.well-known/oauth-authorization-server,/authorize,/token,/register,/consent,/auth/callback
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
{{- if include "mcp-server.redisEnabled" . }}
- name: MCP_OAUTH_STORAGE_URL
  value: {{ include "mcp-server.redisUrl" . | quote }}
# The same store counts the rate limits, so they hold across replicas.
- name: MCP_RATE_LIMIT_STORAGE_URL
  value: {{ include "mcp-server.redisUrl" . | quote }}
{{- if .Values.signin.redis.auth }}
- name: MCP_REDIS_PASSWORD_FILE
  value: {{ include "mcp-server.redisDir" . }}/password
{{- end }}
{{- if .Values.signin.redis.tls }}
- name: MCP_REDIS_CA_FILE
  value: {{ include "mcp-server.redisDir" . }}/ca.crt
{{- end }}
{{- end }}
{{- if .Values.signin.ingress.enabled }}
# Only Google's front ends may say who the client is: they send
# X-Forwarded-For: <client>, <the load balancer's address>.
- name: MCP_FORWARDED_ALLOW_IPS
  value: {{ printf "%s,%s" (include "mcp-server.loadBalancerRanges" .) .Values.signin.ingress.staticIpAddress | quote }}
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
{{- if include "mcp-server.redisSecretEnabled" . }}
- name: redis
  mountPath: {{ include "mcp-server.redisDir" . }}
  readOnly: true
{{- end }}
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
{{- if include "mcp-server.redisSecretEnabled" . }}
- name: redis
  secret:
    secretName: {{ .Values.signin.redis.secretName }}
    defaultMode: 288  # 0440
    items:
      {{- if .Values.signin.redis.auth }}
      - key: password
        path: password
      {{- end }}
      {{- if .Values.signin.redis.tls }}
      - key: ca.crt
        path: ca.crt
      {{- end }}
{{- end }}
{{- end }}
{{- end }}
