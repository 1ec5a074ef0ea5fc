"""The phase-5 infrastructure as the checks see it: its config and the stack's outputs.

Names the later phases use (the namespace, the secret id, the stack's
directory, the outputs) are read from here, whose owners are infra/'s config
(`mcp_infra.config`) and the stack (`mcp_infra/stack.py`); nothing is copied.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

from .framework import CheckFailed, Context

# A project id and GitHub owner for rendering and synthesizing when the learner
# has no infra/config.toml (yet, or on CI, where it is never committed).
DEMO_PROJECT = "verify-demo-project"
DEMO_OWNER = "verify-owner"
VALUES_GKE = Path("helm/mcp-server/values-gke.yaml")
APPLICATION = Path("argocd/application.yaml")
STACK_SOURCE = Path("infra/mcp_infra/stack.py")


def infra_module(ctx: Context, name: str) -> Any:
    """A module of infra/mcp_infra that imports nothing from CDK Terrain (config, outputs)."""
    sys.path.insert(0, str(ctx.path("infra")))
    try:
        return importlib.import_module(f"mcp_infra.{name}")
    finally:
        sys.path.pop(0)


def repository_variables(ctx: Context) -> dict[str, str]:
    """GitHub repository variable -> the stack output it is set from (mcp_infra/outputs.py)."""
    variables: dict[str, str] = infra_module(ctx, "outputs").REPOSITORY_VARIABLES
    return variables


def demo_ids(root: Path) -> tuple[str, str]:
    """(project id, GitHub owner) for the demo config: the fork's own, once it has set them.

    Phase 6 writes the project id into values-gke.yaml and phase 8 the GitHub
    user into argocd/; a fork's CI has no infra/config.toml, so a demo built
    from made-up ids would disagree with the committed files.
    """
    project, owner = DEMO_PROJECT, DEMO_OWNER
    values = root / VALUES_GKE
    if values.is_file():
        found = re.search(
            r"^\s*projectID:\s*[\"']?([a-z][a-z0-9-]{4,28}[a-z0-9])\b", values.read_text(), re.M
        )
        if found:  # the placeholder PROJECT_ID is upper case: no project id
            project = found.group(1)
    app = root / APPLICATION
    if app.is_file():
        found = re.search(r"github\.com[/:]([A-Za-z0-9-]+)/", app.read_text())
        if found and found.group(1) != "YOUR_GITHUB_USER":
            owner = found.group(1)
    return project, owner


def infra_config(ctx: Context) -> Any:
    """The learner's infra config (infra/config.toml), or a demo one built from the example.

    The demo (the example's defaults with made-up ids) lets the offline checks
    prove the wiring between infra, chart and workflow before phase 5.
    """
    if "infra_config" in ctx.cache:
        return ctx.cache["infra_config"]
    infra = infra_module(ctx, "config")
    path = infra.config_path()  # infra/config.toml, or $MCP_INFRA_CONFIG
    if path.is_file():
        try:
            cfg = infra.load_config()
        except infra.ConfigError as exc:
            raise CheckFailed(str(exc), hint="fix infra/config.toml (phase 5)") from exc
        ctx.cache["infra_demo"] = False
    else:
        data = tomllib.loads(ctx.path("infra/config.example.toml").read_text())
        project, owner = demo_ids(ctx.root)
        data.update(
            project_id=project,
            state_bucket=f"{project}-tfstate",
            github_owner=owner,
            github_repository="secure-mcp-server",
            github_repository_id=1,
            github_owner_id=2,
            authorized_networks=[{"cidr": "198.51.100.7/32", "name": "verify"}],
        )
        cfg = infra.from_mapping(data, source="config.example.toml with demo values")
        ctx.cache["infra_demo"] = True
    ctx.cache["infra_config"] = cfg
    return cfg


def namespace(ctx: Context) -> str:
    """The Kubernetes namespace the app runs in (Workload Identity binds its KSA there)."""
    return str(infra_config(ctx).k8s_namespace)


def stack_dir(ctx: Context) -> Path:
    """Where `make synth` writes the stack and `terraform` keeps its state."""
    return ctx.path(Path("infra/cdktf.out/stacks") / infra_config(ctx).stack_name)


def stack_output_names(root: Path) -> list[str]:
    """The stack's outputs, as infra/mcp_infra/stack.py names them.

    stack.py declares them in one dict literal, `outputs = {name: (value,
    used_by), ...}`. Reading its keys with `ast` gives the same names without
    importing CDK Terrain, which `make install` does not install.
    """
    path = root / STACK_SOURCE
    if not path.is_file():
        raise CheckFailed(f"{STACK_SOURCE} does not exist")
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "outputs" for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            return [
                key.value
                for key in node.value.keys
                if isinstance(key, ast.Constant) and isinstance(key.value, str)
            ]
    raise CheckFailed(
        f"{STACK_SOURCE} has no `outputs = {{...}}` dict naming the stack's outputs",
        hint="keep the stack's outputs in one dict literal named `outputs`",
    )


def terraform_output(ctx: Context, name: str) -> str:
    outputs = ctx.cache.get("tf_outputs")
    if outputs is None:
        result = ctx.run("terraform", f"-chdir={stack_dir(ctx)}", "output", "-json", timeout=120)
        outputs = {key: value["value"] for key, value in json.loads(result.stdout).items()}
        ctx.cache["tf_outputs"] = outputs
    if name not in outputs:
        raise CheckFailed(f"terraform output {name} is missing", hint="apply the stack (phase 5)")
    return str(outputs[name])


def demo_toml(cfg: Any) -> str:
    """The demo config as TOML, for `make synth` (which reads a file)."""
    lines = [
        f'project_id = "{cfg.project_id}"',
        f'state_bucket = "{cfg.state_bucket}"',
        f'github_owner = "{cfg.github_owner}"',
        f'github_repository = "{cfg.github_repository}"',
        f"github_repository_id = {cfg.github_repository_id}",
        f"github_owner_id = {cfg.github_owner_id}",
        "authorized_networks = ["
        + ", ".join(f'{{ cidr = "{n.cidr}", name = "{n.name}" }}' for n in cfg.authorized_networks)
        + "]",
    ]
    return "\n".join(lines) + "\n"
