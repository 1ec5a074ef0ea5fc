"""Synthesize the Google Cloud stack: `make synth`, or `cdktn synth` (see cdktf.json).

The settings are validated before CDK Terrain is imported, so a bad config.toml
fails in a fraction of a second with a message naming the setting.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Run from infra/ whatever the caller's directory: cdktf.out/ is written here.
os.chdir(Path(__file__).resolve().parent)
# Node 20 prints an end-of-life banner at every jsii start; it changes nothing here.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mcp_infra.config import ConfigError, config_path, load_config  # noqa: E402


def main() -> int:
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"config {config_path()} is valid: project {config.project_id}, zone {config.zone}")
    print("importing CDK Terrain and the Google provider (the slow part) ...", flush=True)
    from mcp_infra.stack import build_app  # slow: loads the provider's jsii assembly

    app, _stack = build_app(config)
    app.synth()
    print(f"synthesized stack {config.stack_name!r} into {Path('cdktf.out').resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
