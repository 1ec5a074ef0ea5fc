"""The names of sign-in's Google Cloud resources (phase 10), one place for each.

The chart's defaults (helm/mcp-server/values.yaml, `signin.*`) spell the same
names out, because a learner reads them there; tests/infra/test_defaults_agree.py
fails when the two differ. Imports nothing from CDK Terrain.
"""

from __future__ import annotations

# The global address, the certificate, the SSL policy, the Cloud Armor policy and
# the Memorystore instance share one name: what they are is in their type.
NAME = "mcp-signin"
# Secret Manager secret ids (names of containers; no value is ever here).
OAUTH_CLIENT_SECRET_ID = "mcp-oauth-client-secret"  # noqa: S105
REDIS_AUTH_SECRET_ID = "mcp-redis-auth"  # noqa: S105
REDIS_CA_SECRET_ID = "mcp-redis-ca"  # noqa: S105
# Memorystore for Redis with in-transit encryption listens here (6379 without).
REDIS_TLS_PORT = 6378
# The OAuth endpoints FastMCP's OIDCProxy serves; Cloud Armor counts requests to them.
OAUTH_PATHS = ("/authorize", "/token", "/register", "/consent", "/auth/callback")
