"""Phase 8, ArgoCD: the Application tracks the chart on main, and (live) it is in sync."""

from __future__ import annotations

from .chart import CHART, application
from .cloud import kubectl
from .files import load_yaml, load_yaml_all
from .framework import CheckFailed, CheckSkipped, Context, check, declare_phase, repeat
from .infra import infra_config, namespace
from .phase6 import live_deployment_ready

declare_phase(8, "08-argocd.md")


@check(
    phase=8,
    title="the Application and AppProject are ArgoCD resources",
    hint="`make chart` validates them",
)
def argocd_manifests_valid(ctx: Context) -> None:
    for name in ("application.yaml", "project.yaml"):
        docs = load_yaml_all(ctx.path(f"argocd/{name}").read_text())
        if not docs or any(d.get("apiVersion") != "argoproj.io/v1alpha1" for d in docs):
            raise CheckFailed(f"argocd/{name} is not an argoproj.io/v1alpha1 resource")


@check(
    phase=8,
    title="the Application tracks helm/mcp-server on main with values-gke.yaml",
    hint="docs/tutorial/08-argocd.md",
)
def application_tracks_chart(ctx: Context) -> None:
    spec = application(ctx)["spec"]
    source = spec["source"]
    wrong = []
    if source.get("path") != str(CHART):
        wrong.append(f"path {source.get('path')!r}")
    if source.get("targetRevision") != "main":
        wrong.append(f"targetRevision {source.get('targetRevision')!r}")
    if "values-gke.yaml" not in source.get("helm", {}).get("valueFiles", []):
        wrong.append("values-gke.yaml is not a value file")
    if spec["destination"].get("namespace") != namespace(ctx):
        wrong.append(f"namespace {spec['destination'].get('namespace')!r}")
    automated = spec.get("syncPolicy", {}).get("automated", {})
    if not (automated.get("prune") and automated.get("selfHeal")):
        wrong.append("automated sync without prune and selfHeal")
    if wrong:
        raise CheckFailed("; ".join(wrong))


@check(
    phase=8,
    title="the kind Application uses values-dev.yaml",
    hint="docs/tutorial/08-argocd.md",
)
def kind_application_uses_dev_values(ctx: Context) -> None:
    path = ctx.path("argocd/application-kind.yaml")
    files = load_yaml(path)["spec"]["source"].get("helm", {}).get("valueFiles", [])
    if files != ["values-dev.yaml"]:
        raise CheckFailed(f"{path.name} uses {files}, not [values-dev.yaml]")


@check(
    phase=8,
    title="the Application points at your repository",
    hint="set repoURL in argocd/application.yaml",
)
def application_points_at_your_fork(ctx: Context) -> None:
    cfg = infra_config(ctx)
    if ctx.cache.get("infra_demo"):
        raise CheckSkipped("needs infra/config.toml (phase 5) to know your repository")
    repo = application(ctx)["spec"]["source"]["repoURL"]
    want = f"github.com/{cfg.github_owner}/{cfg.github_repository}"
    # https://github.com/OWNER/REPO.git, or git@github.com:OWNER/REPO.git once
    # a private fork reads over SSH (step 4).
    if want not in repo.replace("github.com:", "github.com/"):
        raise CheckFailed(f"repoURL is {repo}, your repository is {want}")


def application_status(ctx: Context, jsonpath: str) -> str:
    """A field of the deployed Application's status, by kubectl jsonpath."""
    metadata = application(ctx)["metadata"]
    return kubectl(
        ctx, "-n", metadata["namespace"], "get", "application", metadata["name"],
        "-o", f"jsonpath={jsonpath}",
    )  # fmt: skip


@check(
    phase=8,
    title="the Application is Synced and Healthy",
    hint="argocd app get mcp-server",
    live=True,
)
def live_application_synced(ctx: Context) -> None:
    state = application_status(ctx, "{.status.sync.status} {.status.health.status}")
    if state != "Synced Healthy":
        raise CheckFailed(f"the Application is {state or 'missing'}")


@check(
    phase=8,
    title="ArgoCD synced the head of origin/main",
    hint="kubectl -n argocd annotate application mcp-server argocd.argoproj.io/refresh=normal",
    live=True,
)
def live_application_at_main(ctx: Context) -> None:
    revision = application_status(ctx, "{.status.sync.revision}")
    ctx.run("git", "fetch", "--quiet", "origin", "main", timeout=120)
    head = ctx.run("git", "rev-parse", "origin/main").stdout.strip()
    if revision != head:
        raise CheckFailed(f"ArgoCD synced {revision[:12] or 'nothing'}, origin/main is {head[:12]}")


repeat(live_deployment_ready, phase=8)  # ArgoCD's rollout leaves both replicas ready
