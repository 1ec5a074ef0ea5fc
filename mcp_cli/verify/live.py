"""The live checks' facts, and the live checks that are more than one command.

Each fact is read from its owner, once: the applied stack's terraform outputs,
the ArgoCD Application (what is deployed, in which namespace, under which
release), values-gke.yaml (the image the pipeline bumped), the cluster (the
names the chart gave its objects) and git (origin/main).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.catalog import TOOL_SCOPES
from mcp_cli.infra import infra_module

from .checks import CheckFailed, CheckSkipped, Context, last_lines

VALUES_GKE = "helm/mcp-server/values-gke.yaml"
# The learner's CLIs, as the tutorial runs them: a token signed with the deployed
# key (it is never shown), and the MCP client.
MINT = "mcp-key"
CLIENT = "mcp-client"
PUBLIC_ONLY = ["get_public_info"]


def load_yaml(path: Path) -> Any:
    from ruamel.yaml import YAML  # the dev group, imported late: --help stays quick

    if not path.is_file():
        raise CheckFailed(f"{path} does not exist")
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def resolve(ctx: Context, name: str) -> dict[str, str]:
    """The facts `name` comes with (Command arguments name them as ${name})."""
    if name in {"app_name", "app_namespace", "namespace", "release", "selector"}:
        app = load_yaml(ctx.path("argocd/application.yaml"))
        release = str(app["spec"]["source"]["helm"]["releaseName"])
        return {
            "app_name": app["metadata"]["name"],
            "app_namespace": app["metadata"]["namespace"],
            "namespace": app["spec"]["destination"]["namespace"],
            "release": release,
            "selector": f"app.kubernetes.io/instance={release}",
        }
    if name in {"tag", "digest"}:
        image = load_yaml(ctx.path(VALUES_GKE))["image"]
        return {"tag": str(image.get("tag") or ""), "digest": str(image.get("digest") or "")}
    if name == "origin_main":
        ctx.run("git", "fetch", "--quiet", "origin", "main", timeout=120)
        return {name: ctx.run("git", "rev-parse", "origin/main").stdout.strip()}
    if name in {"service", "service_port", "secret"}:
        found = kubectl(
            ctx, "get", "service,externalsecret", "-l", ctx.facts["selector"], "-o",
            "jsonpath={.items[0].metadata.name} {.items[0].spec.ports[0].port} "
            "{.items[1].spec.target.name}",
        ).split()  # fmt: skip
        if len(found) != 3:
            raise CheckFailed(f"no Service and ExternalSecret of {ctx.facts['selector']}: {found}")
        return dict(zip(("service", "service_port", "secret"), found, strict=True))
    facts = {key: str(value["value"]) for key, value in terraform_outputs(ctx).items()}
    facts["registry_name"] = facts.get("registry_url", "").rsplit("/", 1)[-1]
    return facts


def stack_dir(ctx: Context) -> Path:
    """The synthesized stack terraform was applied from (infra/cdktf.out/stacks/NAME)."""
    stacks = sorted(p for p in ctx.path("infra/cdktf.out/stacks").glob("*") if p.is_dir())
    if len(stacks) != 1:
        raise CheckFailed(
            f"expected one synthesized stack, found {[p.name for p in stacks]}",
            hint="`make synth`, then apply (docs/tutorial/05-infrastructure.md)",
        )
    return stacks[0]


def terraform_outputs(ctx: Context) -> dict[str, Any]:
    result = ctx.run("terraform", f"-chdir={stack_dir(ctx)}", "output", "-json", timeout=120)
    outputs: dict[str, Any] = json.loads(result.stdout)
    return outputs


def kubectl(ctx: Context, *args: str) -> str:
    return ctx.run("kubectl", "-n", ctx.facts["namespace"], *args, timeout=60).stdout.strip()


# --- phase 5 ---------------------------------------------------------------------------


def terraform_has_every_output(ctx: Context) -> None:
    declared = json.loads((stack_dir(ctx) / "cdk.tf.json").read_text()).get("output", {})
    missing = sorted(set(declared) - set(terraform_outputs(ctx)))
    if missing:
        raise CheckFailed(f"terraform has no outputs {missing}")


# --- phase 6 ---------------------------------------------------------------------------

# values-gke.yaml's fields that step A1 copies from the terraform outputs.
COPIED_OUTPUTS = {
    "image.repository": "${registry_url}/mcp-server",
    "serviceAccount.gcpServiceAccount": "${app_service_account}",
    "externalSecrets.gcpSecretManager.projectID": "${project_id}",
    "externalSecrets.gcpSecretManager.secretId": "${secret_id}",
    "externalSecrets.gcpSecretManager.clusterName": "${cluster_name}",
    "externalSecrets.gcpSecretManager.clusterLocation": "${cluster_location}",
}


def values_match_outputs(ctx: Context) -> None:
    values = load_yaml(ctx.path(VALUES_GKE))
    wrong = []
    for dotted, template in COPIED_OUTPUTS.items():
        node = values
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        want = re.sub(r"\$\{(\w+)\}", lambda m: ctx.facts[m.group(1)], template)
        if node != want:
            wrong.append(f"{dotted} is {node!r}, terraform says {want!r}")
    if wrong:
        raise CheckFailed("; ".join(wrong))


def pods_on_two_nodes(ctx: Context) -> None:
    nodes = kubectl(
        ctx, "get", "pods", "-l", ctx.facts["selector"],
        "-o", "jsonpath={range .items[*]}{.spec.nodeName}{'\\n'}{end}",
    ).split()  # fmt: skip
    if len(set(nodes)) < 2:
        raise CheckFailed(f"the pods run on {sorted(set(nodes))}")


def token(ctx: Context, scopes: str, sub: str, expires_in: int = 600) -> str:
    project = ctx.facts["project_id"]
    return ctx.run(
        str(Path(ctx.python).with_name(MINT)), "--project", project, "token",
        "--sub", sub, "--scopes", scopes, "--expires-in", str(expires_in), timeout=60,
    ).stdout.strip()  # fmt: skip


@contextlib.contextmanager
def port_forward(ctx: Context) -> Iterator[str]:
    """`kubectl port-forward` to the chart's Service on a free local port, for the block."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    target = f"svc/{ctx.facts['service']}"
    process = subprocess.Popen(
        ["kubectl", "-n", ctx.facts["namespace"], "port-forward", target,
         f"{port}:{ctx.facts['service_port']}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while status(f"http://127.0.0.1:{port}/health") != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                error = (
                    process.stderr.read() if process.poll() is not None and process.stderr else ""
                )
                raise CheckFailed(f"the port-forward did not answer /health: {last_lines(error)}")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=20)


