"""Phases 5-9 work, step by step, on a real Google Cloud project.

None of these steps can run here (no cloud account), so these tests guard the
order and the spelling of the commands instead: each one pins a way a learner
got stuck on a real project (the tool installed before its first use, a push
after the commit the pipeline builds on, one local port per server, the run
of *this* commit, the teardown that a re-apply can follow, ...). The docs are
read by tests/docs/markdown.py: the `$ ` lines of the ```console blocks, in document order.

The file is long because it holds one test per way a learner got stuck, each
with the story in its docstring; they share the one console-block parser.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from app.config import Settings
from infra.mcp_infra.outputs import PLAN_VARIABLES, REPOSITORY_VARIABLES
from infra.mcp_infra.settings import InfraConfig
from tests.docs import markdown
from tests.docs.markdown import TUTORIAL, Command, console_commands
from tests.helpers import ROOT, require

CLOUD_PHASES = (
    "05-infrastructure.md",
    "06-helm-external-secrets.md",
    "07-pipeline.md",
    "08-argocd.md",
    "09-end-to-end.md",
)
# A stretch of a phase without a Verify block longer than this is a part that
# needs its own Verify (the guideline says "about 200 lines").
MAX_LINES_WITHOUT_VERIFY = 220


def read(doc: str) -> str:
    return (TUTORIAL / doc).read_text(encoding="utf-8")


def commands(doc: str) -> list[Command]:
    """Every `$ ` command in the doc's console blocks, also in indented (list) blocks."""
    return console_commands(read(doc), doc)


def all_commands() -> list[Command]:
    """The commands of phases 5-9, in the order a learner runs them."""
    return [command for doc in CLOUD_PHASES for command in commands(doc)]


def first(cmds: list[Command], pattern: str) -> int:
    """Index of the first command matching the regex, or -1."""
    return next((n for n, c in enumerate(cmds) if re.search(pattern, c.text)), -1)


def headings(doc: str) -> list[tuple[int, int, str]]:
    """(line, level, title) of each Markdown heading outside code fences."""
    return [(h.line, h.level, h.title) for h in markdown.headings(read(doc))]


