"""Phase 5, infrastructure: the config, the synthesized stack, and (live) what it created."""

from __future__ import annotations

import json

from .cloud import cluster_args, gcloud_value
from .framework import CheckFailed, Context, check, declare_phase
from .infra import (
    demo_toml,
    infra_config,
    stack_dir,
    stack_output_names,
    terraform_output,
)

declare_phase(5, "05-infrastructure.md")

LIVE_INFRA = "apply the stack (docs/tutorial/05-infrastructure.md) and `gcloud auth login`"


@check(
    phase=5,
    title="the infra config is valid",
    hint="cp infra/config.example.toml infra/config.toml and edit it",
)
def infra_config_valid(ctx: Context) -> None:
    infra_config(ctx)


@check(
    phase=5,
    title="synth writes every output the later phases use",
    hint="`make synth` shows the error",
)
def synth_writes_outputs(ctx: Context) -> None:
    cfg = infra_config(ctx)
    env = {}
    synthesized_dir = stack_dir(ctx)
    if ctx.cache.get("infra_demo"):
        # No config of the learner's yet: synthesize a demo into the scratch
        # directory, leaving infra/cdktf.out alone.
        demo = ctx.scratch / "infra-demo.toml"
        demo.write_text(demo_toml(cfg))
        env["MCP_INFRA_CONFIG"] = str(demo)
        env["CDKTF_OUTDIR"] = str(ctx.scratch / "cdktf.out")
        synthesized_dir = ctx.scratch / "cdktf.out" / "stacks" / cfg.stack_name
    ctx.run("make", "--no-print-directory", "synth", env=env, timeout=600)
    path = synthesized_dir / "cdk.tf.json"
    if not path.is_file():
        raise CheckFailed(f"{path} was not written")
    synthesized = json.loads(path.read_text())
    missing = [
        name for name in stack_output_names(ctx.root) if name not in synthesized.get("output", {})
    ]
    if missing:
        raise CheckFailed(f"the stack has no outputs {missing}")
    text = path.read_text()
    for role in ("roles/owner", "roles/editor"):
        if role in text:
            raise CheckFailed(f"the stack grants {role}")
    providers = synthesized["resource"].get("google_iam_workload_identity_pool_provider", {})
    if not providers or not all(
        "repository_id" in p.get("attribute_condition", "") for p in providers.values()
    ):
        raise CheckFailed("the WIF provider does not restrict tokens to one repository id")
    ctx.cache["synthesized"] = synthesized_dir


@check(
    phase=5,
    title="checkov finds nothing in the synthesized stack",
    hint="`make checkov-infra`",
)
def checkov_clean(ctx: Context) -> None:
    synthesized_dir = ctx.cache.get("synthesized")
    if synthesized_dir is None:
        raise CheckFailed("nothing synthesized to scan", hint="see the synth check above")
    ctx.run(
        ctx.tool("checkov"),
        "--config-file", "infra/.checkov.yaml", "--quiet", "--skip-download",
        "--directory", str(synthesized_dir),
        timeout=600,
    )  # fmt: skip


@check(phase=5, title="terraform has every output", hint=LIVE_INFRA, live=True)
def live_terraform_outputs(ctx: Context) -> None:
    for name in stack_output_names(ctx.root):
        terraform_output(ctx, name)


@check(
    phase=5,
    title="the cluster runs with Workload Identity, private nodes, Dataplane V2",
    hint=LIVE_INFRA,
    live=True,
)
def live_cluster_hardened(ctx: Context) -> None:
    cluster, location = cluster_args(ctx)
    project = terraform_output(ctx, "project_id")
    got = gcloud_value(
        ctx, "container", "clusters", "describe", cluster, "--location", location,
        "--format=value(status,workloadIdentityConfig.workloadPool,"
        "privateClusterConfig.enablePrivateNodes,networkConfig.datapathProvider,"
        "masterAuthorizedNetworksConfig.enabled)",
    )  # fmt: skip
    want = ["RUNNING", f"{project}.svc.id.goog", "True", "ADVANCED_DATAPATH", "True"]
    if got != want:
        raise CheckFailed(f"status, pool, private nodes, datapath, authorized networks: {got}")


@check(
    phase=5,
    title="the nodes are shielded, GKE_METADATA, auto-repaired and upgraded",
    hint=LIVE_INFRA,
    live=True,
)
def live_nodes_hardened(ctx: Context) -> None:
    cluster, location = cluster_args(ctx)
    pools = gcloud_value(
        ctx, "container", "node-pools", "list", "--cluster", cluster, "--location", location,
        "--format=value(name)",
    )  # fmt: skip
    if len(pools) != 1:
        raise CheckFailed(f"node pools: {pools}, expected the one dedicated pool")
    got = gcloud_value(
        ctx, "container", "node-pools", "describe", pools[0], "--cluster", cluster,
        "--location", location,
        "--format=value(config.workloadMetadataConfig.mode,"
        "config.shieldedInstanceConfig.enableSecureBoot,"
        "config.shieldedInstanceConfig.enableIntegrityMonitoring,"
        "management.autoRepair,management.autoUpgrade)",
    )  # fmt: skip
    if got != ["GKE_METADATA", "True", "True", "True", "True"]:
        raise CheckFailed(f"metadata, secure boot, integrity, repair, upgrade: {got}")


@check(phase=5, title="the registry is Docker with immutable tags", hint=LIVE_INFRA, live=True)
def live_registry_exists(ctx: Context) -> None:
    repository = terraform_output(ctx, "registry_url").rsplit("/", 1)[-1]
    got = gcloud_value(
        ctx, "artifacts", "repositories", "describe", repository,
        "--location", terraform_output(ctx, "region"),
        "--format=value(format,dockerConfig.immutableTags)",
    )  # fmt: skip
    if got != ["DOCKER", "True"]:
        raise CheckFailed(f"format and immutable tags: {got}")


@check(
    phase=5,
    title="the signing key secret has an enabled version",
    hint='.venv/bin/mcp-key --project "$PROJECT" create',
    live=True,
)
def live_secret_has_version(ctx: Context) -> None:
    versions = gcloud_value(
        ctx, "secrets", "versions", "list", terraform_output(ctx, "secret_id"),
        "--filter=state=ENABLED", "--format=value(name)",
    )  # fmt: skip
    if not versions:
        raise CheckFailed("the secret has no enabled version")


@check(
    phase=5,
    title="only the app's service account may read the secret",
    hint=LIVE_INFRA,
    live=True,
)
def live_only_app_reads_secret(ctx: Context) -> None:
    members = gcloud_value(
        ctx, "secrets", "get-iam-policy", terraform_output(ctx, "secret_id"),
        "--flatten=bindings[].members", "--format=value(bindings.members)",
    )  # fmt: skip
    want = [f"serviceAccount:{terraform_output(ctx, 'app_service_account')}"]
    if [m for line in members for m in line.split()] != want:
        raise CheckFailed(f"the secret's IAM members are {members}, expected only {want}")


@check(
    phase=5,
    title="the WIF provider admits one repository, by id",
    hint=LIVE_INFRA,
    live=True,
)
def live_wif_admits_one_repository(ctx: Context) -> None:
    condition = ctx.run(
        "gcloud", "iam", "workload-identity-pools", "providers", "describe",
        terraform_output(ctx, "wif_provider"), "--format=value(attributeCondition)",
        timeout=120,
    ).stdout  # fmt: skip
    if "assertion.repository_id ==" not in condition:
        raise CheckFailed(f"the provider's condition does not pin a repository id: {condition}")
