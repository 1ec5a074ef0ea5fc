"""Secure MCP Server: an MCP server whose tools are guarded by scoped JWT bearer tokens."""

__version__ = "0.1.0"