def slug(title: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", title.lower())
    return text.replace(" ", "-")


def section(doc: str, title: str) -> str:
    """The text under a heading, up to the next heading of the same or a higher level."""
    return markdown.section(read(doc), title)


# --- the shape of each phase ---------------------------------------------------------------


@pytest.mark.parametrize("doc", CLOUD_PHASES)
def test_every_part_ends_in_a_verify_block(doc: str) -> None:
    """No stretch of more than ~200 lines without a Verify, and the phase ends in one."""
    heads = headings(doc)
    verify_lines = [line for line, _level, title in heads if title.startswith("Verify")]
    assert verify_lines, f"{doc} has no Verify heading"
    total = len(read(doc).splitlines())
    stretches = zip([1, *verify_lines], [*verify_lines, total], strict=True)
    for start, end in list(stretches)[:-1]:
        assert end - start <= MAX_LINES_WITHOUT_VERIFY, (
            f"{doc}: lines {start}-{end} have no Verify block; split the part"
        )
    last_heading = heads[-1][2]
    assert last_heading.startswith("Verify"), f"{doc} ends in {last_heading!r}, not a Verify"
    assert "\n## Verify\n" in read(doc)


@pytest.mark.parametrize("doc", CLOUD_PHASES)
def test_links_and_anchors_point_at_real_headings(doc: str) -> None:
    """Item 13: a cross-reference ("phase 9 ends with the cleanup") must be true."""
    for target, anchor in re.findall(r"\]\(([\w./-]*?\.md)?#([\w-]+)\)", read(doc)):
        linked = target.split("/")[-1] if target else doc
        if not (TUTORIAL / linked).is_file():
            continue  # links outside the tutorial are checked by their own docs
        anchors = {slug(title) for _line, _level, title in headings(linked)}
        assert anchor in anchors, f"{doc}: {target}#{anchor} names no heading"


def test_phase_5_sends_the_full_cleanup_to_phase_9_only() -> None:
    teardown = section("05-infrastructure.md", "Teardown")
    links = re.findall(r"\]\(([\w.-]+\.md)#([\w-]+)\)", teardown)
    # The teardown links to phase 9's clean-up heading, and to no other phase's.
    titles = {
        slug(title): title for *_, title in headings("09-end-to-end.md") if "clean" in title.lower()
    }
    assert [doc for doc, anchor in links if anchor in titles] == ["09-end-to-end.md"], links
    assert {doc for doc, _ in links} <= {"09-end-to-end.md"}, links
    assert "clean" not in " ".join(title.lower() for *_, title in headings("08-argocd.md"))


# --- order of steps -------------------------------------------------------------------------


def test_auth_plugin_and_kubectl_are_installed_before_the_first_kubectl() -> None:
    """Item 2: get-credentials writes a kubeconfig that runs gke-gcloud-auth-plugin."""
    cmds = all_commands()
    install = first(cmds, r"gke-gcloud-auth-plugin")
    assert install >= 0, "no command installs gke-gcloud-auth-plugin"
    assert "kubectl" in cmds[install].text, "install kubectl with the plugin"
    use = first(cmds, r"^kubectl |get-credentials")
    assert install < use, f"{cmds[use].doc}:{cmds[use].line} runs before the plugin install"


def test_project_is_set_before_the_adc_login() -> None:
    """Item 10: the ADC login writes the current project as its quota project."""
    cmds = commands("05-infrastructure.md")
    set_project = first(cmds, r"^gcloud config set project ")
    adc_login = first(cmds, r"^gcloud auth application-default login")
    assert 0 <= set_project < adc_login


def test_values_commit_is_pushed_before_the_pipeline_runs() -> None:
    """Item 3: an unpushed commit makes the bot's bump diverge from the learner's main."""
    cmds = commands("06-helm-external-secrets.md")
    commit = first(cmds, r"^git commit .*values-gke\.yaml")
    assert commit >= 0
    push = first(cmds[commit:], r"^git push")
    assert push == 1, "push right after committing values-gke.yaml"
    for command in all_commands():
        if command.text.startswith("git pull"):
            assert "--ff-only" in command.text, f"{command.doc}:{command.line}"


def test_actions_are_turned_on_in_the_fork_before_the_first_run() -> None:
    """Item 1: GitHub disables a fork's workflows until someone enables them."""
    text = read("07-pipeline.md")
    enable = text.find("I understand my workflows, go ahead and enable them")
    assert enable >= 0
    assert enable < text.find("$ gh workflow run image.yml")
    states = [c for c in commands("07-pipeline.md") if "actions/workflows/image.yml" in c.text]
    assert states
    assert states[0].output == ("active",)


def test_run_watch_follows_the_run_of_this_commit() -> None:
    """Item 11: right after a push the newest run can be the previous commit's."""
    watches = [c for c in all_commands() if "gh run watch" in c.text]
    assert len(watches) >= 2
    for command in all_commands():
        if "RUN=$(gh run list" in command.text:
            assert '--commit "$SHA"' in command.text, f"{command.doc}:{command.line}"
            # A re-run of the same commit: its failed run must not be taken for the new one.
            assert "select(.databaseId > $LAST)" in command.text, f"{command.doc}:{command.line}"
        if "gh run watch" in command.text:
            assert ".[0]" not in command.text
            assert "gh run list" not in command.text
    for doc in ("07-pipeline.md", "09-end-to-end.md"):
        cmds = commands(doc)
        sha = first(cmds, r"^SHA=\$\(git rev-parse HEAD\)")
        assert 0 <= sha < first(cmds, r"gh run list .*--commit") < first(cmds, r"^gh run watch")
        last = first(cmds, r"^LAST=\$\(gh run list ")
        started = first(cmds, r"^gh workflow run |^git push")
        assert 0 <= last < started < first(cmds, r"select\(\.databaseId > \$LAST\)")


def test_argocd_cli_is_installed_and_logged_in_before_repo_add() -> None:
    """Item 14: `argocd repo add` needs the CLI, and a session with the server."""
    text = read("08-argocd.md")
    cmds = commands("08-argocd.md")
    install = first(cmds, r"argo-cd/releases/download/.*/argocd-")
    login = first(cmds, r"^argocd login ")
    repo_add = first(cmds, r"^argocd repo add ")
    apply_argocd = first(cmds, r"^kubectl apply -n argocd ")
    assert 0 <= apply_argocd < install < login < repo_add
    assert text.find("argocd repo add") == text.find("$ argocd repo add") + 2, (
        "argocd repo add is shown before the CLI is installed"
    )
    # The install URL's version is the ArgoCD the cluster runs.
    version = re.search(r"argo-cd/(v[\d.]+)/manifests/install\.yaml", text)
    assert version
    assert f"download/{version.group(1)}/" in cmds[install].text


def test_every_file_with_the_fork_placeholder_is_named() -> None:
    """Item 14: "both files" was three."""
    step = section("08-argocd.md", "1. Point the objects at your fork")
    # The files naming the repository: YOUR_GITHUB_USER here, the learner's
    # user in a fork after this very step (so the test holds in both).
    holders = sorted(
        p.name
        for p in (ROOT / "argocd").glob("*.yaml")
        if re.search(r"github\.com[/:][\w-]+/secure-mcp-server", p.read_text())
    )
    assert len(holders) >= 3
    for name in holders:
        assert f"argocd/{name}" in step, name
    words = {2: "two", 3: "three", 4: "four"}
    assert f"All {words[len(holders)]} files" in step
    assert "Both files" not in read("08-argocd.md")


def test_kind_secret_is_recreated_after_helm_uninstall() -> None:
    """Item 9: the fake provider's ExternalSecret owns the Secret; uninstall deletes it."""
    cmds = commands("08-argocd.md")
    uninstall = first(cmds, r"helm uninstall mcp-server")
    values = YAML(typ="safe").load((ROOT / "helm" / "mcp-server" / "values.yaml").read_text())
    recreate = first(cmds, rf"create secret generic {values['signingKey']['secretName']}\b")
    apply_kind = first(cmds, r"application-kind\.yaml")
    assert 0 <= uninstall < recreate < apply_kind
    assert "creationPolicy: Owner" in section("08-argocd.md", "2. Hand the release over to ArgoCD")


# --- one port, one server -------------------------------------------------------------------


def servers_by_port(doc: str) -> dict[int, set[str]]:
    """Which server answers each local port in the phase: `make run`, or a port-forward."""
    ports: dict[int, set[str]] = {}
    if "`make run`" in read(doc):
        ports.setdefault(Settings.model_fields["port"].default, set()).add("make run")
    for command in commands(doc):
        forward = re.search(r"port-forward (\S+) (\d+)(?::\d+)?", command.text)
        if forward:
            ports.setdefault(int(forward.group(2)), set()).add(forward.group(1))
    return ports


@pytest.mark.parametrize("doc", CLOUD_PHASES)
def test_one_local_port_serves_one_server(doc: str) -> None:
    """Item 5: a port-forward on 8080 next to `make run` sent calls to the wrong key."""
    ports = servers_by_port(doc)
    for port, servers in ports.items():
        assert len(servers) == 1, f"{doc}: port {port} is served by {sorted(servers)}"
    for command in commands(doc):
        for port in re.findall(r"(?:127\.0\.0\.1|localhost):(\d+)", command.text):
            assert int(port) in ports, f"{doc}:{command.line}: nothing serves port {port}"


def test_port_forwards_to_the_mcp_server_use_one_port_everywhere() -> None:
    forwards = {
        port
        for doc in CLOUD_PHASES
        for port, servers in servers_by_port(doc).items()
        if "svc/mcp-server" in servers
    }
    assert forwards == {18080}


# --- commands in their current spellings ----------------------------------------------------


def test_public_address_is_asked_for_as_ipv4() -> None:
    """Item 7: the authorized networks are IPv4; ifconfig.me may answer in IPv6."""
    places = [*(TUTORIAL / doc for doc in CLOUD_PHASES), ROOT / "infra" / "README.md"]
    places.append(ROOT / "infra" / "config.example.toml")
    seen = 0
    for path in places:
        for match in re.finditer(r"curl [^`\n]*ifconfig\.me", path.read_text()):
            seen += 1
            assert " -4" in match.group(0), f"{path.name}: {match.group(0)}"
    assert seen >= 2
    assert "i/o timeout" in read("05-infrastructure.md")


# kind's default node image per release (its release notes, "Breaking Changes").
KIND_DEFAULT_NODE = {
    (0, 19): (1, 27),
    (0, 20): (1, 27),
    (0, 21): (1, 29),
    (0, 22): (1, 29),
    (0, 23): (1, 30),
    (0, 24): (1, 31),
    (0, 25): (1, 31),
}


def test_kind_version_creates_nodes_the_chart_accepts() -> None:
    """Item 8: kind 0.20 makes Kubernetes 1.27 nodes; the chart needs 1.29."""
    text = read("06-helm-external-secrets.md")
    stated = re.search(r"kind\]\([^)]*\) (\d+)\.(\d+)(?:\.\d+)? or\s+newer", text)
    assert stated, "phase 6 names no minimum kind version"
    kind = (int(stated.group(1)), int(stated.group(2)))
    assert kind in KIND_DEFAULT_NODE, f"add kind {kind} and its default node to the table"
    chart = (ROOT / "helm" / "mcp-server" / "Chart.yaml").read_text()
    needed = re.search(r'kubeVersion: ">=(\d+)\.(\d+)', chart)
    assert needed
    assert KIND_DEFAULT_NODE[kind] >= (int(needed.group(1)), int(needed.group(2)))


def test_gke_image_is_built_for_amd64_before_it_is_pushed() -> None:
    """Item 6: GKE's nodes are x86-64; an arm64 laptop builds arm64 by default."""
    cmds = commands("06-helm-external-secrets.md")
    build = first(cmds, r"^make image PLATFORM=linux/amd64$")
    push = first(cmds, r"^docker push ")
    assert 0 <= build < push
    for doc in CLOUD_PHASES:
        doc_cmds = commands(doc)
        pushes = [n for n, c in enumerate(doc_cmds) if c.text.startswith("docker push ")]
        for n, command in enumerate(doc_cmds):
            if command.text.startswith("make image") and any(p > n for p in pushes):
                assert "PLATFORM=linux/amd64" in command.text, f"{doc}:{command.line}"


def test_registry_describe_shows_what_gcloud_prints_on_stderr() -> None:
    """Item 12: gcloud prints the encryption and the size whatever --format says."""
    describe = [
        c for c in commands("05-infrastructure.md") if "artifacts repositories describe" in c.text
    ]
    assert describe
    output = describe[0].output
    assert output[0] == "Encryption: Google-managed key"
    assert re.fullmatch(r"Repository Size: \d+\.\d{3}MB", output[1])
    assert output[2] == "DOCKER\tTrue"


def test_no_gnu_only_sed_in_the_cloud_phases() -> None:
    """BSD sed needs a suffix after -i and does not turn \\n into a newline."""
    for command in all_commands():
        assert not re.search(r"\bsed -i ", command.text), f"{command.doc}:{command.line}"
        assert not re.search(r"sed [^|]*s/[^/]*/[^/]*\\n", command.text), command.text
        assert "| wc -l" not in command.text, f"{command.doc}:{command.line}: BSD pads wc"


# --- what the learner's account needs, and the quotas -----------------------------------------


def test_roles_table_grant_loop_and_verify_list_agree() -> None:
    roles_section = section("05-infrastructure.md", "The roles your own account needs")
    table = {
        role
        for row in markdown.table_rows(roles_section)
        for role in re.findall(r"^`(roles/[\w.]+)`$", row[0])
    }
    assert {"roles/container.admin", "roles/iam.serviceAccountUser"} <= table
    assert "roles/compute.securityAdmin" in table, "Network Admin cannot create firewall rules"
    loop = next(c for c in commands("05-infrastructure.md") if c.text.startswith("for role in"))
    granted = {f"roles/{name}" for name in loop.text.split(" in ", 1)[1].split(";")[0].split()}
    assert granted == table
    shown = next(c for c in commands("05-infrastructure.md") if "get-iam-policy" in c.text)
    assert list(shown.output) == sorted(table)


def test_quota_table_and_quota_commands_name_the_same_metrics() -> None:
    quotas = section("05-infrastructure.md", "3. Check the quotas")
    in_table = set(re.findall(r"`([A-Z_]+)`", quotas))
    asked: set[str] = set()
    for command in commands("05-infrastructure.md"):
        # `describe` has no --filter: awk picks the metrics from the flattened quotas.
        for listed in re.findall(r"awk '\$1 (?:~ /\^\(|== \")([A-Z_|]+)", command.text):
            asked |= set(listed.split("|"))
    assert {"CPUS", "CPUS_ALL_REGIONS", "SSD_TOTAL_GB", "STATIC_ADDRESSES"} <= in_table
    assert asked == in_table
    quota_steps = first(commands("05-infrastructure.md"), r"regions describe")
    assert quota_steps < first(commands("05-infrastructure.md"), r"^terraform apply")


# --- teardown and re-apply --------------------------------------------------------------------


def test_teardown_keeps_the_state_bucket_and_reapply_adopts_the_pool() -> None:
    """Item 4: the pool is only soft-deleted; the bucket and the key are needed again."""
    teardown = section("05-infrastructure.md", "Teardown")
    assert "$ gcloud storage rm" not in teardown
    cmds = commands("05-infrastructure.md")
    destroy = first(cmds, r"^terraform destroy")
    pool = first(cmds, r"^gcloud iam workload-identity-pools undelete github-actions ")
    provider = first(cmds, r"^gcloud iam workload-identity-pools providers undelete github ")
    imports = [n for n, c in enumerate(cmds) if c.text.startswith("terraform import ")]
    apply_again = max(n for n, c in enumerate(cmds) if c.text.startswith("terraform apply"))
    key = max(n for n, c in enumerate(cmds) if "mcp-key" in c.text and c.text.endswith(" create"))
    assert 0 <= destroy < pool < provider < imports[0]
    assert len(imports) == 2
    assert imports[-1] < apply_again < key
    cleanup = commands("09-end-to-end.md")
    assert first(cleanup, r"destroy$") < first(cleanup, r"^gcloud storage rm --recursive")


def import_addresses() -> dict[str, tuple[str, str]]:
    """Resource type -> (logical id, import id) of the doc's `terraform import` commands."""
    found = {}
    for command in commands("05-infrastructure.md"):
        match = re.match(r'terraform import (\w+)\.(\w+) "([^"]+)"', command.text)
        if match:
            found[match.group(1)] = (match.group(2), match.group(3))
    return found


def test_import_ids_name_the_configured_pool_and_provider() -> None:
    from infra.mcp_infra.config import InfraConfig

    pool_id = InfraConfig.model_fields["wif_pool_id"].default
    provider_id = InfraConfig.model_fields["wif_provider_id"].default
    found = import_addresses()
    pool_path = f"projects/${{PROJECT}}/locations/global/workloadIdentityPools/{pool_id}"
    assert found["google_iam_workload_identity_pool"][1] == pool_path
    assert (
        found["google_iam_workload_identity_pool_provider"][1]
        == f"{pool_path}/providers/{provider_id}"
    )


def cdktn_available() -> bool:
    return (
        importlib.util.find_spec("cdktn") is not None
        and importlib.util.find_spec("cdktn_provider_google") is not None
        and shutil.which("node") is not None
    )


@pytest.mark.infra
def test_import_addresses_are_the_stacks_resources(tmp_path: Path) -> None:
    """The logical ids in the doc are those of a synthesized stack (they change with a rename)."""
    require(cdktn_available(), "cdktn / cdktn-provider-google or node missing; run `make synth`")
    import json

    from infra.mcp_infra.config import from_mapping
    from infra.mcp_infra.stack import build_app
    from tests.infra.example import EXAMPLE_SETTINGS

    config = from_mapping(EXAMPLE_SETTINGS, source="example")
    app, _stack = build_app(config, outdir=str(tmp_path))
    app.synth()
    synthesized = json.loads((tmp_path / "stacks" / config.stack_name / "cdk.tf.json").read_text())
    assert import_addresses(), "phase 5 shows no terraform import"
    for rtype, (logical_id, _import_id) in import_addresses().items():
        assert logical_id in synthesized["resource"].get(rtype, {}), f"{rtype}.{logical_id}"


# --- make verify installs what it runs ------------------------------------------------------


def test_make_verify_installs_the_validators() -> None:
    """`make verify PHASE=6` on a fresh checkout failed five checks: helm was missing.

    Its offline checks run tests, so it installs what `make test` does (`make tools` too).
    """
    rule = re.search(r"^verify:([^#\n]*)", (ROOT / "mk" / "pipeline.mk").read_text(), re.M)
    assert rule
    assert "test-deps" in rule.group(1).split()  # what `make test` installs: tools among it


def test_infra_readme_points_at_real_tutorial_headings() -> None:
    """infra/README.md sends the teardown and the roles to phase 5; those anchors must exist."""
    text = (ROOT / "infra" / "README.md").read_text()
    links = re.findall(r"\(\.\./docs/tutorial/([\w.-]+\.md)#([\w-]+)\)", text)
    assert len(links) >= 2
    for doc, anchor in links:
        assert anchor in {slug(title) for *_, title in headings(doc)}, f"{doc}#{anchor}"


def test_phase_7_reads_the_tag_the_bot_wrote_to_values_gke() -> None:
    """The TAG= line, run as written, gives values-gke.yaml's image tag (not a commit's)."""
    line = next(c.text for c in commands("07-pipeline.md") if c.text.startswith("TAG="))
    assert "values-gke.yaml" in line
    assert "cut -f" not in line
    result = subprocess.run(
        ["bash", "-c", f'{line}; printf %s "$TAG"'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    values = YAML(typ="safe").load((ROOT / "helm/mcp-server/values-gke.yaml").read_text())
    assert result.stdout == str(values["image"]["tag"])


def test_cleanup_removes_what_the_earlier_phases_left_behind() -> None:
    """Phase 9's clean-up undoes phase 7's variables, phase 8's deploy key and the logins."""
    cleanup = [c.text for c in commands("09-end-to-end.md")]
    loop = re.search(r"for v in ([\w ]+); do gh variable delete", " ".join(cleanup))
    assert loop is not None
    # Both workflows' variables: image.yml's and infra.yml's (with the config it synthesizes).
    assert set(loop.group(1).split()) == set(REPOSITORY_VARIABLES) | set(PLAN_VARIABLES) | {
        "INFRA_CONFIG_TOML"
    }
    added = re.search(r"gh repo deploy-key add \S+ --title (\S+)", read("08-argocd.md"))
    assert added is not None
    title = added.group(1)
    assert any("deploy-key delete" in t and f'"{title}"' in t for t in cleanup)
    assert any(t.strip() == "gh cache delete --all" for t in cleanup)
    kubeconfig = next(t for t in cleanup if "kubectl config delete-context" in t)
    for entry in ("delete-context", "delete-cluster", "delete-user"):
        assert f"kubectl config {entry}" in kubeconfig
    # The registry host the Docker helper entry was made for (the default region).
    region = InfraConfig.model_fields["region"].default
    assert any("credHelpers" in t and f'"{region}-docker.pkg.dev"' in t for t in cleanup)


def stack_output_names() -> list[str]:
    """The keys of stack.py's `outputs = {...}` literal, read without importing CDK Terrain."""
    tree = ast.parse((ROOT / "infra" / "mcp_infra" / "stack.py").read_text(encoding="utf-8"))
    literal = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Dict)
        and any(isinstance(target, ast.Name) and target.id == "outputs" for target in node.targets)
    )
    return [str(key.value) for key in literal.keys if isinstance(key, ast.Constant)]


def test_terraform_counts_are_not_printed_and_outputs_are_the_stacks() -> None:
    """Resource counts changed with every resource added (27, then 32); the doc says N instead.

    The outputs after the apply are the stack's, every one of them (dashboard_id was missing).
    """
    for doc in (*CLOUD_PHASES,):
        for command in commands(doc):
            for line in command.output:
                assert not re.search(
                    r"(?:Plan|Resources): (?:\d+ to import, )?\d+ (?:to add|added|destroyed)", line
                ), f"{doc}:{command.line}: {line.strip()} (write N: the stack's size varies)"
    apply = next(
        c for c in commands("05-infrastructure.md") if c.text == "terraform apply plan.tfplan"
    )
    shown = sorted(line.split(" = ")[0] for line in apply.output if re.match(r"^\w+ = ", line))
    assert shown == sorted(stack_output_names())
    counter = next(c for c in commands("05-infrastructure.md") if c.text.startswith("python3 -c"))
    assert '["resource"]' in counter.text


def test_step_numbers_named_by_hints_are_the_steps_that_do_it() -> None:
    """The verifier and the workflow sent learners to "step 2" for the variables (step 3)."""
    places = [*sorted((ROOT / "scripts" / "verify").glob("*.py"))]
    places += sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    seen = 0
    for path in places:
        for line in path.read_text().splitlines():
            for doc, step in re.findall(r"docs/tutorial/([\w-]+\.md), step ([A-Z]?\d+)", line):
                seen += 1
                titles = [t for *_, t in headings(doc) if t.startswith(f"{step}. ")]
                assert titles, f"{path.name}: {doc} has no step {step}"
                if "variable" in line.lower():
                    assert "variables" in titles[0], f"{path.name}: step {step} is {titles[0]!r}"
    assert seen >= 2
