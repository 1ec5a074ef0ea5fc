"""The stack's Python package (infra/mcp_infra), imported from a checkout.

Its settings and output tables own facts the CLIs need too (the signing key's
secret name, the repository variables). Those modules import pydantic only, never
CDK Terrain, so a CLI reads them without the stack's toolchain.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

# The checkout these CLIs run from (make install's editable install), beside mcp_cli/.
CHECKOUT_INFRA = Path(__file__).resolve().parent.parent / "infra"


def infra_module(name: str, infra: Path = CHECKOUT_INFRA) -> ModuleType:
    """`mcp_infra.<name>` from the `infra` folder, which is not left on sys.path."""
    sys.path.insert(0, str(infra))
    try:
        return importlib.import_module(f"mcp_infra.{name}")
    finally:
        sys.path.remove(str(infra))
