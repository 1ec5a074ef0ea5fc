"""The one table that maps each tool to the scope a token needs to see and call it."""

from __future__ import annotations

from types import MappingProxyType

TOOL_SCOPES: MappingProxyType[str, str] = MappingProxyType(
    {
        "get_public_info": "public:read",
        "get_confidential_info": "confidential:read",
    }
)

# Advertised in RFC 9728 metadata and challenges; derived, never listed twice.
ALL_SCOPES: tuple[str, ...] = tuple(sorted(set(TOOL_SCOPES.values())))
