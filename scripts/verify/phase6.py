"""Phase 6, the chart: it lints and renders as ArgoCD will, and (live) the release runs."""

from __future__ import annotations

from typing import Any

from .chart import (
    CHART,
    VALUES_DEV,
    deployment_of,
    gke_values,
    helm_template,
    render_chart,
    workload,
)
from .cloud import deployed_token, kubectl, port_forward
from .files import load_yaml_all
from .framework import CheckFailed, Context, check, declare_phase
from .infra import infra_config, namespace
from .process import client, expect_output

declare_phase(6, "06-helm-external-secrets.md")

LIVE_K8S = "`gcloud container clusters get-credentials` (phase 5), then docs/tutorial/06"


@check(phase=6, title="helm lint --strict passes with values-gke.yaml", hint="`make chart`")
def helm_lint(ctx: Context) -> None:
    gke_values(ctx)
    ctx.run(
        ctx.tool("helm"), "lint", "--strict", CHART,
        "--values", str(ctx.scratch / "values-gke.yaml"),
        timeout=120,
    )  # fmt: skip


@check(
    phase=6,
    title="values-dev.yaml renders without ESO, values-gke.yaml with it",
    hint="`make -s chart-render`",
)
def chart_renders_both_paths(ctx: Context) -> None:
    dev = helm_template(ctx, "--namespace", namespace(ctx), "--values", VALUES_DEV)
    dev_kinds = {str(m.get("kind")) for m in load_yaml_all(dev.stdout)}
    gke_kinds = {str(m.get("kind")) for m in render_chart(ctx)}
    if "Deployment" not in dev_kinds or "ExternalSecret" in dev_kinds:
        raise CheckFailed(f"values-dev.yaml renders {sorted(dev_kinds)}")
    if not {"Deployment", "ExternalSecret", "SecretStore"} <= gke_kinds:
        raise CheckFailed(f"values-gke.yaml renders {sorted(gke_kinds)}")


@check(
    phase=6,
    title="the values schema refuses a typo and the latest tag",
    hint="helm/mcp-server/values.schema.json",
)
def schema_rejects_typos(ctx: Context) -> None:
    typo = helm_template(ctx, "--set", "replicaCuont=3", check=False)
    if (
        typo.returncode == 0
        or "additional properties 'replicaCuont' not allowed" not in typo.stderr
    ):
        raise CheckFailed("a misspelled value (replicaCuont) renders without an error")
    latest = helm_template(ctx, "--set", "image.tag=latest", check=False)
    if latest.returncode == 0 or 'image.tag must not be "latest"' not in latest.stderr:
        raise CheckFailed("image.tag=latest renders without an error")


@check(
    phase=6,
    title="two replicas spread over nodes, probes on /health and /ready",
    hint="`make chart`",
)
def chart_renders_two_spread_replicas(ctx: Context) -> None:
    spec = deployment_of(render_chart(ctx))["spec"]
    if spec.get("replicas") != 2:
        raise CheckFailed(f"replicas is {spec.get('replicas')}, not 2")
    keys = {
        c.get("topologyKey") for c in spec["template"]["spec"].get("topologySpreadConstraints", [])
    }
    if "kubernetes.io/hostname" not in keys:
        raise CheckFailed("no topology spread over kubernetes.io/hostname")
    container = spec["template"]["spec"]["containers"][0]
    probes = {
        probe: container.get(probe, {}).get("httpGet", {}).get("path")
        for probe in ("livenessProbe", "readinessProbe")
    }
    if probes != {"livenessProbe": "/health", "readinessProbe": "/ready"}:
        raise CheckFailed(f"probes are {probes}")


