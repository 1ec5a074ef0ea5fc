"""Every phase's checks, in the order the report shows them: one table.

Most offline checks are the test suite's own tests of that behaviour (`Suite`):
the verifier runs them, so a check and its test cannot drift apart. The rest
are what only the learner's checkout or cloud can tell: a command and what it
must print (`Command`, with ${fact} names from live.py), or a function there.
A check listed in a later phase again runs again there (a rollout could break it).
"""

from __future__ import annotations

from . import live
from .checks import Check, Command, Function, Phase, Suite

INSTALL = "run `make install`"
SERVER = "run `make run` and read its output; docs/tutorial/01-server.md"
AUTH = "docs/tutorial/02-auth.md"
CONTAINER = "docs/tutorial/04-container.md; `docker logs` of the container"
INFRA = "apply the stack (docs/tutorial/05-infrastructure.md) and `gcloud auth login`"
CHART = "`make chart`; docs/tutorial/06-helm-external-secrets.md"
K8S = "`gcloud container clusters get-credentials` (phase 5), then docs/tutorial/06"
PIPELINE = "docs/tutorial/07-pipeline.md"
ARGOCD = "docs/tutorial/08-argocd.md"
END_TO_END = "docs/tutorial/09-end-to-end.md, step 2"
SIGNIN = "docs/tutorial/10-sign-in.md"

MCP_AUTH = "tests/integration/test_mcp_auth.py"
LIFECYCLE = "tests/integration/test_lifecycle.py"
CONTAINER_TESTS = "tests/container/test_container.py"
OBJECTS = "tests/chart/test_objects.py"
WORKFLOWS = "tests/pipeline/test_workflows.py"
BUMP = "tests/pipeline/test_bump_image_tag.py"
# `make help` must list these targets (a lookahead each: in any order).
TARGETS = "".join(f"(?=.*^  {target} )" for target in ("install", "run", "token", "test", "verify"))


def at(path: str, *tests: str) -> tuple[str, ...]:
    """Tests of one file, by name (pytest node ids)."""
    return tuple(f"{path}::{test}" for test in tests)


def gcloud(*args: str) -> tuple[str, ...]:
    return ("gcloud", *args, "--project", "${project_id}")


NO_TOKEN = Suite(
    "no_token_refused", "POST /mcp without a token gets 401", SERVER,
    at(MCP_AUTH, "test_missing_or_invalid_token_gets_401_with_challenge"),
)  # fmt: skip
REFUSED_SCOPE = Suite(
    "public_token_refused_confidential",
    "a public:read token gets 403 for get_confidential_info", AUTH,
    at(MCP_AUTH, "test_unauthorized_call_gets_403_insufficient_scope"),
)  # fmt: skip
EXPIRED = Suite(
    "expired_token_refused", "an expired token gets 401", AUTH,
    at("tests/integration/test_route_guards.py",
       "test_an_expired_token_is_401_saying_when_it_expired"),
)  # fmt: skip
NO_BUILD_LOOP = Suite(
    "bump_cannot_trigger_build", "the bump commit cannot start a build",
    "keep helm/ out of image.yml's paths",
    at(WORKFLOWS, "test_the_bump_commit_cannot_trigger_a_build"),
)  # fmt: skip
READY = Command(
    "live_deployment_ready", "the Deployment has 2 ready replicas", K8S,
    ("kubectl", "-n", "${namespace}", "get", "deployment", "-l", "${selector}",
     "-o", "jsonpath={.items[0].status.readyReplicas}"),
    expect="2", live=True,
)  # fmt: skip
TWO_NODES = Function(
    "live_pods_on_two_nodes", "the pods run on two nodes",
    "kubectl -n mcp-prototype get pods -o wide", live.pods_on_two_nodes, live=True,
)  # fmt: skip

