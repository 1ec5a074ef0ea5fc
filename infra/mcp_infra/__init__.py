"""CDK Terrain constructs for the Secure MCP Server on Google Cloud (tutorial phase 5).

One module per concern; `stack.py` composes them. `settings.py` declares the
settings, `rules.py` what they may hold, `config.py` loads and validates them
and `settings_doc.py` renders their documentation: none of these four imports
anything from CDK Terrain.
"""