def status(url: str) -> int:
    """The HTTP status of GET `url` (0 while nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (http(s) only)
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def client(ctx: Context, url: str, bearer: str, *command: str) -> tuple[int, str, str]:
    """The learner's MCP client (the token goes by environment, not argv)."""
    result = ctx.run(
        str(Path(ctx.python).with_name(CLIENT)),
        url,
        *command,
        check=False,
        timeout=60,
        MCP_TOKEN=bearer,
    )
    return result.returncode, result.stdout.strip(), result.stderr.strip()


def lists(ctx: Context, url: str, bearer: str, tools: list[str]) -> None:
    code, out, err = client(ctx, url, bearer, "list")
    if code != 0 or out.splitlines() != tools:
        raise CheckFailed(f"list: expected {tools}, got {out.splitlines() or err!r} (exit {code})")


def refused(ctx: Context, url: str, bearer: str, status_line: str, *command: str) -> None:
    code, _out, err = client(ctx, url, bearer, *command)
    if code != 1 or status_line not in err:
        raise CheckFailed(
            f"{' '.join(command)}: expected exit 1 and {status_line}, got {code} {err!r}"
        )


def public_token_through_port_forward(ctx: Context) -> None:
    public = token(ctx, "public:read", sub="verify-phase-6")
    with port_forward(ctx) as url:
        lists(ctx, url, public, PUBLIC_ONLY)


