"""Synthesize the Google Cloud stack: `make synth`, or `cdktn synth` (see cdktf.json).

The settings are validated before CDK Terrain is imported, so a bad config.toml
fails in about a second (pydantic's import), not after the provider's, with a
message naming the setting.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from mcp_infra.config import CONFIG_ENV, ConfigError, config_path, load_config  # noqa: E402


def main() -> int:
    # A relative MCP_INFRA_CONFIG means relative to where the command was started.
    if os.environ.get(CONFIG_ENV):
        os.environ[CONFIG_ENV] = str(Path(os.environ[CONFIG_ENV]).resolve())
    # cdktf.out/ is written next to this file, whatever the caller's directory.
    os.chdir(HERE)
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    where = f"region {config.region} (regional)" if config.regional else f"zone {config.zone}"
    print(f"config {config_path()} is valid: project {config.project_id}, {where}")
    print("importing CDK Terrain and the Google provider (the slow part) ...", flush=True)
    from mcp_infra.stack import build_app  # slow: loads the provider's jsii assembly

    app, _stack = build_app(config)
    app.synth()
    print(f"synthesized stack {config.stack_name!r} into {HERE / 'cdktf.out'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
