"""Render the chart once per values combination per test session (see conftest.py).

Each combination is a values file of the chart plus the feature switches a
test needs (HPA, local secret mode, digest, key rotation, revoked tokens,
Managed Prometheus scraping, documents of your own). values-gke.yaml is
rendered the way a learner deploys it: after replacing its PROJECT_ID
placeholder with a project id, exactly as docs/tutorial/06 tells them to.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tests.helpers import ROOT

CHART = ROOT / "helm" / "mcp-server"
ARGOCD = ROOT / "argocd"
# Rendered as ArgoCD deploys it: its Application owns the namespace and release name.
_SOURCE = YAML(typ="safe").load((ARGOCD / "application.yaml").read_text())["spec"]
NAMESPACE: str = _SOURCE["destination"]["namespace"]
RELEASE: str = _SOURCE["source"]["helm"]["releaseName"]
# Replaces the PROJECT_ID placeholder of values-gke.yaml, as a learner does.
PROJECT_ID = "mcp-demo-123456"
DIGEST = "sha256:" + "0123456789abcdef" * 4
# 32+ bytes, only used to render the fake-provider combinations.
FAKE_KEY = "fake-provider-test-key-0123456789abcdef"
FAKE_PREVIOUS_KEY = "fake-provider-previous-key-0123456789abcdef"
JWKS_URL = "https://issuer.example.test/.well-known/jwks.json"
# Two revoked token ids: one with the comment that says why, one bare.
# Documents that replace the image's (public, confidential), multi-line as markdown is.
DOCUMENTS = ("# Our public page\n\nHello.\n", "# Our secrets\n\n- none | really\n")
REVOKED = (("5f0c8e2ab4d14f7e9a61c3b2d0e7f4a1", "laptop lost: INC-1234"), ("0b9d7e3c1a", ""))

# GKE's regular release channel (2026), with the minor before it that a
# cluster still runs until its auto-upgrade: schemas bundled by kubernetes-validate.
K8S_VERSIONS = ("1.32", "1.33", "1.34", "1.35")


@dataclass(frozen=True)
class Combo:
    """One helm invocation: values files (relative to the chart) and --set flags."""

    name: str
    values: tuple[str, ...] = ()
    sets: tuple[str, ...] = ()
    set_files: tuple[str, ...] = field(default=())


COMBOS: dict[str, Combo] = {
    c.name: c
    for c in (
        # values.yaml alone: the secure defaults (a Secret you create).
        Combo("default"),
        Combo("dev", ("values-dev.yaml",)),
        # The local path through ESO: the fake provider instead of a Secret.
        Combo(
            "dev-fake",
            ("values-dev.yaml",),
            ("signingKey.source=externalSecrets", "externalSecrets.provider=fake"),
            (f"externalSecrets.fake.signingKey={FAKE_KEY}",),
        ),
        # Key rotation on a local cluster: the fake provider serves both keys.
        Combo(
            "dev-fake-rotation",
            ("values-dev.yaml",),
            (
                "signingKey.source=externalSecrets",
                "externalSecrets.provider=fake",
                "signingKey.previousKey=true",
            ),
            (
                f"externalSecrets.fake.signingKey={FAKE_KEY}",
                f"externalSecrets.fake.previousSigningKey={FAKE_PREVIOUS_KEY}",
            ),
        ),
        Combo("gke", ("values-gke.yaml",)),
        Combo("gke-digest", ("values-gke.yaml",), (f"image.digest={DIGEST}",)),
        Combo("gke-hpa", ("values-gke.yaml",), ("autoscaling.enabled=true",)),
        # Key rotation (previous key mounted) and an OIDC issuer (HTTPS egress).
        Combo(
            "gke-rotation",
            ("values-gke.yaml",),
            (
                "signingKey.previousKey=true",
                "externalSecrets.gcpSecretManager.previousVersion=3",
                f"server.jwksUrl={JWKS_URL}",
            ),
        ),
        Combo("single-replica", ("values-dev.yaml",), ("replicaCount=1",)),
        # Documents of your own instead of the image's: a ConfigMap and its mount.
        Combo(
            "dev-documents",
            ("values-dev.yaml",),
            (),
            (f"documents.public={DOCUMENTS[0]}", f"documents.confidential={DOCUMENTS[1]}"),
        ),
        # Revoked tokens in the deny-list ConfigMap, and GMP scraping off on GKE.
        Combo(
            "gke-revoked",
            ("values-gke.yaml",),
            (
                f"revokedTokenIds[0].jti={REVOKED[0][0]}",
                f"revokedTokenIds[0].comment={REVOKED[0][1]}",
                f"revokedTokenIds[1]={REVOKED[1][0]}",
                "metrics.podMonitoring.enabled=false",
            ),
        ),
    )
}


@dataclass
class Rendered:
    """The manifests of one combination: raw text, the file, and parsed objects."""

    combo: Combo
    path: Path
    text: str
    objects: list[dict[str, Any]]

    def kinds(self) -> list[str]:
        return sorted(o["kind"] for o in self.objects)

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str) -> dict[str, Any]:
        found = self.all(kind)
        assert len(found) == 1, f"{self.combo.name}: expected one {kind}, got {len(found)}"
        return found[0]

    def pod_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.one("Deployment")["spec"]["template"]["spec"]
        return spec


def parse_all(text: str) -> list[dict[str, Any]]:
    return [doc for doc in YAML(typ="safe").load_all(text) if doc]


class Chart:
    """Runs helm against a working copy of the chart whose values-gke.yaml has a project id."""

    def __init__(self, helm: str, workdir: Path) -> None:
        self.helm = helm
        self.workdir = workdir
        self.chart = workdir / "mcp-server"
        shutil.copytree(CHART, self.chart)
        gke = self.chart / "values-gke.yaml"
        # In this repository the file holds the placeholder; in a learner's fork
        # (after phase 6) it holds their project id. Either way, read it back.
        gke.write_text(gke.read_text().replace("PROJECT_ID", PROJECT_ID))
        values = YAML(typ="safe").load(gke.read_text())
        self.project: str = values["externalSecrets"]["gcpSecretManager"]["projectID"]
        self.gsa: str = values["serviceAccount"]["gcpServiceAccount"]
        # tag and digest as the pipeline last wrote them (phase 7)
        self.gke_image: dict[str, str] = values["image"]
        self.gke_values_with_placeholder = gke.read_text().replace(self.project, "PROJECT_ID")
        self._cache: dict[str, Rendered] = {}

    def args(self, combo: Combo) -> list[str]:
        args: list[str] = []
        for values in combo.values:
            args += ["--values", str(self.chart / values)]
        for item in combo.sets:
            args += ["--set", item]
        for i, item in enumerate(combo.set_files):
            key, value = item.split("=", 1)
            secret = self.workdir / f"{combo.name}-file-{i}"
            secret.write_text(value)
            args += ["--set-file", f"{key}={secret}"]
        return args

    def helm_run(self, *args: str, chart: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.helm, *args, str(chart or self.chart)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    def template(
        self, extra: list[str], chart: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self.helm_run("template", RELEASE, "--namespace", NAMESPACE, *extra, chart=chart)

    def show_only(self, template: str, extra: list[str], chart: Path | None = None) -> str:
        """One template (`deployment.yaml`) rendered with `extra`; fails the test if helm does."""
        result = self.template([*extra, "--show-only", f"templates/{template}"], chart=chart)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def render(self, name: str) -> Rendered:
        if name not in self._cache:
            combo = COMBOS[name]
            result = self.template(self.args(combo))
            assert result.returncode == 0, f"helm template {name} failed:\n{result.stderr}"
            path = self.workdir / "rendered" / f"{name}.yaml"
            path.parent.mkdir(exist_ok=True)
            path.write_text(result.stdout)
            self._cache[name] = Rendered(combo, path, result.stdout, parse_all(result.stdout))
        return self._cache[name]

    def render_all(self) -> Iterator[Rendered]:
        for name in COMBOS:
            yield self.render(name)
