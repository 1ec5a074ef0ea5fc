#!/usr/bin/env python3
"""Check a tutorial phase: run its Verify block as checks, one PASS/FAIL line each.

    scripts/verify_phase.py N            # the checks that run anywhere (offline)
    scripts/verify_phase.py N --live     # also the ones that need the cloud
    scripts/verify_phase.py all          # every phase, offline
    scripts/verify_phase.py N --list     # what phase N checks, without running it

`make verify PHASE=N [LIVE=1]` runs the same. Each check prints PASS or FAIL
(with what went wrong and a hint on what to do), or SKIP when it needs
`--live` or a Docker engine that is not there. The exit code is 1 when any
check failed, 0 otherwise, 2 for a bad command line.

The checks mirror the `## Verify` block of docs/tutorial/NN-*.md. The offline
ones start what they need themselves (the server on a free loopback port with
a throwaway key, a temporary values file); the live ones use your gcloud,
kubectl and gh sessions and the outputs of the phase-5 stack. Each check is a
small function; PHASES at the bottom is the table of which phase runs which.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.scopes import TOOL_SCOPES

ROOT = Path(__file__).resolve().parent.parent

NAMESPACE = "mcp-prototype"
RELEASE = "mcp-server"
SELECTOR = "app.kubernetes.io/name=mcp-server,app.kubernetes.io/instance=mcp-server"
STACK_DIR = Path("infra/cdktf.out/stacks/mcp-prototype")
VALUES_GKE = Path("helm/mcp-server/values-gke.yaml")
# The repository variables of the image workflow and the infra outputs they come from.
REPOSITORY_VARIABLES = {
    "GCP_PROJECT_ID": "project_id",
    "GCP_REGION": "region",
    "GCP_WIF_PROVIDER": "wif_provider",
    "GCP_CI_SERVICE_ACCOUNT": "ci_service_account",
    "GCP_REGISTRY": "registry_url",
}
INFRA_OUTPUTS = (
    "project_id",
    "region",
    "registry_url",
    "wif_provider",
    "ci_service_account",
    "app_service_account",
    "cluster_name",
    "cluster_location",
    "secret_id",
)
TOOLS = TOOL_SCOPES  # the project's one tool-to-scope table
# A project id for rendering and synthesizing when the learner has none configured yet.
DEMO_PROJECT = "verify-demo-project"


# --- the framework ---------------------------------------------------------------


class CheckFailed(Exception):
    """A check's finding: what is wrong, and optionally a hint better than the default."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class CheckSkipped(Exception):
    """The check cannot run here (e.g. no Docker engine); the reason is printed."""


@dataclass(frozen=True)
class Check:
    title: str
    run: Callable[[Context], None]
    hint: str
    live: bool = False


@dataclass(frozen=True)
class Phase:
    number: int
    doc: str
    checks: tuple[Check, ...]

    def title(self, root: Path) -> str:
        """The doc's first heading, so the verifier and the tutorial never disagree."""
        heading = f"Phase {self.number}"
        path = root / "docs" / "tutorial" / self.doc
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.startswith("# "):
                    text = line[2:].strip()
                    heading = text if text.startswith("Phase") else f"{heading}: {text}"
                    break
        return heading


