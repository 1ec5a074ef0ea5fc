"""The tools the server offers: name, the scope each needs, its document and description.

The one registry: the MCP tools, the server's instructions, the scopes the
metadata advertises and the documents the server loads all come from `TOOLS`.
The README's and the reference page's tool tables are checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Tool:
    name: str
    scope: str  # a token needs it to see the tool in tools/list and to call it
    document: str  # the file, in the documents folder, that the tool returns
    description: str


TOOLS: tuple[Tool, ...] = (
    Tool(
        name="get_public_info",
        scope="public:read",
        document="public.md",
        description="Return the project's public information document (markdown).",
    ),
    Tool(
        name="get_confidential_info",
        scope="confidential:read",
        document="confidential.md",
        description="Return the project's confidential document (markdown).",
    ),
)

TOOL_SCOPES: MappingProxyType[str, str] = MappingProxyType({t.name: t.scope for t in TOOLS})

# Advertised in RFC 9728 metadata and challenges.
ALL_SCOPES: tuple[str, ...] = tuple(sorted(set(TOOL_SCOPES.values())))

DOCUMENTS: tuple[str, ...] = tuple(t.document for t in TOOLS)

INSTRUCTIONS = (
    "Reads the project's documents. "
    + "; ".join(f"{t.name} needs the {t.scope} scope" for t in TOOLS)
    + "."
)