# --- phase 7 ---------------------------------------------------------------------------


def repository_variables(ctx: Context) -> None:
    # The variable -> output table, from the checkout being verified.
    variables: dict[str, str] = infra_module("outputs", ctx.path("infra")).REPOSITORY_VARIABLES
    listed = json.loads(ctx.run("gh", "variable", "list", "--json", "name,value").stdout)
    values = {item["name"]: item["value"] for item in listed}
    wrong = [
        f"{variable} is {values.get(variable)!r}, terraform says {output} = {ctx.facts[output]!r}"
        for variable, output in variables.items()
        if values.get(variable) != ctx.facts[output]
    ]
    if wrong:
        raise CheckFailed("; ".join(wrong))


# --- phase 8 ---------------------------------------------------------------------------


def application_is_yours(ctx: Context) -> None:
    """ArgoCD must pull from the repository you push to (git's origin), over https or ssh."""

    def repository(url: str) -> str:
        return re.sub(r"^(\w+://)?([^@/]+@)?|\.git$", "", url).replace(":", "/")

    origin = ctx.run("git", "remote", "get-url", "origin", check=False).stdout.strip()
    if not origin:
        raise CheckSkipped("no git remote origin to compare with")
    repo_url = load_yaml(ctx.path("argocd/application.yaml"))["spec"]["source"]["repoURL"]
    if repository(repo_url) != repository(origin):
        raise CheckFailed(f"repoURL is {repo_url}, your origin is {origin}")


# --- phase 9 ---------------------------------------------------------------------------


def scoped_calls_through_port_forward(ctx: Context) -> None:
    public = token(ctx, "public:read", sub="verify-public")
    full = token(ctx, "public:read,confidential:read", sub="verify-full")
    with port_forward(ctx) as url:
        lists(ctx, url, public, PUBLIC_ONLY)
        lists(ctx, url, full, list(TOOL_SCOPES))
        refused(ctx, url, public, "403 Forbidden", "call", "get_confidential_info")


def expired_token_through_port_forward(ctx: Context) -> None:
    expired = token(ctx, "public:read", sub="verify-expired", expires_in=1)
    time.sleep(32)  # past the server's 30-second clock-skew leeway
    with port_forward(ctx) as url:
        refused(ctx, url, expired, "401 Unauthorized: the token expired", "list")


def logs_record_decisions(ctx: Context) -> None:
    logs = kubectl(ctx, "logs", "-l", ctx.facts["selector"], "--tail=-1", "--prefix=false")
    lines = [line for line in logs.splitlines() if line.startswith("{") and "authorization" in line]
    decisions = [json.loads(line) for line in lines]
    if not any(
        d.get("subject") == "verify-public" and d.get("decision") == "denied" for d in decisions
    ):
        raise CheckFailed("no denied authorization decision of verify-public in the logs")
    if re.search(r"eyJ[\w-]+\.eyJ[\w-]+\.", logs):
        raise CheckFailed("a JWT appears in the logs")


# --- phase 10 --------------------------------------------------------------------------


def authorization_server(ctx: Context) -> None:
    host = os.environ.get("HOST", "")
    if not host:
        raise CheckFailed("HOST is not set", hint="export HOST=<your public host> (phase 10)")
    url = f"https://{host}/.well-known/oauth-authorization-server"
    with urllib.request.urlopen(url, timeout=15) as response:
        issuer = str(json.loads(response.read()).get("issuer", ""))
    if issuer.rstrip("/") != f"https://{host}":
        raise CheckFailed(f"{url} names the issuer {issuer!r}")
    if status(f"https://{host}/metrics") != 404:
        raise CheckFailed(f"https://{host}/metrics answers: it must not be public")
