"""Phase 9, end to end: a pushed change reaches the pods, and the tokens still hold.

Four of its checks are earlier phases' checks, run again here because a
rollout could break them; `repeat` lists each at its place in the order.
"""

from __future__ import annotations

import json
import re
import time

from app.catalog import TOOL_SCOPES

from .chart import deployment_of, render_chart, values_image, workload
from .cloud import deployed_token, kubectl, port_forward
from .framework import CheckFailed, Context, check, declare_phase, repeat
from .phase2 import expired_token_refused, public_token_refused_confidential
from .phase6 import live_pods_on_two_nodes
from .phase7 import bump_cannot_trigger_build
from .process import EXPIRED, FORBIDDEN, client, expect_error, expect_output

declare_phase(9, "09-end-to-end.md")

STEP_2 = "docs/tutorial/09-end-to-end.md, step 2"

repeat(bump_cannot_trigger_build, phase=9)


@check(
    phase=9,
    title="with a digest set, the chart runs repository@digest",
    hint="`make chart`",
)
def chart_runs_the_digest(ctx: Context) -> None:
    digest = "sha256:" + "1" * 64
    pod = deployment_of(render_chart(ctx, "--set", f"image.digest={digest}"))["spec"]["template"]
    image = pod["spec"]["containers"][0]["image"]
    if not image.endswith(f"@{digest}"):
        raise CheckFailed(f"with a digest set the chart runs {image}")


repeat(public_token_refused_confidential, phase=9)
repeat(expired_token_refused, phase=9)


@check(
    phase=9,
    title="the pods run the digest in values-gke.yaml",
    hint="wait for ArgoCD, or refresh it (step 1)",
    live=True,
)
def live_pods_run_the_bumped_digest(ctx: Context) -> None:
    _tag, digest = values_image(ctx)
    deployed = workload(ctx)
    ids = kubectl(
        ctx, "-n", deployed.namespace, "get", "pods", "-l", deployed.selector,
        "-o", "jsonpath={range .items[*]}{.status.containerStatuses[0].imageID}{'\\n'}{end}",
    ).split()  # fmt: skip
    stale = [i for i in ids if not i.endswith(digest)]
    if not ids or stale:
        raise CheckFailed(f"pods run {sorted(set(ids))}, values-gke.yaml says {digest}")


@check(
    phase=9,
    title="through a port-forward, each token sees what its scopes allow",
    hint=STEP_2,
    live=True,
)
def live_scoped_calls_through_port_forward(ctx: Context) -> None:
    public = deployed_token(ctx, "public:read", sub="verify-public")
    full = deployed_token(ctx, "public:read,confidential:read", sub="verify-full")
    with port_forward(ctx) as url:
        expect_output(client(ctx, url, public, "list"), ["get_public_info"], "public list")
        expect_output(client(ctx, url, full, "list"), list(TOOL_SCOPES), "full list")
        expect_error(
            client(ctx, url, public, "call", "get_confidential_info"),
            FORBIDDEN.format(scope=TOOL_SCOPES["get_confidential_info"]),
            "public call get_confidential_info",
        )


@check(
    phase=9,
    title="through a port-forward, an expired token gets 401",
    hint=STEP_2,
    live=True,
)
def live_expired_token_refused(ctx: Context) -> None:
    expired = deployed_token(ctx, "public:read", expires_in=1, sub="verify-expired")
    time.sleep(32)  # past the server's 30-second clock-skew leeway
    with port_forward(ctx) as url:
        expect_error(client(ctx, url, expired, "list"), EXPIRED, "list with an expired token")


@check(
    phase=9,
    title="the logs record the denied call, and no token",
    hint="kubectl -n mcp-prototype logs -l app.kubernetes.io/name=mcp-server",
    live=True,
)
def live_logs_record_decisions(ctx: Context) -> None:
    deployed = workload(ctx)
    logs = kubectl(
        ctx, "-n", deployed.namespace, "logs", "-l", deployed.selector,
        "--tail=-1", "--prefix=false",
    )  # fmt: skip
    decisions = [
        json.loads(line)
        for line in logs.splitlines()
        if line.startswith("{") and '"event": "authorization"' in line
    ]
    if not any(
        d.get("subject") == "verify-public" and d.get("decision") == "denied" for d in decisions
    ):
        raise CheckFailed("no denied authorization decision of verify-public in the logs")
    if re.search(r"eyJ[\w-]+\.eyJ[\w-]+\.", logs):
        raise CheckFailed("a JWT appears in the logs")


repeat(live_pods_on_two_nodes, phase=9)