PHASES: tuple[Phase, ...] = (
    Phase(0, "00-setup.md", (
        Command("python_version", "python3 is 3.11 or newer", "install Python 3.11",
                ("python3", "-c", "import sys; sys.exit(sys.version_info < (3, 11))")),
        Command("node_version", "Node 20 or newer is on PATH", "install Node 20 (phases 5, 6)",
                ("node", "-e", "process.exit(parseInt(process.versions.node) < 20 ? 1 : 0)")),
        Command("venv_installed", ".venv has the server, tests and linters", INSTALL,
                (".venv/bin/python", "-c", "import app, fastmcp, jwt, pytest, ruff, mypy")),
        Command("make_help", "`make help` lists the targets", "run from the repository root",
                ("make", "--no-print-directory", "help"), expect=f"(?m){TARGETS}.*"),
        Command("no_lock_files_tracked", "no lock file with index URLs is tracked", "git rm it",
                ("git", "ls-files", "uv.lock", "package-lock.json", "**/package-lock.json"),
                expect="", needs=".git"),
    )),
    Phase(1, "01-server.md", (
        Suite("server_endpoints", "the server starts; /health, /ready and /metrics answer",
              SERVER, at(MCP_AUTH, "test_health_ready_and_metrics")),
        Suite("server_metadata", "RFC 9728 metadata names /mcp and both scopes", SERVER,
              at(MCP_AUTH, "test_protected_resource_metadata")),
        Suite("bad_key_fails_fast", "a misconfiguration fails at start with one line", SERVER,
              at(LIFECYCLE, "test_misconfiguration_fails_at_start_with_one_clear_line")),
        Suite("server_stops_cleanly", "SIGTERM drains and exits 0", SERVER,
              at(LIFECYCLE, "test_sigterm_drains_in_flight_requests_and_exits_0")),
        NO_TOKEN,
    )),
    Phase(2, "02-auth.md", (
        Suite("tokens_see_their_tools", "each token lists and calls only what its scopes allow",
              AUTH, at(MCP_AUTH, "test_tools_list_shows_only_what_the_scopes_allow",
                       "test_authorized_call_returns_the_document")),
        Suite("client_follows_scopes", "the MCP client lists and calls through the scopes", AUTH,
              at("tests/integration/test_cli.py",
                 "test_client_lists_and_calls_through_the_scopes")),
        REFUSED_SCOPE,
        NO_TOKEN,
        EXPIRED,
        Suite("foreign_origin_refused", "a request from a foreign Origin gets 403", AUTH,
              at(MCP_AUTH, "test_origin_allow_list")),
    )),
    Phase(3, "03-tests.md", (
        Suite("app_tests_pass", "the in-process tests pass", "docs/tutorial/03-tests.md",
              ("tests/app",)),
        Suite("integration_tests_pass", "the integration tests pass",
              "docs/tutorial/03-tests.md", ("tests/integration",)),
        Suite("alg_none_test_passes", "the alg=none test is there and passes",
              "tests/app/test_auth.py", at("tests/app/test_auth.py", "test_rejects_alg_none")),
    )),
    Phase(4, "04-container.md", (
        Suite("hadolint_clean", "hadolint finds nothing in the Dockerfile", "`make tools`",
              at("tests/container/test_static.py", "test_hadolint_passes")),
        Suite("image_is_hardened", "the image builds: non-root, exec-form, with a health check",
              "`make image` shows the failing step",
              at("tests/container/test_image.py", "test_image_config")),
        Suite("container_health_and_ready", "the container answers /health and /ready",
              CONTAINER, at(CONTAINER_TESTS, "test_health_and_ready_answer")),
        Suite("container_enforces_scopes", "the container enforces scoped tokens (401, lists, 403)",
              CONTAINER, at(CONTAINER_TESTS, "test_no_token_gets_401",
                            "test_tools_list_shows_only_what_the_scopes_allow",
                            "test_unauthorized_call_gets_403_insufficient_scope")),
        Suite("container_non_root_read_only", "it runs non-root on a read-only root filesystem",
              CONTAINER, at(CONTAINER_TESTS, "test_server_process_runs_as_non_root",
                            "test_works_with_read_only_root_and_tmpfs")),
        Suite("container_healthy", "Docker reports it healthy", CONTAINER,
              at(CONTAINER_TESTS, "test_health_status_becomes_healthy")),
        Suite("container_stops_with_0", "`docker stop` ends it with exit code 0", CONTAINER,
              at(CONTAINER_TESTS, "test_docker_stop_exits_zero_within_the_grace_period")),
    )),
    Phase(5, "05-infrastructure.md", (
        Command("synth_your_config", "your infra config synthesizes",
                "fix infra/config.toml; `make synth` names the setting",
                ("make", "--no-print-directory", "synth"), needs="infra/config.toml"),
        Suite("stack_is_least_privilege", "the stack: outputs, least privilege, one repository",
              "docs/tutorial/05-infrastructure.md", ("tests/infra/test_stack.py",)),
        Suite("checkov_clean", "checkov finds nothing in the synthesized stack",
              "`make checkov-infra`", ("tests/infra/test_checkov.py",)),
        Function("live_terraform_outputs", "terraform has every output", INFRA,
                 live.terraform_has_every_output, live=True),
        Command("live_cluster_hardened",
                "the cluster runs with Workload Identity, private nodes, Dataplane V2", INFRA,
                gcloud("container", "clusters", "describe", "${cluster_name}",
                       "--location", "${cluster_location}",
                       "--format=value(status,workloadIdentityConfig.workloadPool,"
                       "privateClusterConfig.enablePrivateNodes,networkConfig.datapathProvider,"
                       "masterAuthorizedNetworksConfig.enabled)"),
                expect="RUNNING\t${project_id}.svc.id.goog\tTrue\tADVANCED_DATAPATH\tTrue",
                live=True),
        Command("live_nodes_hardened",
                "the nodes are shielded, GKE_METADATA, auto-repaired and upgraded", INFRA,
                gcloud("container", "node-pools", "list", "--cluster", "${cluster_name}",
                       "--location", "${cluster_location}",
                       "--format=value(config.workloadMetadataConfig.mode,"
                       "config.shieldedInstanceConfig.enableSecureBoot,"
                       "config.shieldedInstanceConfig.enableIntegrityMonitoring,"
                       "management.autoRepair,management.autoUpgrade)"),
                expect="GKE_METADATA\tTrue\tTrue\tTrue\tTrue", live=True),
        Command("live_registry_exists", "the registry is Docker with immutable tags", INFRA,
                gcloud("artifacts", "repositories", "describe", "${registry_name}", "--location",
                       "${region}", "--format=value(format,dockerConfig.immutableTags)"),
                expect="DOCKER\tTrue", live=True),
        Command("live_secret_has_version", "the signing key secret has an enabled version",
                '.venv/bin/mcp-key --project "$PROJECT" create',
                gcloud("secrets", "versions", "list", "${secret_id}", "--filter=state=ENABLED",
                       "--format=value(name)"),
                expect=".+", live=True),
        Command("live_only_app_reads_secret", "only the app's service account may read the secret",
                INFRA, gcloud("secrets", "get-iam-policy", "${secret_id}",
                              "--flatten=bindings[].members", "--format=value(bindings.members)"),
                expect="serviceAccount:${app_service_account}", live=True),
        Command("live_wif_admits_one_repository", "the WIF provider admits one repository, by id",
                INFRA, ("gcloud", "iam", "workload-identity-pools", "providers", "describe",
                        "${wif_provider}", "--format=value(attributeCondition)"),
                expect=r".*assertion\.repository_id ==.*", live=True),
    )),
    Phase(6, "06-helm-external-secrets.md", (
        Suite("helm_lint", "helm lint --strict passes with every values file", CHART,
              at("tests/chart/test_validators.py", "test_helm_lint_strict")),
        Suite("chart_renders_both_paths",
              "values-dev.yaml renders without ESO, values-gke.yaml with it", CHART,
              at("tests/chart/test_validators.py", "test_renders_the_expected_objects")),
        Suite("schema_rejects_typos", "the values schema refuses a typo and the latest tag",
              "helm/mcp-server/values.schema.json",
              at("tests/chart/test_values.py", "test_schema_rejects_a_misspelled_value",
                 "test_latest_tag_is_refused")),
        Suite("chart_renders_two_spread_replicas",
              "two replicas spread over nodes, probing /health and /ready", CHART,
              at(OBJECTS, "test_replicas_and_spread", "test_probes_and_their_paths")),
        Suite("chart_reads_the_secret_eso_writes",
              "the pods read the Secret the ExternalSecret writes", CHART,
              at(OBJECTS, "test_external_secret_writes_the_secret_the_deployment_reads")),
        Function("live_values_match_outputs", "values-gke.yaml matches the terraform outputs",
                 "copy the terraform outputs into values-gke.yaml (phase 6, step A1)",
                 live.values_match_outputs, live=True),
        READY,
        Command("live_external_secret_synced", "the ExternalSecret synced the key into its Secret",
                "kubectl -n mcp-prototype describe externalsecret",
                ("kubectl", "-n", "${namespace}", "get", "secret", "${secret}",
                 "-o", "jsonpath={.metadata.ownerReferences[0].kind}"),
                expect="ExternalSecret", live=True),
        TWO_NODES,
        Function("live_public_token_through_port_forward",
                 "through a port-forward, a public:read token lists get_public_info",
                 "docs/tutorial/06-helm-external-secrets.md (port-forward and token steps)",
                 live.public_token_through_port_forward, live=True),
    )),
    Phase(7, "07-pipeline.md", (
        Suite("workflows_lint_clean",
              "workflows pass actionlint, zizmor --offline and the JSON schemas",
              "`make lint-workflows`",
              at(WORKFLOWS, "test_actionlint_with_shellcheck_is_clean",
                 "test_zizmor_offline_has_no_findings", "test_json_schema")),
        Suite("actions_pinned", "every action is pinned to a commit SHA with its version",
              "use owner/repo@<40-hex sha> # vX.Y.Z",
              at(WORKFLOWS, "test_every_action_is_pinned_to_a_commit_with_its_version")),
        Suite("bump_is_idempotent", "the bump changes two lines, and a second run nothing",
              "`python3 scripts/bump_image_tag.py --help`",
              at(BUMP, "test_bump_changes_exactly_the_tag_and_digest_lines",
                 "test_second_run_changes_nothing")),
        NO_BUILD_LOOP,
        Suite("workflow_wiring", "workflow variables are the infra outputs; the digest flows on",
              f"{PIPELINE}, step 3",
              (*at(WORKFLOWS, "test_repository_variables_are_the_infra_outputs"),
               "tests/pipeline/test_image_data_flow.py")),
        Function("live_repository_variables",
                 "the repository variables equal the terraform outputs",
                 f"{PIPELINE}, step 3", live.repository_variables, live=True),
        Command("live_last_image_run_green", "the last image.yml run on main succeeded",
                "`gh run view --log-failed`",
                ("gh", "run", "list", "--workflow", "image.yml", "--branch", "main", "--limit", "1",
                 "--json", "conclusion", "--jq", ".[0].conclusion"),
                expect="success", live=True),
        Command("live_bump_commit_by_pipeline",
                "the last change to values-gke.yaml is the pipeline's", "git pull",
                ("git", "log", "-1", "--format=%an", "--", live.VALUES_GKE),
                expect=r"github-actions\[bot\]", live=True),
        Command("live_digest_in_registry", "the digest in values-gke.yaml is the registry's",
                "git pull; re-run image.yml",
                ("gcloud", "artifacts", "docker", "images", "describe",
                 "${registry_url}/mcp-server:${tag}", "--format", "value(image_summary.digest)"),
                expect="${digest}", live=True),
    )),
    Phase(8, "08-argocd.md", (
        Suite("application_tracks_chart", "the Applications track helm/mcp-server on main",
              ARGOCD, ("tests/chart/test_argocd.py",)),
        Function("application_points_at_your_fork", "the Application points at your repository",
                 "set repoURL in argocd/application.yaml (step 1)", live.application_is_yours,
                 needs="infra/config.toml"),
        Command("live_application_synced", "the Application is Synced and Healthy",
                "argocd app get mcp-server",
                ("kubectl", "-n", "${app_namespace}", "get", "application", "${app_name}",
                 "-o", "jsonpath={.status.sync.status} {.status.health.status}"),
                expect="Synced Healthy", live=True),
        Command("live_application_at_main", "ArgoCD synced the head of origin/main",
                "kubectl -n argocd annotate application mcp-server "
                "argocd.argoproj.io/refresh=normal",
                ("kubectl", "-n", "${app_namespace}", "get", "application", "${app_name}",
                 "-o", "jsonpath={.status.sync.revision}"),
                expect="${origin_main}", live=True),
        READY,
    )),
    Phase(9, "09-end-to-end.md", (
        NO_BUILD_LOOP,
        Suite("chart_runs_the_digest", "with a digest set, the chart runs repository@digest",
              CHART, at(BUMP, "test_bumped_chart_renders_the_new_image")),
        REFUSED_SCOPE,
        EXPIRED,
        Command("live_pods_run_the_bumped_digest", "the pods run the digest in values-gke.yaml",
                "wait for ArgoCD, or refresh it (step 1)",
                ("kubectl", "-n", "${namespace}", "get", "pods", "-l", "${selector}", "-o",
                 "jsonpath={range .items[*]}{.status.containerStatuses[0].imageID}{'\\n'}{end}"),
                expect=r"(\S+@${digest}\s*)+", live=True),
        Function("live_scoped_calls_through_port_forward",
                 "through a port-forward, each token sees what its scopes allow", END_TO_END,
                 live.scoped_calls_through_port_forward, live=True),
        Function("live_expired_token_refused", "through a port-forward, an expired token gets 401",
                 END_TO_END, live.expired_token_through_port_forward, live=True),
        Function("live_logs_record_decisions", "the logs record the denied call, and no token",
                 "kubectl -n mcp-prototype logs -l app.kubernetes.io/name=mcp-server",
                 live.logs_record_decisions, live=True),
        TWO_NODES,
    )),
    Phase(10, "10-sign-in.md", (
        Suite("signin_settings_refused", "a bad policy or missing sign-in setting stops the server",
              f"{SIGNIN} sections 1 and 7",
              at("tests/signin/test_signin_config.py",
                 "test_the_server_exits_2_with_the_policy_error",
                 "test_incomplete_sign_in_settings_are_refused")),
        Suite("shared_key_mode_is_honest",
              "shared-key metadata names no authorization server; /register says make token",
              f"{SIGNIN} and docs/clients.md", ("tests/clients/test_metadata.py",)),
        Suite("signin_flow_passes",
              "a person signs in through a test provider and sees what the policy grants",
              f"{SIGNIN} section 2", ("tests/signin/test_signin_flow.py",)),
        Suite("chart_signin",
              "the chart serves sign-in behind the load balancer, refusing what cannot work",
              f"{SIGNIN} section 7", ("tests/chart/test_signin.py", "tests/chart/test_ingress.py")),
        Suite("stack_has_signin_resources",
              "signin_host adds Memorystore (AUTH, TLS, the cluster's VPC), TLS 1.2+, Cloud Armor",
              f"{SIGNIN} section 4", ("tests/infra/test_signin.py",)),
        Function("live_authorization_server",
                 "the public address serves the authorization server metadata",
                 f"{SIGNIN} section 6", live.authorization_server, live=True),
    )),
)  # fmt: skip

# Each check once, by name (--check NAME), under the first phase that lists it.
CHECKS: dict[str, Check] = {}
HOME: dict[str, Phase] = {}
for _phase in PHASES:
    for _check in _phase.checks:
        CHECKS.setdefault(_check.name, _check)
        HOME.setdefault(_check.name, _phase)
