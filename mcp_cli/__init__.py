"""Command-line tools for learners and operators: mcp-token, mcp-key, mcp-client, mcp-verify."""
