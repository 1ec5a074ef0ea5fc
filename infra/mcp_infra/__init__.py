"""CDK Terrain constructs for the Secure MCP Server on Google Cloud (tutorial phase 5).

One module per concern; `stack.py` composes them. `settings.py` declares the
settings and what they may hold, `config.py` loads and validates them and
`settings_doc.py` renders their documentation: none of these three imports
anything from CDK Terrain.
"""

import os

# Node 20 prints an end-of-life banner at every jsii start; it changes nothing here.
# Set once, here, because every import of a construct (make synth, the tests, the
# verifier) passes through this package before jsii starts.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