@check(
    phase=6,
    title="the pods read the Secret the ExternalSecret writes",
    hint="`make chart`",
)
def chart_reads_the_secret_eso_writes(ctx: Context) -> None:
    manifests = render_chart(ctx)
    targets = {m["spec"]["target"]["name"] for m in manifests if m.get("kind") == "ExternalSecret"}
    if not targets:
        raise CheckFailed("values-gke.yaml renders no ExternalSecret")
    pod = deployment_of(manifests)["spec"]["template"]["spec"]
    read = {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
    if not targets & read:
        raise CheckFailed(f"ExternalSecret writes {sorted(targets)}, the pods read {sorted(read)}")


@check(
    phase=6,
    title="values-gke.yaml matches the infra outputs",
    hint="docs/tutorial/06-helm-external-secrets.md, step A1",
)
def values_match_infra(ctx: Context) -> None:
    cfg = infra_config(ctx)
    values = gke_values(ctx)
    expected = {
        "image.repository": f"{cfg.registry_url}/mcp-server",
        "serviceAccount.gcpServiceAccount": cfg.service_account_email(cfg.app_service_account_id),
        "externalSecrets.gcpSecretManager.projectID": cfg.project_id,
        "externalSecrets.gcpSecretManager.secretId": cfg.secret_id,
        "externalSecrets.gcpSecretManager.clusterName": cfg.cluster_name,
        "externalSecrets.gcpSecretManager.clusterLocation": cfg.zone,
    }
    wrong = []
    for dotted, want in expected.items():
        node: Any = values
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node != want:
            wrong.append(f"{dotted} is {node!r}, infra says {want!r}")
    if wrong:
        raise CheckFailed("; ".join(wrong), hint="copy the terraform outputs into values-gke.yaml")


@check(phase=6, title="the Deployment has 2 ready replicas", hint=LIVE_K8S, live=True)
def live_deployment_ready(ctx: Context) -> None:
    deployed = workload(ctx)
    ready = kubectl(
        ctx, "-n", deployed.namespace, "get", "deployment", deployed.deployment,
        "-o", "jsonpath={.status.readyReplicas}",
    )  # fmt: skip
    if ready != "2":
        raise CheckFailed(f"{ready or 0} of 2 replicas are ready")


@check(
    phase=6,
    title="the ExternalSecret synced the key into Secret mcp-jwt-signing-key",
    hint="kubectl -n mcp-prototype describe externalsecret",
    live=True,
)
def live_external_secret_synced(ctx: Context) -> None:
    deployed = workload(ctx)
    reason = kubectl(
        ctx, "-n", deployed.namespace, "get", "externalsecret", deployed.external_secret, "-o",
        'jsonpath={.status.conditions[?(@.type=="Ready")].reason}',
    )  # fmt: skip
    if reason != "SecretSynced":
        raise CheckFailed(f"the ExternalSecret's Ready reason is {reason or 'missing'}")
    owner = kubectl(
        ctx, "-n", deployed.namespace, "get", "secret", deployed.secret,
        "-o", "jsonpath={.metadata.ownerReferences[0].kind}",
    )  # fmt: skip
    if owner != "ExternalSecret":
        raise CheckFailed(f"Secret {deployed.secret} is owned by {owner or 'nobody'}")


@check(
    phase=6,
    title="the pods run on two nodes",
    hint="kubectl -n mcp-prototype get pods -o wide",
    live=True,
)
def live_pods_on_two_nodes(ctx: Context) -> None:
    deployed = workload(ctx)
    nodes = kubectl(
        ctx, "-n", deployed.namespace, "get", "pods", "-l", deployed.selector,
        "-o", "jsonpath={range .items[*]}{.spec.nodeName}{'\\n'}{end}",
    ).split()  # fmt: skip
    if len(set(nodes)) < 2:
        raise CheckFailed(f"the pods run on {sorted(set(nodes))}")


@check(
    phase=6,
    title="through a port-forward, a public:read token lists get_public_info",
    hint="docs/tutorial/06-helm-external-secrets.md (port-forward and token steps)",
    live=True,
)
def live_public_token_through_port_forward(ctx: Context) -> None:
    token = deployed_token(ctx, "public:read", sub="verify-phase-6")
    with port_forward(ctx) as url:
        expect_output(client(ctx, url, token, "list"), ["get_public_info"], "public list")
