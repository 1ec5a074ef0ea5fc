"""Every values combination (pairwise over the chart's features) renders, validates, and
stays inside the ArgoCD project; the NetworkPolicy lets the load balancer in only with
the Ingress.

The combinations come from combinations.py; each is rendered once per session.
Validators: helm lint --strict, kubernetes-validate --strict (built-in kinds),
the ExternalSecret/SecretStore CRD validators (custom resources). No validator
for GKE's BackendConfig and FrontendConfig installs from a registry here; their
fields are asserted in test_ingress.py.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.chart.combinations import (
    FEATURES,
    LB_ADDRESS,
    NAMES,
    REDIS_HOST,
    Choice,
    coverable_pairs,
    pairs_of,
    pairwise,
    picked,
    to_combo,
)
from tests.chart.rendering import CHART, K8S_VERSIONS, Chart, Combo, parse_all
from tests.chart.test_validators import (
    CHECKOV_CONFIG,
    CRD_GROUPS,
    run_crd_validator,
    run_kubernetes_validate,
)
from tests.helpers import tool

pytestmark = pytest.mark.chart

CHOICES = pairwise()
COMBOS: dict[str, Combo] = {to_combo(c).name: to_combo(c) for c in CHOICES}
CHOICE_OF = {to_combo(c).name: c for c in CHOICES}
# Google's load balancer and health-check source ranges (Cloud Load Balancing docs).
LB_RANGES = ["35.191.0.0/16", "130.211.0.0/22"]
INGRESS_ON = {"ingress", "ingress-tls-secret"}


@pytest.fixture(scope="module")
def rendered(chart: Chart) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for name, combo in COMBOS.items():
        result = chart.template(chart.args(combo))
        assert result.returncode == 0, f"{name}:\n{result.stderr}"
        out[name] = parse_all(result.stdout)
    return out


def _booleans(node: Any, path: str = "") -> set[str]:
    if isinstance(node, dict):
        return {b for k, v in node.items() for b in _booleans(v, f"{path}{k}.")}
    return {path.rstrip(".")} if isinstance(node, bool) else set()


def test_every_switch_in_values_yaml_is_a_feature() -> None:
    """A new boolean in values.yaml with no feature here would never be rendered flipped."""
    switches = _booleans(YAML(typ="safe").load((CHART / "values.yaml").read_text()))
    flipped = {
        item.split("=", 1)[0]
        for options in FEATURES.values()
        for option in options.values()
        for item in option.sets
        if item.endswith(("=true", "=false"))
    }
    assert switches <= flipped, f"not toggled by any feature: {sorted(switches - flipped)}"


def test_the_combinations_cover_every_pair_of_options() -> None:
    covered: set[tuple[int, str, int, str]] = set()
    for choice in CHOICES:
        covered |= pairs_of(choice)
    assert coverable_pairs() - covered == set()
    assert len(CHOICES) < 40  # pairwise, not the product


@pytest.mark.parametrize("name", list(COMBOS))
def test_helm_lint_strict(chart: Chart, name: str) -> None:
    result = chart.helm_run("lint", "--strict", *chart.args(COMBOS[name]))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("version", [K8S_VERSIONS[0], K8S_VERSIONS[-1]])
def test_kubernetes_validate_strict(
    rendered: dict[str, list[dict[str, Any]]], version: str, tmp_path: Path
) -> None:
    result = run_kubernetes_validate(rendered, version, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_external_secrets_pass_their_crd_schemas(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    objects = [
        o for objs in rendered.values() for o in objs if o["apiVersion"].startswith(CRD_GROUPS)
    ]
    assert {o["kind"] for o in objects} == {"ExternalSecret", "SecretStore"}
    result = run_crd_validator(objects)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok ") == len(objects)


def _permitted(argocd_objects: dict[str, dict[str, Any]]) -> set[tuple[str, str]]:
    return {
        (entry["group"], entry["kind"])
        for entry in argocd_objects["project"]["spec"]["namespaceResourceWhitelist"]
    }


def _kinds(objects: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(o["apiVersion"].rpartition("/")[0], o["kind"]) for o in objects}


def test_the_project_permits_exactly_the_kinds_the_chart_can_render(
    rendered: dict[str, list[dict[str, Any]]], argocd_objects: dict[str, dict[str, Any]]
) -> None:
    permitted = _permitted(argocd_objects)
    for name, objects in rendered.items():
        # ArgoCD refuses the whole sync when one object's kind is not permitted.
        assert _kinds(objects) <= permitted, f"{name}: {_kinds(objects) - permitted}"
    every = set().union(*(_kinds(objects) for objects in rendered.values()))
    assert every == permitted, f"permitted but never rendered: {permitted - every}"
    assert not any(kind == "Secret" for _, kind in permitted), "ArgoCD never holds a secret"


def _network_policy(objects: list[dict[str, Any]]) -> dict[str, Any] | None:
    found = [o for o in objects if o["kind"] == "NetworkPolicy"]
    return found[0]["spec"] if found else None


def _ip_blocks(rules: list[dict[str, Any]]) -> list[str]:
    return [
        peer["ipBlock"]["cidr"]
        for rule in rules
        for peer in rule.get("from", []) + rule.get("to", [])
        if "ipBlock" in peer
    ]


@pytest.mark.parametrize("name", list(COMBOS))
def test_the_network_policy_admits_the_load_balancer_only_with_the_ingress(
    rendered: dict[str, list[dict[str, Any]]], name: str
) -> None:
    choice = picked(CHOICE_OF[name])
    policy = _network_policy(rendered[name])
    if choice["network-policy"] == "off":
        assert policy is None
        return
    assert policy is not None
    ingress = policy["ingress"]
    lb_rules = [r for r in ingress if _ip_blocks([r])]
    if choice["signin"] in INGRESS_ON:
        (rule,) = lb_rules
        assert _ip_blocks([rule]) == LB_RANGES
        assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
        assert [p for p in rule["from"] if "ipBlock" not in p] == []
    else:
        assert lb_rules == []


@pytest.mark.parametrize("name", list(COMBOS))
def test_egress_is_dns_the_issuer_and_the_store_and_nothing_more(
    rendered: dict[str, list[dict[str, Any]]], name: str
) -> None:
    choice = picked(CHOICE_OF[name])
    policy = _network_policy(rendered[name])
    if policy is None:
        return
    egress = policy["egress"]
    ports = sorted((p["port"], p["protocol"]) for rule in egress for p in rule["ports"])
    expected = [(53, "TCP"), (53, "UDP")]
    if choice["jwks"] == "on" or choice["signin"] != "off":
        expected.append((443, "TCP"))
    store = {"memorystore": 6378, "ingress": 6378, "ingress-tls-secret": 6378, "plain-redis": 6379}
    if choice["signin"] in store:
        expected.append((store[choice["signin"]], "TCP"))
    assert ports == sorted(expected)
    # Memorystore is an IP: egress goes to it alone; a host name cannot be an ipBlock.
    blocks = _ip_blocks(egress)
    assert blocks == ([f"{REDIS_HOST}/32"] if store.get(choice["signin"]) == 6378 else [])


@pytest.mark.parametrize("name", list(COMBOS))
def test_forwarded_addresses_are_trusted_only_behind_the_load_balancer(
    rendered: dict[str, list[dict[str, Any]]], name: str
) -> None:
    choice: Choice = CHOICE_OF[name]
    (deployment,) = [o for o in rendered[name] if o["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    if picked(choice)["signin"] in INGRESS_ON:
        assert env["MCP_FORWARDED_ALLOW_IPS"].split(",") == [*LB_RANGES, LB_ADDRESS]
        seconds = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert seconds >= 15
        drain = int(env["MCP_SHUTDOWN_DRAIN_SECONDS"])
        timeout = int(env["MCP_SHUTDOWN_TIMEOUT_SECONDS"])
        assert pod["terminationGracePeriodSeconds"] > seconds + drain + timeout
    else:
        assert "MCP_FORWARDED_ALLOW_IPS" not in env
        assert "lifecycle" not in container


def test_every_feature_name_is_known() -> None:
    assert set(NAMES) == set(FEATURES)


def test_checkov_is_clean_on_every_combination(
    rendered: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    """The chart's checkov settings (helm/.checkov.yaml) hold for sign-in's objects too."""
    for name, objects in rendered.items():
        # JSON is YAML: one document per object, as helm template writes them.
        (tmp_path / f"{name}.yaml").write_text("\n---\n".join(json.dumps(o) for o in objects))
    result = subprocess.run(
        [tool("checkov"), "--config-file", str(CHECKOV_CONFIG), "-d", str(tmp_path), "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    report = json.loads(result.stdout)
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})"
        for c in report["results"]["failed_checks"]
    ]
    assert report["summary"]["failed"] == 0, "\n".join(failed)
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 0


def test_every_server_setting_the_chart_renders_is_one_the_server_reads(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    # pydantic-settings ignores an MCP_ variable it does not know, so a misspelled or
    # renamed one would leave the pod running on the default without a word.
    from app.config import Settings

    known = {f"MCP_{name.upper()}" for name in Settings.model_fields}
    rendered_names = {
        env["name"]
        for objects in rendered.values()
        for obj in objects
        if obj["kind"] == "Deployment"
        for container in obj["spec"]["template"]["spec"]["containers"]
        for env in container.get("env", [])
        if env["name"].startswith("MCP_")
    }
    assert "MCP_REDIS_PASSWORD_FILE" in rendered_names  # the sign-in combinations ran
    assert rendered_names <= known, sorted(rendered_names - known)
