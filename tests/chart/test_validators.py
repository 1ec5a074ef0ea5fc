"""Every values combination lints, renders, and passes the real validators.

helm lint --strict, kubernetes-validate --strict (the Kubernetes versions GKE's
regular channel runs), the CRD validators generated from the ExternalSecret,
SecretStore, Application and AppProject schemas, and checkov.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.chart.rendering import (
    ARGOCD,
    COMBOS,
    K8S_VERSIONS,
    NAMESPACE,
    Chart,
    Rendered,
)
from tests.helpers import ROOT, require, tool

pytestmark = pytest.mark.chart

CRD_GROUPS = ("external-secrets.io/", "argoproj.io/")
# Custom resources checked against a vendored CRD schema (test_podmonitoring.py).
VENDORED_CRD_GROUPS = ("monitoring.googleapis.com/",)
NODE_SCRIPT = Path(__file__).with_name("validate_crds.mjs")
NODE_MODULES = ROOT / ".tools" / "node" / "node_modules" / "@kubernetes-models"
CHECKOV_CONFIG = ROOT / "helm" / ".checkov.yaml"

# What each combination renders; a template that silently drops or adds an
# object changes these counts. Every combination has the deny-list ConfigMap;
# only documents of your own add a second one.
BASE = ["ConfigMap", "Deployment", "NetworkPolicy", "Service", "ServiceAccount"]
ESO = ["ExternalSecret", "SecretStore"]
EXPECTED_KINDS = {
    name: sorted(kinds)
    for name, kinds in {
        "default": [*BASE, "PodDisruptionBudget"],
        "dev": [*BASE, "PodDisruptionBudget"],
        "dev-fake": [*BASE, *ESO, "PodDisruptionBudget"],
        "dev-fake-rotation": [*BASE, *ESO, "PodDisruptionBudget"],
        "gke": [*BASE, *ESO, "PodDisruptionBudget", "PodMonitoring"],
        "gke-digest": [*BASE, *ESO, "PodDisruptionBudget", "PodMonitoring"],
        "gke-hpa": [
            *BASE,
            *ESO,
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
            "PodMonitoring",
        ],
        "gke-rotation": [*BASE, *ESO, "PodDisruptionBudget", "PodMonitoring"],
        "gke-revoked": [*BASE, *ESO, "PodDisruptionBudget"],
        "single-replica": BASE,
        "dev-documents": [*BASE, "ConfigMap", "PodDisruptionBudget"],
    }.items()
}


def test_every_combination_is_listed() -> None:
    assert set(EXPECTED_KINDS) == set(COMBOS)


@pytest.mark.parametrize("name", list(COMBOS))
def test_helm_lint_strict(chart: Chart, name: str) -> None:
    result = chart.helm_run("lint", "--strict", *chart.args(COMBOS[name]))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("name", list(COMBOS))
def test_renders_the_expected_objects(chart: Chart, name: str) -> None:
    rendered = chart.render(name)
    assert rendered.kinds() == EXPECTED_KINDS[name]
    for obj in rendered.objects:
        assert obj["metadata"]["namespace"] == NAMESPACE, obj["metadata"]["name"]


def _split_builtin(chart: Chart, out_dir: Path) -> list[Path]:
    """One file per combination with only the built-in kinds (CRs are checked by node)."""
    files = []
    for rendered in chart.render_all():
        builtin = [
            o
            for o in rendered.objects
            if not o["apiVersion"].startswith(CRD_GROUPS + VENDORED_CRD_GROUPS)
        ]
        path = out_dir / f"{rendered.combo.name}.json"
        path.write_text("\n---\n".join(json.dumps(o) for o in builtin))
        files.append(path)
    return files


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_kubernetes_validate_strict(
    chart: Chart, version: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    validator = tool("kubernetes-validate")
    files = _split_builtin(chart, tmp_path_factory.mktemp(f"k8s-{version}"))
    result = subprocess.run(
        [validator, "--strict", "--quiet", "-k", version, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERROR" not in result.stdout + result.stderr


def test_kubernetes_validate_catches_a_bad_field(tmp_path: Path) -> None:
    """The validator above can fail: an unknown field in a Deployment is an error."""
    validator = tool("kubernetes-validate")
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "x"},
                "spec": {"ports": [{"port": 8080}], "tpye": "ClusterIP"},
            }
        )
    )
    result = subprocess.run(
        [validator, "--strict", "--quiet", "-k", K8S_VERSIONS[-1], str(bad)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode != 0, result.stdout


def is_builtin(obj: dict[str, Any]) -> bool:
    """A kind of Kubernetes itself: core, or an API group that is not a domain or is *.k8s.io."""
    group = obj["apiVersion"].rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


def run_kubernetes_validate(
    rendered: dict[str, list[dict[str, Any]]], version: str, out_dir: Path
) -> subprocess.CompletedProcess[str]:
    """kubernetes-validate --strict on the built-in objects of each render, one file each."""
    files = []
    for name, objects in rendered.items():
        path = out_dir / f"{name}.json"
        path.write_text("\n---\n".join(json.dumps(o) for o in objects if is_builtin(o)))
        files.append(str(path))
    return subprocess.run(
        [tool("kubernetes-validate"), "--strict", "--quiet", "-k", version, *files],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def run_crd_validator(objects: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    node = tool("node")
    require(NODE_MODULES.is_dir(), "npm CRD validators not installed; run `make tools`")
    return subprocess.run(
        [node, str(NODE_SCRIPT)],
        input=json.dumps(objects),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_custom_resources_pass_their_crd_schemas(
    chart: Chart, argocd_objects: dict[str, dict[str, Any]]
) -> None:
    objects = [
        o
        for rendered in chart.render_all()
        for o in rendered.objects
        if o["apiVersion"].startswith(CRD_GROUPS)
    ]
    objects += list(argocd_objects.values())
    kinds = {o["kind"] for o in objects}
    assert kinds == {"ExternalSecret", "SecretStore", "Application", "AppProject"}
    result = run_crd_validator(objects)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok ") == len(objects)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (
            {
                "apiVersion": "external-secrets.io/v1",
                "kind": "ExternalSecret",
                "metadata": {"name": "bad"},
                "spec": {"target": {"name": "x", "creationPolicy": "Sometimes"}},
            },
            "creationPolicy",
        ),
        (
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Application",
                "metadata": {"name": "bad"},
                "spec": {"project": "p", "source": {"repoURL": "r"}},
            },
            "destination",
        ),
    ],
)
def test_crd_validator_rejects_invalid_objects(obj: dict[str, Any], message: str) -> None:
    result = run_crd_validator([obj])
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith(f"invalid {obj['kind']}/bad:")
    assert message in result.stdout


def test_checkov_is_clean(chart: Chart, tmp_path_factory: pytest.TempPathFactory) -> None:
    """checkov on files rendered here (its helm framework passes silently without helm)."""
    checkov = tool("checkov")
    out = tmp_path_factory.mktemp("checkov")
    rendered: list[Rendered] = list(chart.render_all())
    for r in rendered:
        (out / f"{r.combo.name}.yaml").write_text(r.text)
    result = subprocess.run(
        [checkov, "--config-file", str(CHECKOV_CONFIG), "--directory", str(out), "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        cwd=ROOT,
    )
    report = json.loads(result.stdout)
    summary = report["summary"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})"
        for c in report["results"]["failed_checks"]
    ]
    assert summary["failed"] == 0, "\n".join(failed)
    assert summary["parsing_errors"] == 0
    # checkov also counts each container as a resource, hence at least.
    assert summary["resource_count"] >= sum(len(r.objects) for r in rendered)
    assert summary["passed"] > 0
    assert result.returncode == 0, result.stderr


def test_argocd_files_exist() -> None:
    assert sorted(p.name for p in ARGOCD.glob("*.yaml")) == [
        "application-kind.yaml",
        "application.yaml",
        "project.yaml",
    ]
