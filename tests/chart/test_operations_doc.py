"""docs/operations.md says what the chart does: its offline commands run as shown.

The runbooks' cluster commands need GKE; what can run here does:

- every `$ .tools/bin/helm template ...` line runs against a working copy of
  the chart (values-gke.yaml with a project id, plus the values snippet the
  runbook has the reader add) and must print exactly the lines shown;
- every values snippet (```yaml block) renders with values-gke.yaml, so the
  schema accepts what the runbooks tell operators to write;
- every object a `kubectl` command names is one the chart renders;
- every runbook ends with a Verify block.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.chart.combinations import INGRESS, REDIS, SIGNIN
from tests.chart.rendering import NAMESPACE, Chart, Combo, parse_all
from tests.docs import markdown
from tests.helpers import ROOT

pytestmark = [pytest.mark.chart, pytest.mark.docs]

DOC = ROOT / "docs" / "operations.md"
SIGNIN_GKE = (*SIGNIN, *REDIS, *INGRESS)
TEXT = DOC.read_text()
# kubectl kinds as the runbooks write them -> the kind the chart renders.
KINDS = {
    "externalsecret": "ExternalSecret",
    "configmap": "ConfigMap",
    "deployment": "Deployment",
    "deploy": "Deployment",
    "podmonitoring": "PodMonitoring",
    "secret": "Secret",
    "svc": "Service",
}


def sections() -> dict[str, str]:
    """Runbook number -> its text (from its `## N.` heading to the next)."""
    return markdown.numbered_sections(TEXT, 2)


def console_commands(text: str) -> list[tuple[str, list[str]]]:
    return [(c.text, list(c.output)) for c in markdown.console_commands(text, "operations.md")]


def yaml_blocks(text: str) -> list[str]:
    return [block.text for block in markdown.blocks(text, "yaml")]


def test_every_runbook_ends_with_a_verify_block() -> None:
    found = sections()
    assert found, "no numbered runbook in docs/operations.md"
    assert list(found) == [str(n) for n in range(1, len(found) + 1)]
    for number, text in found.items():
        verify = markdown.sections(text, 3).get("Verify")
        assert verify is not None, f"runbook {number} has no Verify heading"
        assert console_commands(verify), f"runbook {number}: its Verify block has no command"


def test_helm_commands_print_what_the_doc_shows(chart: Chart, tmp_path: Path) -> None:
    revoke = sections()["2"]
    # The first snippet revokes one token id, as the helm steps show; the `sub:` one
    # that follows renders too (test_values_snippets_render).
    snippet = next(b for b in yaml_blocks(revoke) if "revokedTokenIds" in b)
    added = tmp_path / "revocation.yaml"
    added.write_text(snippet)
    gke = chart.chart / "values-gke.yaml"
    steps = [(c, out) for c, out in console_commands(revoke) if c.startswith(".tools/bin/helm ")]
    assert len(steps) == 2, "the offline check of the revocation is gone from runbook 2"
    for command, expected in steps:
        here = (
            command.replace(".tools/bin/helm", shlex.quote(chart.helm), 1)
            .replace("helm/mcp-server/values-gke.yaml", f"{gke} --values {added}")
            .replace(" helm/mcp-server ", f" {chart.chart} ")
        )
        result = subprocess.run(
            ["bash", "-c", here], capture_output=True, text=True, check=False, timeout=120
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == expected, command


@pytest.mark.parametrize("snippet", yaml_blocks(TEXT))
def test_values_snippets_render(chart: Chart, tmp_path: Path, snippet: str) -> None:
    values = tmp_path / "snippet.yaml"
    values.write_text(snippet)
    result = chart.template(
        ["--values", str(chart.chart / "values-gke.yaml"), "--values", str(values)]
    )
    assert result.returncode == 0, f"{snippet}\n{result.stderr}"
    parsed = YAML(typ="safe").load(snippet)
    for entry in parsed.get("revokedTokenIds", []):
        assert f"\n    {entry['jti']}\n" in result.stdout


def test_kubectl_commands_name_objects_the_chart_renders(chart: Chart) -> None:
    # The GKE values, and with sign-in (runbooks 8 and 9) on top.
    signin = chart.template(chart.args(Combo("signin", ("values-gke.yaml",), SIGNIN_GKE)))
    assert signin.returncode == 0, signin.stderr
    objects = chart.render("gke").objects + parse_all(signin.stdout)
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    # ESO writes the Secret each ExternalSecret targets.
    for external in (o for o in objects if o["kind"] == "ExternalSecret"):
        names.add(("Secret", external["spec"]["target"]["name"]))
    pattern = re.compile(
        rf"kubectl -n {NAMESPACE} (?:get|describe|annotate|logs|rollout \w+|port-forward) "
        # A name starts with a letter or digit; `get hpa -l ...` selects by label, names none.
        r"(?:(\w+) ([a-z0-9][a-z0-9-]*)|(\w+)/([a-z0-9-]+))"
    )
    found = 0
    for match in pattern.finditer(TEXT):
        kind, name = (match.group(1), match.group(2)) if match.group(1) else match.groups()[2:]
        if kind in {"pods", "deploy,pods"}:
            continue
        assert (KINDS[kind], name) in names, match.group(0)
        found += 1
    assert found >= 10


def test_named_scripts_and_subcommands_exist() -> None:
    for script in set(re.findall(r"scripts/[\w/]+\.py", TEXT)):
        assert (ROOT / script).is_file(), script
    help_text = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "mcp-key"), "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    for command in set(re.findall(r"mcp-key --project \"\$PROJECT_ID\" (\w+)", TEXT)):
        assert re.search(rf"^\s+{command}\s", help_text, re.M), command


def test_the_doc_states_the_chart_paths() -> None:
    """The mount paths the runbooks explain are the chart's own."""
    helpers = (ROOT / "helm" / "mcp-server" / "templates" / "_helpers.tpl").read_text()
    for name, path in re.findall(
        r'define "mcp-server\.(keyDir|denylistDir)" -}}([^{]+){{', helpers
    ):
        assert f"`{path}`" in TEXT, name
