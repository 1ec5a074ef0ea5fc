"""Secure MCP Server: an MCP server whose tools are guarded by scoped JWT bearer tokens."""

from importlib.metadata import version

# pyproject.toml owns the number; the installed package (the venv's editable
# install, the image's wheel) carries it.
__version__ = version("secure-mcp-server")
