"""The Helm chart as ArgoCD renders it, and the names kubectl needs from it.

The release name comes from the ArgoCD Application (it deploys the chart);
the namespace from the infra config (Workload Identity binds the KSA there);
the Deployment, Service, selector and Secret names from the rendered chart.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .files import load_yaml, load_yaml_all
from .framework import CheckFailed, Context
from .infra import APPLICATION, VALUES_GKE, infra_config, namespace

CHART = VALUES_GKE.parent
VALUES_DEV = CHART / "values-dev.yaml"


def application(ctx: Context) -> dict[str, Any]:
    """argocd/application.yaml: what ArgoCD deploys, under which release name."""
    data: dict[str, Any] = load_yaml(ctx.path(APPLICATION))
    return data


def release(ctx: Context) -> str:
    """The Helm release name ArgoCD installs the chart under."""
    return str(application(ctx)["spec"]["source"]["helm"]["releaseName"])


def gke_values(ctx: Context) -> dict[str, Any]:
    """values-gke.yaml as the learner deploys it (PROJECT_ID replaced, for a demo config)."""
    cfg = infra_config(ctx)
    text = ctx.path(VALUES_GKE).read_text()
    if ctx.cache.get("infra_demo"):
        text = text.replace("PROJECT_ID", cfg.project_id)
    elif "PROJECT_ID" in text:
        raise CheckFailed(
            f"{VALUES_GKE} still holds the placeholder PROJECT_ID",
            # -i.bak: BSD sed (macOS) needs the suffix that GNU sed takes too.
            hint=(
                f'sed -i.bak "s/PROJECT_ID/{cfg.project_id}/g" {VALUES_GKE}'
                f" && rm {VALUES_GKE}.bak  (phase 6)"
            ),
        )
    path = ctx.scratch / "values-gke.yaml"
    path.write_text(text)
    values: dict[str, Any] = load_yaml(path)
    return values


def helm_template(
    ctx: Context, *args: str | Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`helm template <release> helm/mcp-server ARGS` (the CompletedProcess)."""
    return ctx.run(
        ctx.tool("helm"), "template", release(ctx), CHART, *args, timeout=120, check=check
    )


def render_chart(ctx: Context, *extra: str) -> list[dict[str, Any]]:
    """`helm template` of the chart with values-gke.yaml, as ArgoCD renders it."""
    gke_values(ctx)
    result = helm_template(
        ctx, "--namespace", namespace(ctx), "--values", ctx.scratch / "values-gke.yaml", *extra
    )
    return load_yaml_all(result.stdout)


def rendered(manifests: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """The one manifest of `kind` the chart renders."""
    for manifest in manifests:
        if manifest.get("kind") == kind:
            return manifest
    raise CheckFailed(f"the chart renders no {kind}")


def deployment_of(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    return rendered(manifests, "Deployment")


def values_image(ctx: Context) -> tuple[str, str]:
    image = load_yaml(ctx.path(VALUES_GKE))["image"]
    return str(image.get("tag") or ""), str(image.get("digest") or "")


@dataclass(frozen=True)
class Workload:
    """The deployed objects' names, as the chart renders them with values-gke.yaml."""

    namespace: str
    deployment: str
    service: str
    service_port: int
    selector: str  # the Deployment's pod selector, as `kubectl -l` takes it
    external_secret: str
    secret: str  # the Secret the ExternalSecret writes and the pods mount


def workload(ctx: Context) -> Workload:
    if "workload" not in ctx.cache:
        manifests = render_chart(ctx)
        deployment = deployment_of(manifests)
        service = rendered(manifests, "Service")
        external_secret = rendered(manifests, "ExternalSecret")
        labels = deployment["spec"]["selector"]["matchLabels"]
        ctx.cache["workload"] = Workload(
            namespace=namespace(ctx),
            deployment=deployment["metadata"]["name"],
            service=service["metadata"]["name"],
            service_port=int(service["spec"]["ports"][0]["port"]),
            selector=",".join(f"{key}={value}" for key, value in labels.items()),
            external_secret=external_secret["metadata"]["name"],
            secret=external_secret["spec"]["target"]["name"],
        )
    found: Workload = ctx.cache["workload"]
    return found
