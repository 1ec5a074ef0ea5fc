"""CDK Terrain constructs for the Secure MCP Server on Google Cloud (tutorial phase 5).

One module per concern; `stack.py` composes them. `config.py` holds the typed,
validated settings and imports nothing from CDK Terrain.
"""