@dataclass
class Context:
    """What the checks share: where the project is, and things started once per run."""

    root: Path
    live: bool
    scratch: Path
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def python(self) -> str:
        venv = self.root / ".venv" / "bin" / "python"
        return str(venv) if venv.exists() else sys.executable

    def path(self, relative: str | Path) -> Path:
        return self.root / relative

    def run(
        self,
        *args: str | Path,
        timeout: float = 300,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the project; on failure raise CheckFailed with its output."""
        command = [str(arg) for arg in args]
        try:
            result = subprocess.run(
                command,
                cwd=cwd or self.root,
                env={**base_env(), **(env or {})},
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            raise CheckFailed(f"{command[0]} is not installed") from exc
        except subprocess.TimeoutExpired as exc:
            raise CheckFailed(f"`{' '.join(command)}` did not finish in {timeout:.0f} s") from exc
        if check and result.returncode != 0:
            raise CheckFailed(
                f"`{shorten(' '.join(command))}` exited {result.returncode}: "
                f"{last_lines(result.stderr or result.stdout)}"
            )
        return result

    def tool(self, name: str) -> str:
        """A validator from `make tools` (.tools/bin) or PATH."""
        candidate = self.root / ".tools" / "bin" / name
        if candidate.exists():
            return str(candidate)
        found = shutil.which(name)
        if found is None:
            raise CheckFailed(f"{name} is not installed", hint="run `make tools`")
        return found


def base_env() -> dict[str, str]:
    """This process's environment without the server's MCP_* settings.

    An `MCP_JWT_SECRET_FILE` or `MCP_RATE_LIMIT_PER_MINUTE` exported in the
    learner's shell must not change what the checks start and compare; only
    MCP_INFRA_CONFIG (where the infra config lives) is kept, as `make synth`
    reads it too.
    """
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("MCP_") or name == "MCP_INFRA_CONFIG"
    }


def shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def last_lines(text: str, count: int = 3) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:]) if lines else "(no output)"


@dataclass
class Outcome:
    check: Check
    status: str  # PASS, FAIL or SKIP
    detail: str = ""
    hint: str = ""


def run_check(check: Check, ctx: Context) -> Outcome:
    if check.live and not ctx.live:
        return Outcome(check, "SKIP", "needs --live")
    try:
        check.run(ctx)
    except CheckFailed as failure:
        return Outcome(check, "FAIL", str(failure), failure.hint or check.hint)
    except CheckSkipped as skipped:
        return Outcome(check, "SKIP", str(skipped))
    except Exception as error:  # a bug or an unexpected state: report it, keep going
        return Outcome(check, "FAIL", f"{type(error).__name__}: {error}", check.hint)
    return Outcome(check, "PASS")


def print_outcome(outcome: Outcome) -> None:
    prefix = "[live] " if outcome.check.live else ""
    line = f"  {outcome.status}  {prefix}{outcome.check.title}"
    if outcome.status == "SKIP":
        line += f"  ({outcome.detail})"
    print(line, flush=True)
    if outcome.status == "FAIL":
        print(f"        why:  {outcome.detail}")
        print(f"        hint: {outcome.hint}")


def verify(phase: Phase, ctx: Context) -> list[Outcome]:
    print(f"{phase.title(ctx.root)}  (docs/tutorial/{phase.doc})")
    outcomes = []
    for check in phase.checks:
        outcome = run_check(check, ctx)
        print_outcome(outcome)
        outcomes.append(outcome)
    counts = {status: sum(o.status == status for o in outcomes) for status in ("PASS", "FAIL")}
    skipped = len(outcomes) - counts["PASS"] - counts["FAIL"]
    print(
        f"phase {phase.number}: {counts['PASS']} passed, {counts['FAIL']} failed, {skipped} skipped"
    )
    return outcomes


# --- helpers the checks share --------------------------------------------------------


def load_yaml(path: Path) -> Any:
    from ruamel.yaml import YAML  # the dev dependency group; imported late for --help speed

    if not path.is_file():
        raise CheckFailed(f"{path} does not exist")
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def load_yaml_all(text: str) -> list[Any]:
    from ruamel.yaml import YAML

    return [doc for doc in YAML(typ="safe").load_all(text) if doc]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float = 5) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def http_get(url: str, timeout: float = 5) -> tuple[int, str]:
    request = urllib.request.Request(url, method="GET")  # noqa: S310 (loopback http only)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode(errors="replace")


@dataclass
class LocalServer:
    """The server started by the verifier, as `make run` would, with a throwaway key."""

    process: subprocess.Popen[str]
    url: str
    key: str
    log: Path


def local_server(ctx: Context) -> LocalServer:
    """Start `python -m app` once per run on a free loopback port (stopped at exit)."""
    if "server" in ctx.cache:
        server: LocalServer = ctx.cache["server"]
        if server.process.poll() is None:
            return server
    port = free_port()
    key = secrets.token_urlsafe(48)
    log = ctx.scratch / f"server-{port}.log"
    env = {
        **base_env(),
        "MCP_HOST": "127.0.0.1",
        "MCP_PORT": str(port),
        "MCP_JWT_SECRET_KEY": key,
        "MCP_LOG_FORMAT": "json",
        # No clock-skew grace, so a 1-second token is expired 2 seconds later.
        "MCP_JWT_LEEWAY_SECONDS": "0",
        "FASTMCP_LOG_ENABLED": "false",
    }
    handle = log.open("w")
    process = subprocess.Popen(
        [ctx.python, "-m", "app"],
        cwd=ctx.root,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        text=True,
    )
    handle.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CheckFailed(
                f"the server exited with {process.returncode}: {last_lines(log.read_text())}",
                hint="run `make run` and read its error line",
            )
        with contextlib.suppress(OSError):
            if http_get(f"{base}/health", timeout=1)[0] == 200:
                break
        time.sleep(0.2)
    else:
        process.kill()
        raise CheckFailed("the server did not answer /health within 30 s")
    server = LocalServer(process, base, key, log)
    ctx.cache["server"] = server
    ctx.stack.callback(stop_process, process)
    return server


def stop_process(process: subprocess.Popen[str]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return int(process.returncode)


def mint(ctx: Context, key: str, scopes: str, expires_in: int = 600, sub: str = "verify") -> str:
    result = ctx.run(
        ctx.python,
        "scripts/generate_token.py",
        "--sub",
        sub,
        "--scopes",
        scopes,
        "--expires-in",
        str(expires_in),
        env={"MCP_JWT_SECRET_KEY": key},
    )
    return result.stdout.strip()


def client(ctx: Context, url: str, token: str, *command: str) -> subprocess.CompletedProcess[str]:
    """scripts/mcp_client.py as the tutorial runs it; the token goes by env, not argv."""
    return ctx.run(
        ctx.python,
        "scripts/mcp_client.py",
        url,
        *command,
        env={"MCP_TOKEN": token},
        check=False,
        timeout=60,
    )


def expect_output(result: subprocess.CompletedProcess[str], lines: list[str], what: str) -> None:
    got = result.stdout.strip().splitlines()
    if result.returncode != 0 or got != lines:
        raise CheckFailed(
            f"{what}: expected {lines}, got {got or last_lines(result.stderr)} "
            f"(exit {result.returncode})"
        )


def expect_error(result: subprocess.CompletedProcess[str], line: str, what: str) -> None:
    if result.returncode != 1 or result.stderr.strip() != line:
        raise CheckFailed(
            f"{what}: expected exit 1 and {line!r}, got exit {result.returncode} and "
            f"{last_lines(result.stderr or result.stdout)!r}"
        )


def docker_host(ctx: Context) -> str:
    """A reachable Docker engine (DOCKER_HOST or the default socket), else skip."""
    if "docker" not in ctx.cache:
        reachable = shutil.which("docker") is not None and (
            subprocess.run(
                ["docker", "info"], capture_output=True, timeout=20, check=False
            ).returncode
            == 0
        )
        ctx.cache["docker"] = reachable
    if not ctx.cache["docker"]:
        raise CheckSkipped(
            "no Docker engine reachable: start Docker, or "
            '`eval "$(scripts/ci/docker-engine.sh start)"`'
        )
    return os.environ.get("DOCKER_HOST", "")


def infra_config(ctx: Context) -> Any:
    """The learner's infra config (infra/config.toml), or a demo one built from the example.

    The demo (the example's defaults with made-up ids) lets the offline checks
    prove the wiring between infra, chart and workflow before phase 5.
    """
    if "infra_config" in ctx.cache:
        return ctx.cache["infra_config"]
    sys.path.insert(0, str(ctx.path("infra")))
    try:
        from mcp_infra import config as infra  # cheap: imports nothing from CDK Terrain
    finally:
        sys.path.pop(0)
    path = infra.config_path()  # infra/config.toml, or $MCP_INFRA_CONFIG
    if path.is_file():
        try:
            cfg = infra.load_config(path)
        except infra.ConfigError as exc:
            raise CheckFailed(str(exc), hint="fix infra/config.toml (phase 5)") from exc
        ctx.cache["infra_demo"] = False
    else:
        data = tomllib.loads(ctx.path("infra/config.example.toml").read_text())
        data.update(
            project_id=DEMO_PROJECT,
            state_bucket=f"{DEMO_PROJECT}-tfstate",
            github_owner="verify-owner",
            github_repository="secure-mcp-server",
            github_repository_id=1,
            github_owner_id=2,
            authorized_networks=[{"cidr": "198.51.100.7/32", "name": "verify"}],
        )
        cfg = infra.from_mapping(data, source="config.example.toml with demo values")
        ctx.cache["infra_demo"] = True
    ctx.cache["infra_config"] = cfg
    return cfg


def gke_values(ctx: Context) -> dict[str, Any]:
    """values-gke.yaml as the learner deploys it (PROJECT_ID replaced, for a demo config)."""
    cfg = infra_config(ctx)
    text = ctx.path(VALUES_GKE).read_text()
    if ctx.cache.get("infra_demo"):
        text = text.replace("PROJECT_ID", cfg.project_id)
    elif "PROJECT_ID" in text:
        raise CheckFailed(
            f"{VALUES_GKE} still holds the placeholder PROJECT_ID",
            hint=f'sed -i "s/PROJECT_ID/{cfg.project_id}/g" {VALUES_GKE}  (phase 6)',
        )
    path = ctx.scratch / "values-gke.yaml"
    path.write_text(text)
    values: dict[str, Any] = load_yaml(path)
    return values


def render_chart(ctx: Context, *extra: str) -> list[dict[str, Any]]:
    """`helm template` of the chart with values-gke.yaml, as ArgoCD renders it."""
    gke_values(ctx)
    result = ctx.run(
        ctx.tool("helm"),
        "template",
        RELEASE,
        "helm/mcp-server",
        "--namespace",
        NAMESPACE,
        "--values",
        ctx.scratch / "values-gke.yaml",
        *extra,
        timeout=120,
    )
    return load_yaml_all(result.stdout)


def terraform_output(ctx: Context, name: str) -> str:
    outputs = ctx.cache.get("tf_outputs")
    if outputs is None:
        result = ctx.run(
            "terraform", f"-chdir={ctx.path(STACK_DIR)}", "output", "-json", timeout=120
        )
        outputs = {key: value["value"] for key, value in json.loads(result.stdout).items()}
        ctx.cache["tf_outputs"] = outputs
    if name not in outputs:
        raise CheckFailed(f"terraform output {name} is missing", hint="apply the stack (phase 5)")
    return str(outputs[name])


def kubectl(ctx: Context, *args: str) -> str:
    return ctx.run("kubectl", *args, timeout=60).stdout.strip()


def workflow(ctx: Context, name: str) -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(ctx.path(f".github/workflows/{name}"))
    return data


def values_image(ctx: Context) -> tuple[str, str]:
    image = load_yaml(ctx.path(VALUES_GKE))["image"]
    return str(image.get("tag") or ""), str(image.get("digest") or "")


@contextlib.contextmanager
def port_forward(ctx: Context) -> Iterator[str]:
    """`kubectl port-forward svc/mcp-server` on a free local port, stopped afterwards."""
    port = free_port()
    process = subprocess.Popen(
        ["kubectl", "-n", NAMESPACE, "port-forward", f"svc/{RELEASE}", f"{port}:8080"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if process.poll() is not None:
                error = process.stderr.read() if process.stderr else ""
                raise CheckFailed(f"kubectl port-forward exited: {last_lines(error)}")
            with contextlib.suppress(OSError):
                if http_get(f"{base}/health", timeout=1)[0] == 200:
                    break
            time.sleep(0.3)
        else:
            raise CheckFailed("the port-forward did not answer /health within 20 s")
        yield f"{base}/mcp"
    finally:
        stop_process(process)


def deployed_token(ctx: Context, scopes: str, expires_in: int = 600, sub: str = "verify") -> str:
    """A token signed with the deployed key (scripts/jwt_key.py token; the key is never shown)."""
    project = terraform_output(ctx, "project_id")
    result = ctx.run(
        ctx.python,
        "scripts/jwt_key.py",
        "--project",
        project,
        "token",
        "--sub",
        sub,
        "--scopes",
        scopes,
        "--expires-in",
        str(expires_in),
        timeout=60,
    )
    return result.stdout.strip()


# --- phase 0: setup -------------------------------------------------------------------


def python_version(ctx: Context) -> None:
    result = ctx.run("python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])")
    major, minor = (int(part) for part in result.stdout.strip().split("."))
    if (major, minor) < (3, 11):
        raise CheckFailed(f"python3 is {major}.{minor}")


def node_version(ctx: Context) -> None:
    version = ctx.run("node", "--version").stdout.strip()
    match = re.match(r"v(\d+)\.", version)
    if match is None or int(match.group(1)) < 20:
        raise CheckFailed(f"node is {version}")


def venv_installed(ctx: Context) -> None:
    if not ctx.path(".venv/bin/python").exists():
        raise CheckFailed(".venv does not exist")
    ctx.run(ctx.python, "-c", "import app, fastmcp, jwt, pytest, ruff, mypy")


def versions_installed(ctx: Context) -> None:
    script = "import app, fastmcp; print(app.__version__, fastmcp.__version__)"
    got = ctx.run(ctx.python, "-c", script).stdout.split()
    if len(got) != 2 or not got[1].startswith("4.1."):
        raise CheckFailed(f"app and fastmcp versions are {got}, expected fastmcp 4.1.x")


def make_help(ctx: Context) -> None:
    listed = re.sub(r"\x1b\[[0-9;]*m", "", ctx.run("make", "--no-print-directory", "help").stdout)
    names = {line.split()[0] for line in listed.splitlines() if line.strip()}
    missing = [t for t in ("run", "token", "test", "install", "lint", "verify") if t not in names]
    if missing:
        raise CheckFailed(f"`make help` does not list {missing}")


def no_lock_files_tracked(ctx: Context) -> None:
    if not ctx.path(".git").exists():
        raise CheckSkipped("not a git checkout")
    tracked = ctx.run("git", "ls-files", "uv.lock", "package-lock.json", "**/package-lock.json")
    if tracked.stdout.strip():
        raise CheckFailed(f"tracked: {tracked.stdout.split()}")


# --- phase 1: the server --------------------------------------------------------------


def server_health(ctx: Context) -> None:
    server = local_server(ctx)
    status, body = http_get(f"{server.url}/health")
    if status != 200 or json.loads(body) != {"status": "ok"}:
        raise CheckFailed(f"GET /health answered {status} {body[:100]}")


def server_ready(ctx: Context) -> None:
    server = local_server(ctx)
    status, body = http_get(f"{server.url}/ready")
    if status != 200 or json.loads(body) != {"status": "ready"}:
        raise CheckFailed(f"GET /ready answered {status} {body[:100]}")


def server_metrics(ctx: Context) -> None:
    server = local_server(ctx)
    status, body = http_get(f"{server.url}/metrics")
    if status != 200 or "mcp_" not in body:
        raise CheckFailed(f"GET /metrics answered {status} without mcp_ metrics")


def server_metadata(ctx: Context) -> None:
    server = local_server(ctx)
    for path in (
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ):
        status, body = http_get(f"{server.url}{path}")
        if status != 200:
            raise CheckFailed(f"GET {path} answered {status}")
        metadata = json.loads(body)
        if metadata.get("resource") != f"{server.url}/mcp":
            raise CheckFailed(f"{path} names the resource {metadata.get('resource')!r}")
        if sorted(metadata.get("scopes_supported", [])) != sorted(TOOLS.values()):
            raise CheckFailed(f"{path} lists scopes {metadata.get('scopes_supported')}")


def mcp_without_token_is_401(ctx: Context) -> None:
    server = local_server(ctx)
    status = http_post(f"{server.url}/mcp", b"{}", {"Content-Type": "application/json"})
    if status != 401:
        raise CheckFailed(f"POST /mcp without a token answered {status}")


def bad_key_fails_fast(ctx: Context) -> None:
    env = {"MCP_JWT_SECRET_KEY": "short", "MCP_PORT": str(free_port())}
    result = ctx.run(ctx.python, "-m", "app", env=env, check=False, timeout=60)
    lines = result.stderr.strip().splitlines()
    if result.returncode != 2 or len(lines) != 1 or "MCP_JWT_SECRET_KEY" not in lines[0]:
        raise CheckFailed(
            f"with a 5-byte key: exit {result.returncode}, stderr {last_lines(result.stderr)!r}; "
            "expected exit 2 and one line naming MCP_JWT_SECRET_KEY"
        )


def server_stops_cleanly(ctx: Context) -> None:
    server = local_server(ctx)
    ctx.cache.pop("server")
    code = stop_process(server.process)
    if code != 0:
        raise CheckFailed(f"after SIGTERM the server exited with {code}, not 0")


# --- phase 2: tokens and scopes -------------------------------------------------------


def public_token_lists_public_tool(ctx: Context) -> None:
    server = local_server(ctx)
    token = mint(ctx, server.key, "public:read")
    expect_output(client(ctx, f"{server.url}/mcp", token, "list"), ["get_public_info"], "list")


def full_token_lists_both_tools(ctx: Context) -> None:
    server = local_server(ctx)
    token = mint(ctx, server.key, "public:read,confidential:read")
    expect_output(client(ctx, f"{server.url}/mcp", token, "list"), list(TOOLS), "list")


def public_token_calls_public_tool(ctx: Context) -> None:
    server = local_server(ctx)
    token = mint(ctx, server.key, "public:read")
    result = client(ctx, f"{server.url}/mcp", token, "call", "get_public_info")
    if result.returncode != 0 or not result.stdout.startswith("# "):
        raise CheckFailed(
            f"call get_public_info: exit {result.returncode}, {last_lines(result.stderr)}"
        )


def public_token_refused_confidential(ctx: Context) -> None:
    server = local_server(ctx)
    token = mint(ctx, server.key, "public:read")
    expect_error(
        client(ctx, f"{server.url}/mcp", token, "call", "get_confidential_info"),
        "error: 403 Forbidden: insufficient_scope, the call needs the scope confidential:read",
        "call get_confidential_info with public:read",
    )


def full_token_reads_confidential(ctx: Context) -> None:
    server = local_server(ctx)
    token = mint(ctx, server.key, "public:read,confidential:read")
    result = client(ctx, f"{server.url}/mcp", token, "call", "get_confidential_info")
    first = result.stdout.splitlines()[0] if result.stdout else ""
    if result.returncode != 0 or first != "# Secure MCP Server: confidential information":
        raise CheckFailed(f"call get_confidential_info: exit {result.returncode}, {first!r}")


def foreign_origin_refused(ctx: Context) -> None:
    server = local_server(ctx)
    token = mint(ctx, server.key, "public:read")
    headers = {"Origin": "https://evil.example", "Authorization": f"Bearer {token}"}
    status = http_post(f"{server.url}/mcp", b"{}", headers)
    if status != 403:
        raise CheckFailed(f"a request from Origin https://evil.example answered {status}")


def no_token_refused(ctx: Context) -> None:
    server = local_server(ctx)
    expect_error(
        client(ctx, f"{server.url}/mcp", "", "list"),
        "error: 401 Unauthorized: the token is missing, invalid or expired",
        "list without a token",
    )


def expired_token_refused(ctx: Context) -> None:
    server = local_server(ctx)
    token = mint(ctx, server.key, "public:read", expires_in=1)
    time.sleep(2.5)  # the verifier's server has no leeway
    expect_error(
        client(ctx, f"{server.url}/mcp", token, "list"),
        "error: 401 Unauthorized: the token is missing, invalid or expired",
        "list with an expired token",
    )


# --- phase 3: tests and linters ---------------------------------------------------------


def unit_tests_pass(ctx: Context) -> None:
    ctx.run(ctx.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit", timeout=600)


def integration_tests_pass(ctx: Context) -> None:
    ctx.run(
        ctx.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/integration", timeout=900
    )


def alg_none_test_passes(ctx: Context) -> None:
    result = ctx.run(
        ctx.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit", "-k", "alg_none"
    )
    if not re.search(r"^1 passed", result.stdout.strip().splitlines()[-1]):
        raise CheckFailed(f"expected exactly one alg=none test: {last_lines(result.stdout, 1)}")


# --- phase 4: the container image ---------------------------------------------------------


def hadolint_clean(ctx: Context) -> None:
    args = [ctx.tool("hadolint")]
    if ctx.path(".hadolint.yaml").is_file():
        args += ["--config", ".hadolint.yaml"]
    ctx.run(*args, "Dockerfile")


def dockerfile_is_hardened(ctx: Context) -> None:
    text = ctx.path("Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    if not users or not re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", users[-1]):
        raise CheckFailed(
            f"the final USER is {users[-1] if users else 'missing'}, not a numeric non-root id"
        )
    for needed in ("HEALTHCHECK", "EXPOSE 8080"):
        if not re.search(rf"^{needed}", text, re.M):
            raise CheckFailed(f"the Dockerfile has no {needed}")
    if not re.search(r"^(ENTRYPOINT|CMD)\s+\[", text, re.M):
        raise CheckFailed(
            "the entrypoint is not in exec form, so SIGTERM would not reach the server"
        )


IMAGE = "mcp-server:verify"


def image_builds(ctx: Context) -> None:
    docker_host(ctx)
    ctx.cache["image"] = "failed"
    ctx.run("make", "--no-print-directory", "image", "IMAGE_TAG=verify", timeout=1200)
    ctx.cache["image"] = "built"


@dataclass
class Container:
    name: str
    url: str
    key: str


def running_container(ctx: Context) -> Container:
    """The image run as phase 4 runs it: key from the environment, read-only root."""
    docker_host(ctx)
    if ctx.cache.get("image") != "built":
        raise CheckFailed("there is no image: the build check above failed")
    if "container" in ctx.cache:
        started = ctx.cache["container"]
        if isinstance(started, CheckFailed):
            raise started  # it failed to start once; say so again, do not retry
        container: Container = started
        return container
    try:
        return start_container(ctx)
    except CheckFailed as failure:
        ctx.cache["container"] = failure
        raise


def start_container(ctx: Context) -> Container:
    port = free_port()
    key = secrets.token_urlsafe(48)
    name = f"mcp-verify-{port}"
    ctx.run(
        "docker", "run", "-d", "--name", name, "--network", "host",
        "--read-only", "--tmpfs", "/tmp",  # noqa: S108 (the container's own tmpfs)
        "-e", "MCP_HOST=127.0.0.1", "-e", f"MCP_PORT={port}", "-e", "MCP_JWT_SECRET_KEY",
        IMAGE,
        env={"MCP_JWT_SECRET_KEY": key},
    )  # fmt: skip
    ctx.stack.callback(
        subprocess.run, ["docker", "rm", "-f", name], capture_output=True, check=False
    )
    container = Container(name, f"http://127.0.0.1:{port}", key)
    # Generous: a loaded machine can take far longer than the usual two seconds.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if http_get(f"{container.url}/health", timeout=1)[0] == 200:
                ctx.cache["container"] = container
                return container
        time.sleep(0.3)
    logs = ctx.run("docker", "logs", name, check=False)
    raise CheckFailed(
        f"the container did not answer /health within 90 s: {last_lines(logs.stderr + logs.stdout)}"
    )


def container_health_and_ready(ctx: Context) -> None:
    container = running_container(ctx)
    for path, body in (("/health", {"status": "ok"}), ("/ready", {"status": "ready"})):
        status, text = http_get(f"{container.url}{path}")
        if status != 200 or json.loads(text) != body:
            raise CheckFailed(f"GET {path} answered {status} {text[:100]}")


def container_enforces_scopes(ctx: Context) -> None:
    container = running_container(ctx)
    url = f"{container.url}/mcp"
    expect_error(
        client(ctx, url, "", "list"),
        "error: 401 Unauthorized: the token is missing, invalid or expired",
        "list without a token",
    )
    public = mint(ctx, container.key, "public:read")
    expect_output(client(ctx, url, public, "list"), ["get_public_info"], "public list")
    full = mint(ctx, container.key, "public:read,confidential:read")
    expect_output(client(ctx, url, full, "list"), list(TOOLS), "full list")
    expect_error(
        client(ctx, url, public, "call", "get_confidential_info"),
        "error: 403 Forbidden: insufficient_scope, the call needs the scope confidential:read",
        "public call get_confidential_info",
    )


def container_non_root_read_only(ctx: Context) -> None:
    container = running_container(ctx)
    uid = ctx.run("docker", "exec", container.name, "id", "-u").stdout.strip()
    if uid in ("", "0"):
        raise CheckFailed(f"the server runs as uid {uid or '?'}")
    touch = ctx.run("docker", "exec", container.name, "touch", "/opt/venv/x", check=False)
    if touch.returncode == 0 or "Read-only file system" not in touch.stderr:
        raise CheckFailed("the root filesystem is writable")


def container_healthy(ctx: Context) -> None:
    container = running_container(ctx)
    deadline = time.monotonic() + 60
    status = ""
    while time.monotonic() < deadline:
        status = ctx.run(
            "docker", "inspect", "--format", "{{.State.Health.Status}}", container.name
        ).stdout.strip()
        if status == "healthy":
            return
        time.sleep(1)
    raise CheckFailed(f"Docker health status is {status!r} after 60 s")


def container_stops_with_0(ctx: Context) -> None:
    container = running_container(ctx)
    ctx.run("docker", "stop", container.name, timeout=60)
    ctx.cache["container"] = CheckFailed("the container was stopped by the check above")
    code = ctx.run(
        "docker", "inspect", "--format", "{{.State.ExitCode}}", container.name
    ).stdout.strip()
    if code != "0":
        raise CheckFailed(f"`docker stop` ended it with exit code {code}, not 0")


# --- phase 5: infrastructure -----------------------------------------------------------------


def infra_config_valid(ctx: Context) -> None:
    infra_config(ctx)


def synth_writes_outputs(ctx: Context) -> None:
    cfg = infra_config(ctx)
    env = {"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    stack_dir = ctx.path(STACK_DIR)
    if ctx.cache.get("infra_demo"):
        # No config of the learner's yet: synthesize a demo into the scratch
        # directory, leaving infra/cdktf.out alone.
        demo = ctx.scratch / "infra-demo.toml"
        demo.write_text(demo_toml(cfg))
        env["MCP_INFRA_CONFIG"] = str(demo)
        env["CDKTF_OUTDIR"] = str(ctx.scratch / "cdktf.out")
        stack_dir = ctx.scratch / "cdktf.out" / "stacks" / cfg.stack_name
    ctx.run("make", "--no-print-directory", "synth", env=env, timeout=600)
    path = stack_dir / "cdk.tf.json"
    if not path.is_file():
        raise CheckFailed(f"{path} was not written")
    synthesized = json.loads(path.read_text())
    missing = [name for name in INFRA_OUTPUTS if name not in synthesized.get("output", {})]
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
    ctx.cache["synthesized"] = stack_dir


def demo_toml(cfg: Any) -> str:
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


def checkov_clean(ctx: Context) -> None:
    stack_dir = ctx.cache.get("synthesized")
    if stack_dir is None:
        raise CheckFailed("nothing synthesized to scan", hint="see the synth check above")
    ctx.run(
        ctx.tool("checkov"),
        "--config-file", "infra/.checkov.yaml", "--quiet", "--skip-download",
        "--directory", str(stack_dir),
        timeout=600,
    )  # fmt: skip


def live_terraform_outputs(ctx: Context) -> None:
    for name in INFRA_OUTPUTS:
        terraform_output(ctx, name)


def gcloud_value(ctx: Context, *args: str) -> list[str]:
    """`gcloud ... --format=value(...)` split into its tab-separated fields."""
    project = terraform_output(ctx, "project_id")
    out = ctx.run("gcloud", *args, "--project", project, timeout=120).stdout.strip()
    return out.split("\t") if out else []


def cluster_args(ctx: Context) -> tuple[str, str]:
    return terraform_output(ctx, "cluster_name"), terraform_output(ctx, "cluster_location")


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


def live_registry_exists(ctx: Context) -> None:
    repository = terraform_output(ctx, "registry_url").rsplit("/", 1)[-1]
    got = gcloud_value(
        ctx, "artifacts", "repositories", "describe", repository,
        "--location", terraform_output(ctx, "region"),
        "--format=value(format,dockerConfig.immutableTags)",
    )  # fmt: skip
    if got != ["DOCKER", "True"]:
        raise CheckFailed(f"format and immutable tags: {got}")


def live_secret_has_version(ctx: Context) -> None:
    versions = gcloud_value(
        ctx, "secrets", "versions", "list", terraform_output(ctx, "secret_id"),
        "--filter=state=ENABLED", "--format=value(name)",
    )  # fmt: skip
    if not versions:
        raise CheckFailed("the secret has no enabled version")


def live_only_app_reads_secret(ctx: Context) -> None:
    members = gcloud_value(
        ctx, "secrets", "get-iam-policy", terraform_output(ctx, "secret_id"),
        "--flatten=bindings[].members", "--format=value(bindings.members)",
    )  # fmt: skip
    want = [f"serviceAccount:{terraform_output(ctx, 'app_service_account')}"]
    if [m for line in members for m in line.split()] != want:
        raise CheckFailed(f"the secret's IAM members are {members}, expected only {want}")


def live_wif_admits_one_repository(ctx: Context) -> None:
    condition = ctx.run(
        "gcloud", "iam", "workload-identity-pools", "providers", "describe",
        terraform_output(ctx, "wif_provider"), "--format=value(attributeCondition)",
        timeout=120,
    ).stdout  # fmt: skip
    if "assertion.repository_id ==" not in condition:
        raise CheckFailed(f"the provider's condition does not pin a repository id: {condition}")


# --- phase 6: the chart ----------------------------------------------------------------------


def helm_lint(ctx: Context) -> None:
    gke_values(ctx)
    ctx.run(
        ctx.tool("helm"), "lint", "--strict", "helm/mcp-server",
        "--values", str(ctx.scratch / "values-gke.yaml"),
        timeout=120,
    )  # fmt: skip


def chart_renders_both_paths(ctx: Context) -> None:
    dev = ctx.run(
        ctx.tool("helm"), "template", RELEASE, "helm/mcp-server", "--namespace", NAMESPACE,
        "--values", "helm/mcp-server/values-dev.yaml",
    )  # fmt: skip
    dev_kinds = {str(m.get("kind")) for m in load_yaml_all(dev.stdout)}
    gke_kinds = {str(m.get("kind")) for m in render_chart(ctx)}
    if "Deployment" not in dev_kinds or "ExternalSecret" in dev_kinds:
        raise CheckFailed(f"values-dev.yaml renders {sorted(dev_kinds)}")
    if not {"Deployment", "ExternalSecret", "SecretStore"} <= gke_kinds:
        raise CheckFailed(f"values-gke.yaml renders {sorted(gke_kinds)}")


def deployment_of(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    for manifest in manifests:
        if manifest.get("kind") == "Deployment":
            return manifest
    raise CheckFailed("the chart renders no Deployment")


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


def chart_reads_the_secret_eso_writes(ctx: Context) -> None:
    manifests = render_chart(ctx)
    targets = {m["spec"]["target"]["name"] for m in manifests if m.get("kind") == "ExternalSecret"}
    if not targets:
        raise CheckFailed("values-gke.yaml renders no ExternalSecret")
    pod = deployment_of(manifests)["spec"]["template"]["spec"]
    read = {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
    if not targets & read:
        raise CheckFailed(f"ExternalSecret writes {sorted(targets)}, the pods read {sorted(read)}")


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


def live_deployment_ready(ctx: Context) -> None:
    ready = kubectl(
        ctx, "-n", NAMESPACE, "get", "deployment", RELEASE, "-o", "jsonpath={.status.readyReplicas}"
    )
    if ready != "2":
        raise CheckFailed(f"{ready or 0} of 2 replicas are ready")


def live_external_secret_synced(ctx: Context) -> None:
    reason = kubectl(
        ctx, "-n", NAMESPACE, "get", "externalsecret", "mcp-server-signing-key", "-o",
        'jsonpath={.status.conditions[?(@.type=="Ready")].reason}',
    )  # fmt: skip
    if reason != "SecretSynced":
        raise CheckFailed(f"the ExternalSecret's Ready reason is {reason or 'missing'}")
    owner = kubectl(
        ctx, "-n", NAMESPACE, "get", "secret", "mcp-jwt-signing-key",
        "-o", "jsonpath={.metadata.ownerReferences[0].kind}",
    )  # fmt: skip
    if owner != "ExternalSecret":
        raise CheckFailed(f"Secret mcp-jwt-signing-key is owned by {owner or 'nobody'}")


def schema_rejects_typos(ctx: Context) -> None:
    helm = ctx.tool("helm")
    typo = ctx.run(
        helm, "template", RELEASE, "helm/mcp-server", "--set", "replicaCuont=3", check=False
    )
    if (
        typo.returncode == 0
        or "additional properties 'replicaCuont' not allowed" not in typo.stderr
    ):
        raise CheckFailed("a misspelled value (replicaCuont) renders without an error")
    latest = ctx.run(
        helm, "template", RELEASE, "helm/mcp-server", "--set", "image.tag=latest", check=False
    )
    if latest.returncode == 0 or 'image.tag must not be "latest"' not in latest.stderr:
        raise CheckFailed("image.tag=latest renders without an error")


def live_public_token_through_port_forward(ctx: Context) -> None:
    token = deployed_token(ctx, "public:read", sub="verify-phase-6")
    with port_forward(ctx) as url:
        expect_output(client(ctx, url, token, "list"), ["get_public_info"], "public list")


def live_pods_on_two_nodes(ctx: Context) -> None:
    nodes = kubectl(
        ctx, "-n", NAMESPACE, "get", "pods", "-l", SELECTOR,
        "-o", "jsonpath={range .items[*]}{.spec.nodeName}{'\\n'}{end}",
    ).split()  # fmt: skip
    if len(set(nodes)) < 2:
        raise CheckFailed(f"the pods run on {sorted(set(nodes))}")


# --- phase 7: the pipeline --------------------------------------------------------------------


def workflows_lint_clean(ctx: Context) -> None:
    files = sorted(
        str(p.relative_to(ctx.root)) for p in ctx.path(".github/workflows").glob("*.yml")
    )
    if not files:
        raise CheckFailed("no workflows in .github/workflows")
    ctx.run(ctx.tool("actionlint"), "-shellcheck", ctx.tool("shellcheck"), *files)
    ctx.run(ctx.tool("zizmor"), "--offline", "--quiet", "--config", ".github/zizmor.yml", ".github")
    ctx.run(ctx.tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files)
    ctx.run(
        ctx.tool("check-jsonschema"), "--builtin-schema", "vendor.dependabot",
        ".github/dependabot.yml",
    )  # fmt: skip


PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def actions_pinned(ctx: Context) -> None:
    unpinned = []
    for path in sorted(ctx.path(".github/workflows").glob("*.yml")):
        for match in re.finditer(r"^\s*(?:-\s+)?uses:\s*(.+)$", path.read_text(), re.M):
            uses = match.group(1).strip()
            if not uses.startswith("./") and not PINNED.match(uses):
                unpinned.append(f"{path.name}: {uses}")
    if unpinned:
        raise CheckFailed("; ".join(unpinned))


def bump_is_idempotent(ctx: Context) -> None:
    values = ctx.scratch / "values-bump.yaml"
    shutil.copy(ctx.path(VALUES_GKE), values)
    before = values.read_text().splitlines()
    tag, digest = "verify1", "sha256:" + "0" * 64
    args = [ctx.python, "scripts/bump_image_tag.py", "--file", str(values), "--tag", tag]
    first = ctx.run(*args, "--digest", digest)
    after = values.read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    if not first.stdout.startswith("updated ") or len(changed) != 2:
        raise CheckFailed(f"the first bump changed {len(changed)} lines: {first.stdout.strip()}")
    second = ctx.run(*args, "--digest", digest)
    if not second.stdout.startswith("unchanged: ") or values.read_text().splitlines() != after:
        raise CheckFailed(f"the second bump was not a no-op: {second.stdout.strip()}")


def github_glob(pattern: str) -> re.Pattern[str]:
    """GitHub's path-filter glob: `**` crosses directories, `*` does not."""
    parts = re.split(r"(\*\*|\*|\?)", pattern)
    table = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(table.get(part, re.escape(part)) for part in parts) + r"\Z")


def matches_paths(paths: list[str], changed: str) -> bool:
    matched = False
    for pattern in paths:
        if github_glob(pattern.removeprefix("!")).match(changed):
            matched = not pattern.startswith("!")
    return matched


def bump_cannot_trigger_build(ctx: Context) -> None:
    paths = workflow(ctx, "image.yml")["on"]["push"].get("paths")
    if not paths:
        raise CheckFailed("image.yml has no paths filter on push")
    if matches_paths(paths, str(VALUES_GKE)):
        raise CheckFailed(f"a change to {VALUES_GKE} starts image.yml: the bump would loop")
    if not matches_paths(paths, "app/server.py"):
        raise CheckFailed("a change under app/ does not start image.yml")


def workflow_wiring(ctx: Context) -> None:
    text = ctx.path(".github/workflows/image.yml").read_text()
    used = set(re.findall(r"vars\.(\w+)", text))
    if used != set(REPOSITORY_VARIABLES):
        raise CheckFailed(
            f"image.yml uses vars {sorted(used)}, expected {sorted(REPOSITORY_VARIABLES)}"
        )
    env = workflow(ctx, "image.yml")["jobs"]["build"].get("env", {})
    if env.get("IMAGE") != "${{ vars.GCP_REGISTRY }}/mcp-server":
        raise CheckFailed(f"the pushed image is {env.get('IMAGE')!r}, not GCP_REGISTRY/mcp-server")
    cfg = infra_config(ctx)
    repository = gke_values(ctx)["image"]["repository"]
    if repository != f"{cfg.registry_url}/mcp-server":
        raise CheckFailed(
            f"values-gke.yaml image.repository {repository!r} is not registry_url/mcp-server "
            f"({cfg.registry_url}/mcp-server)"
        )


def live_repository_variables(ctx: Context) -> None:
    listed = json.loads(ctx.run("gh", "variable", "list", "--json", "name,value").stdout)
    values = {item["name"]: item["value"] for item in listed}
    wrong = []
    for variable, output in REPOSITORY_VARIABLES.items():
        want = terraform_output(ctx, output)
        if values.get(variable) != want:
            wrong.append(
                f"{variable} is {values.get(variable)!r}, terraform output {output} is {want!r}"
            )
    if wrong:
        raise CheckFailed("; ".join(wrong))


def live_last_image_run_green(ctx: Context) -> None:
    result = ctx.run(
        "gh", "run", "list", "--workflow", "image.yml", "--branch", "main", "--limit", "1",
        "--json", "conclusion,status",
    )  # fmt: skip
    runs = json.loads(result.stdout)
    if not runs or runs[0].get("conclusion") != "success":
        raise CheckFailed(f"the last image.yml run on main is {runs[0] if runs else 'missing'}")


def live_bump_commit_by_pipeline(ctx: Context) -> None:
    author = ctx.run("git", "log", "-1", "--format=%an", "--", str(VALUES_GKE)).stdout.strip()
    if author != "github-actions[bot]":
        raise CheckFailed(f"the last change to {VALUES_GKE} is by {author!r}", hint="git pull")


def live_digest_in_registry(ctx: Context) -> None:
    tag, digest = values_image(ctx)
    if not tag or not digest:
        raise CheckFailed(f"{VALUES_GKE} has tag {tag!r} and digest {digest!r}")
    image = f"{terraform_output(ctx, 'registry_url')}/mcp-server:{tag}"
    pushed = ctx.run(
        "gcloud", "artifacts", "docker", "images", "describe", image,
        "--format", "value(image_summary.digest)",
        timeout=120,
    ).stdout.strip()  # fmt: skip
    if pushed != digest:
        raise CheckFailed(f"{image} is {pushed}, values-gke.yaml says {digest}")


# --- phase 8: ArgoCD ----------------------------------------------------------------------------


def application_tracks_chart(ctx: Context) -> None:
    app = load_yaml(ctx.path("argocd/application.yaml"))
    spec = app["spec"]
    source = spec["source"]
    wrong = []
    if source.get("path") != "helm/mcp-server":
        wrong.append(f"path {source.get('path')!r}")
    if source.get("targetRevision") != "main":
        wrong.append(f"targetRevision {source.get('targetRevision')!r}")
    if "values-gke.yaml" not in source.get("helm", {}).get("valueFiles", []):
        wrong.append("values-gke.yaml is not a value file")
    if spec["destination"].get("namespace") != NAMESPACE:
        wrong.append(f"namespace {spec['destination'].get('namespace')!r}")
    automated = spec.get("syncPolicy", {}).get("automated", {})
    if not (automated.get("prune") and automated.get("selfHeal")):
        wrong.append("automated sync without prune and selfHeal")
    if wrong:
        raise CheckFailed("; ".join(wrong))


def kind_application_uses_dev_values(ctx: Context) -> None:
    path = ctx.path("argocd/application-kind.yaml")
    files = load_yaml(path)["spec"]["source"].get("helm", {}).get("valueFiles", [])
    if files != ["values-dev.yaml"]:
        raise CheckFailed(f"{path.name} uses {files}, not [values-dev.yaml]")


def application_points_at_your_fork(ctx: Context) -> None:
    cfg = infra_config(ctx)
    if ctx.cache.get("infra_demo"):
        raise CheckSkipped("needs infra/config.toml (phase 5) to know your repository")
    repo = load_yaml(ctx.path("argocd/application.yaml"))["spec"]["source"]["repoURL"]
    want = f"github.com/{cfg.github_owner}/{cfg.github_repository}"
    if want not in repo:
        raise CheckFailed(f"repoURL is {repo}, your repository is {want}")


def argocd_manifests_valid(ctx: Context) -> None:
    for name in ("application.yaml", "project.yaml"):
        docs = load_yaml_all(ctx.path(f"argocd/{name}").read_text())
        if not docs or any(d.get("apiVersion") != "argoproj.io/v1alpha1" for d in docs):
            raise CheckFailed(f"argocd/{name} is not an argoproj.io/v1alpha1 resource")


def live_application_synced(ctx: Context) -> None:
    state = kubectl(
        ctx, "-n", "argocd", "get", "application", RELEASE,
        "-o", "jsonpath={.status.sync.status} {.status.health.status}",
    )  # fmt: skip
    if state != "Synced Healthy":
        raise CheckFailed(f"the Application is {state or 'missing'}")


def live_application_at_main(ctx: Context) -> None:
    revision = kubectl(
        ctx, "-n", "argocd", "get", "application", RELEASE, "-o", "jsonpath={.status.sync.revision}"
    )
    ctx.run("git", "fetch", "--quiet", "origin", "main", timeout=120)
    head = ctx.run("git", "rev-parse", "origin/main").stdout.strip()
    if revision != head:
        raise CheckFailed(f"ArgoCD synced {revision[:12] or 'nothing'}, origin/main is {head[:12]}")


# --- phase 9: end to end ----------------------------------------------------------------------


def chart_runs_the_digest(ctx: Context) -> None:
    digest = "sha256:" + "1" * 64
    image = deployment_of(render_chart(ctx, "--set", f"image.digest={digest}"))["spec"]["template"][
        "spec"
    ]["containers"][0]["image"]
    if not image.endswith(f"@{digest}"):
        raise CheckFailed(f"with a digest set the chart runs {image}")


def live_pods_run_the_bumped_digest(ctx: Context) -> None:
    _tag, digest = values_image(ctx)
    ids = kubectl(
        ctx, "-n", NAMESPACE, "get", "pods", "-l", SELECTOR,
        "-o", "jsonpath={range .items[*]}{.status.containerStatuses[0].imageID}{'\\n'}{end}",
    ).split()  # fmt: skip
    stale = [i for i in ids if not i.endswith(digest)]
    if not ids or stale:
        raise CheckFailed(f"pods run {sorted(set(ids))}, values-gke.yaml says {digest}")


def live_scoped_calls_through_port_forward(ctx: Context) -> None:
    public = deployed_token(ctx, "public:read", sub="verify-public")
    full = deployed_token(ctx, "public:read,confidential:read", sub="verify-full")
    with port_forward(ctx) as url:
        expect_output(client(ctx, url, public, "list"), ["get_public_info"], "public list")
        expect_output(client(ctx, url, full, "list"), list(TOOLS), "full list")
        expect_error(
            client(ctx, url, public, "call", "get_confidential_info"),
            "error: 403 Forbidden: insufficient_scope, the call needs the scope confidential:read",
            "public call get_confidential_info",
        )


def live_expired_token_refused(ctx: Context) -> None:
    expired = deployed_token(ctx, "public:read", expires_in=1, sub="verify-expired")
    time.sleep(32)  # past the server's 30-second clock-skew leeway
    with port_forward(ctx) as url:
        expect_error(
            client(ctx, url, expired, "list"),
            "error: 401 Unauthorized: the token is missing, invalid or expired",
            "list with an expired token",
        )


def live_logs_record_decisions(ctx: Context) -> None:
    logs = kubectl(ctx, "-n", NAMESPACE, "logs", "-l", SELECTOR, "--tail=-1", "--prefix=false")
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


# --- the table ----------------------------------------------------------------------------------

C = Check
MAKE_INSTALL = "run `make install`"
RUN_SERVER = "run `make run` and read its output; docs/tutorial/01-server.md"
AUTH = "docs/tutorial/02-auth.md; `make test` names the failing case"
LIVE_INFRA = "apply the stack (docs/tutorial/05-infrastructure.md) and `gcloud auth login`"
DOCKER_LOGS = "`docker logs` of the container; docs/tutorial/04-container.md"
LIVE_K8S = "`gcloud container clusters get-credentials` (phase 5), then docs/tutorial/06"

PHASES: dict[int, Phase] = {
    0: Phase(
        0,
        "00-setup.md",
        (
            C("python3 is 3.11 or newer", python_version, "install Python 3.11"),
            C("Node 20 or newer is on PATH", node_version, "install Node 20 (phases 5, 6)"),
            C(".venv has the server, tests and linters", venv_installed, MAKE_INSTALL),
            C("the server and FastMCP 4.1 are installed", versions_installed, MAKE_INSTALL),
            C("`make help` lists the targets", make_help, "run from the repository root"),
            C("no lock file with index URLs is tracked", no_lock_files_tracked, "git rm it"),
        ),
    ),
    1: Phase(
        1,
        "01-server.md",
        (
            C("the server starts and /health answers ok", server_health, RUN_SERVER),
            C("/ready answers ready", server_ready, RUN_SERVER),
            C("RFC 9728 metadata names /mcp and both scopes", server_metadata, RUN_SERVER),
            C("POST /mcp without a token gets 401", mcp_without_token_is_401, RUN_SERVER),
            C("/metrics serves the mcp_ metrics", server_metrics, RUN_SERVER),
            C("a too-short key fails at start with one line", bad_key_fails_fast, RUN_SERVER),
            C("SIGTERM drains and exits 0", server_stops_cleanly, RUN_SERVER),
        ),
    ),
    2: Phase(
        2,
        "02-auth.md",
        (
            C(
                "a public:read token lists only get_public_info",
                public_token_lists_public_tool,
                AUTH,
            ),
            C(
                "a public:read token reads the public document",
                public_token_calls_public_tool,
                AUTH,
            ),
            C("a token with both scopes lists both tools", full_token_lists_both_tools, AUTH),
            C(
                "a token with both scopes reads the confidential one",
                full_token_reads_confidential,
                AUTH,
            ),
            C(
                "a public:read token gets 403 for get_confidential_info",
                public_token_refused_confidential,
                AUTH,
            ),
            C("no token gets 401", no_token_refused, AUTH),
            C("an expired token gets 401", expired_token_refused, AUTH),
            C("a request from a foreign Origin gets 403", foreign_origin_refused, AUTH),
        ),
    ),
    3: Phase(
        3,
        "03-tests.md",
        (
            C("the unit tests pass", unit_tests_pass, "`.venv/bin/pytest tests/unit -q`"),
            C(
                "the integration tests pass",
                integration_tests_pass,
                "`.venv/bin/pytest tests/integration -q`",
            ),
            C("the alg=none test is there and passes", alg_none_test_passes, "tests/unit"),
        ),
    ),
    4: Phase(
        4,
        "04-container.md",
        (
            C(
                "hadolint finds nothing in the Dockerfile",
                hadolint_clean,
                "`make tools`, then `.tools/bin/hadolint Dockerfile`",
            ),
            C(
                "the Dockerfile runs non-root, exec-form, with a health check",
                dockerfile_is_hardened,
                "docs/tutorial/04-container.md",
            ),
            C("the image builds", image_builds, "`make image` shows the failing step"),
            C("the container answers /health and /ready", container_health_and_ready, DOCKER_LOGS),
            C(
                "the container enforces scoped tokens (401, lists, 403)",
                container_enforces_scopes,
                DOCKER_LOGS,
            ),
            C(
                "it runs non-root on a read-only root filesystem",
                container_non_root_read_only,
                "docs/tutorial/04-container.md",
            ),
            C("Docker reports it healthy", container_healthy, DOCKER_LOGS),
            C("`docker stop` ends it with exit code 0", container_stops_with_0, DOCKER_LOGS),
        ),
    ),
    5: Phase(
        5,
        "05-infrastructure.md",
        (
            C(
                "the infra config is valid",
                infra_config_valid,
                "cp infra/config.example.toml infra/config.toml and edit it",
            ),
            C(
                "synth writes every output the later phases use",
                synth_writes_outputs,
                "`make synth` shows the error",
            ),
            C(
                "checkov finds nothing in the synthesized stack",
                checkov_clean,
                "`make checkov-infra`",
            ),
            C("terraform has every output", live_terraform_outputs, LIVE_INFRA, live=True),
            C(
                "the cluster runs with Workload Identity, private nodes, Dataplane V2",
                live_cluster_hardened,
                LIVE_INFRA,
                live=True,
            ),
            C(
                "the nodes are shielded, GKE_METADATA, auto-repaired and upgraded",
                live_nodes_hardened,
                LIVE_INFRA,
                live=True,
            ),
            C(
                "the registry is Docker with immutable tags",
                live_registry_exists,
                LIVE_INFRA,
                live=True,
            ),
            C(
                "the signing key secret has an enabled version",
                live_secret_has_version,
                '.venv/bin/python scripts/jwt_key.py --project "$PROJECT" create',
                live=True,
            ),
            C(
                "only the app's service account may read the secret",
                live_only_app_reads_secret,
                LIVE_INFRA,
                live=True,
            ),
            C(
                "the WIF provider admits one repository, by id",
                live_wif_admits_one_repository,
                LIVE_INFRA,
                live=True,
            ),
        ),
    ),
    6: Phase(
        6,
        "06-helm-external-secrets.md",
        (
            C("helm lint --strict passes with values-gke.yaml", helm_lint, "`make chart`"),
            C(
                "values-dev.yaml renders without ESO, values-gke.yaml with it",
                chart_renders_both_paths,
                "`make -s chart-render`",
            ),
            C(
                "the values schema refuses a typo and the latest tag",
                schema_rejects_typos,
                "helm/mcp-server/values.schema.json",
            ),
            C(
                "two replicas spread over nodes, probes on /health and /ready",
                chart_renders_two_spread_replicas,
                "`make chart`",
            ),
            C(
                "the pods read the Secret the ExternalSecret writes",
                chart_reads_the_secret_eso_writes,
                "`make chart`",
            ),
            C(
                "values-gke.yaml matches the infra outputs",
                values_match_infra,
                "docs/tutorial/06-helm-external-secrets.md, step 1",
            ),
            C("the Deployment has 2 ready replicas", live_deployment_ready, LIVE_K8S, live=True),
            C(
                "the ExternalSecret synced the key into Secret mcp-jwt-signing-key",
                live_external_secret_synced,
                "kubectl -n mcp-prototype describe externalsecret",
                live=True,
            ),
            C(
                "the pods run on two nodes",
                live_pods_on_two_nodes,
                "kubectl -n mcp-prototype get pods -o wide",
                live=True,
            ),
            C(
                "through a port-forward, a public:read token lists get_public_info",
                live_public_token_through_port_forward,
                "docs/tutorial/06-helm-external-secrets.md (port-forward and token steps)",
                live=True,
            ),
        ),
    ),
    7: Phase(
        7,
        "07-pipeline.md",
        (
            C(
                "workflows pass actionlint, zizmor --offline and the JSON schemas",
                workflows_lint_clean,
                "`make lint-workflows`",
            ),
            C(
                "every action is pinned to a commit SHA with its version",
                actions_pinned,
                "use owner/repo@<40-hex sha> # vX.Y.Z",
            ),
            C(
                "the bump changes two lines, and a second run nothing",
                bump_is_idempotent,
                "`python3 scripts/bump_image_tag.py --help`",
            ),
            C(
                "the bump commit cannot start a build",
                bump_cannot_trigger_build,
                "keep helm/ out of image.yml's paths",
            ),
            C(
                "workflow variables, infra outputs and values-gke.yaml agree",
                workflow_wiring,
                "docs/tutorial/07-pipeline.md, step 2",
            ),
            C(
                "the repository variables equal the terraform outputs",
                live_repository_variables,
                "docs/tutorial/07-pipeline.md, step 2",
                live=True,
            ),
            C(
                "the last image.yml run on main succeeded",
                live_last_image_run_green,
                "`gh run view --log-failed`",
                live=True,
            ),
            C(
                "the last change to values-gke.yaml is the pipeline's",
                live_bump_commit_by_pipeline,
                "git pull",
                live=True,
            ),
            C(
                "the digest in values-gke.yaml is the registry's",
                live_digest_in_registry,
                "git pull; re-run image.yml",
                live=True,
            ),
        ),
    ),
    8: Phase(
        8,
        "08-argocd.md",
        (
            C(
                "the Application and AppProject are ArgoCD resources",
                argocd_manifests_valid,
                "`make chart` validates them",
            ),
            C(
                "the Application tracks helm/mcp-server on main with values-gke.yaml",
                application_tracks_chart,
                "docs/tutorial/08-argocd.md",
            ),
            C(
                "the kind Application uses values-dev.yaml",
                kind_application_uses_dev_values,
                "docs/tutorial/08-argocd.md",
            ),
            C(
                "the Application points at your repository",
                application_points_at_your_fork,
                "set repoURL in argocd/application.yaml",
            ),
            C(
                "the Application is Synced and Healthy",
                live_application_synced,
                "argocd app get mcp-server",
                live=True,
            ),
            C(
                "ArgoCD synced the head of origin/main",
                live_application_at_main,
                "kubectl -n argocd annotate application mcp-server "
                "argocd.argoproj.io/refresh=normal",
                live=True,
            ),
            C("the Deployment has 2 ready replicas", live_deployment_ready, LIVE_K8S, live=True),
        ),
    ),
    9: Phase(
        9,
        "09-end-to-end.md",
        (
            C(
                "the bump commit cannot start a build",
                bump_cannot_trigger_build,
                "keep helm/ out of image.yml's paths",
            ),
            C(
                "with a digest set, the chart runs repository@digest",
                chart_runs_the_digest,
                "`make chart`",
            ),
            C(
                "a public:read token gets 403 for get_confidential_info",
                public_token_refused_confidential,
                AUTH,
            ),
            C("an expired token gets 401", expired_token_refused, AUTH),
            C(
                "the pods run the digest in values-gke.yaml",
                live_pods_run_the_bumped_digest,
                "wait for ArgoCD, or refresh it (step 1)",
                live=True,
            ),
            C(
                "through a port-forward, each token sees what its scopes allow",
                live_scoped_calls_through_port_forward,
                "docs/tutorial/09-end-to-end.md, step 2",
                live=True,
            ),
            C(
                "through a port-forward, an expired token gets 401",
                live_expired_token_refused,
                "docs/tutorial/09-end-to-end.md, step 2",
                live=True,
            ),
            C(
                "the logs record the denied call, and no token",
                live_logs_record_decisions,
                "kubectl -n mcp-prototype logs -l app.kubernetes.io/name=mcp-server",
                live=True,
            ),
            C(
                "the pods run on two nodes",
                live_pods_on_two_nodes,
                "kubectl -n mcp-prototype get pods -o wide",
                live=True,
            ),
        ),
    ),
}


# --- the command line ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("phase", help="the phase number, 0 to 9, or `all`")
    parser.add_argument(
        "--live", action="store_true", help="also run the checks that need the cloud"
    )
    parser.add_argument("--list", action="store_true", help="list the checks without running them")
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the project to check (default: this repository)"
    )
    args = parser.parse_args(argv)
    if args.phase != "all" and not (args.phase.isdigit() and int(args.phase) in PHASES):
        parser.error(f"phase must be 0 to 9 or `all`, not {args.phase!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    numbers = sorted(PHASES) if args.phase == "all" else [int(args.phase)]
    root = args.root.resolve()
    if args.list:
        for number in numbers:
            phase = PHASES[number]
            print(phase.title(root))
            for check in phase.checks:
                print(f"  - {'[live] ' if check.live else ''}{check.title}")
        return 0
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="verify-phase-") as scratch:
        ctx = Context(root=root, live=args.live, scratch=Path(scratch))
        with ctx.stack:
            for number in numbers:
                outcomes += verify(PHASES[number], ctx)
    failed = sum(o.status == "FAIL" for o in outcomes)
    if len(numbers) > 1:
        passed = sum(o.status == "PASS" for o in outcomes)
        skipped = len(outcomes) - passed - failed
        print(f"all phases: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
