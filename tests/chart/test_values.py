"""The values files, the schema and the render-time checks refuse what they should."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from scripts.chart_values_table import problems
from tests.chart.rendering import CHART, COMBOS, NAMESPACE, RELEASE, Chart

pytestmark = pytest.mark.chart


def leaves(tree: Any, prefix: str = "") -> set[str]:
    """Dotted paths of a values tree, maps only (lists and strings are leaves)."""
    if isinstance(tree, dict) and tree:
        return {p for k, v in tree.items() for p in leaves(v, f"{prefix}{k}.")}
    return {prefix.rstrip(".")}


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


def test_schema_is_strict_everywhere() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                assert node.get("additionalProperties") is False, where
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(schema, "#")
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("values_file", ["values-dev.yaml", "values-gke.yaml"])
def test_environment_values_only_set_keys_that_exist(values_file: str) -> None:
    defaults = leaves(load(CHART / "values.yaml"))
    overrides = leaves(load(CHART / values_file))
    assert overrides <= defaults, overrides - defaults


def test_every_value_has_a_description() -> None:
    """Each leaf has a `# --` comment above it or above its map: the README's table."""
    assert problems((CHART / "values.yaml").read_text()) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a:\n  # -- why\n  b: 1\n\n  c: 2\n", "a.c: no `# --` description"),
        # A plain comment is a note for the reader, not a description.
        ("# the reason\nd: 1\n", "d: no `# --` description"),
        # A blank line between the comment and its key detaches it.
        ("# -- why\n\ne: 1\n", "e: no `# --` description"),
        ("# -- the map\nf:\n  # -- and its key\n  g: 1\n", "f.g: described, and so is its map f"),
    ],
)
def test_the_description_check_finds_a_bare_value(text: str, problem: str) -> None:
    assert any(p.startswith(problem) for p in problems(text)), problems(text)


def test_a_described_map_covers_its_keys() -> None:
    assert problems("# -- the map\nf:\n  g: 1\n  h: 2\n") == []


def test_gke_values_keep_the_bump_lines_plain() -> None:
    """scripts/bump_image_tag.py edits these two lines in place."""
    text = (CHART / "values-gke.yaml").read_text()
    image_block = text.split("\nimage:\n", 1)[1].split("\n\n", 1)[0]
    assert re.search(r'^  tag: "[^"]+"$', image_block, re.MULTILINE)
    assert re.search(r'^  digest: "[^"]*"$', image_block, re.MULTILINE)


def failure(chart: Chart, *args: str, chart_dir: Path | None = None) -> str:
    result = chart.template(list(args), chart=chart_dir)
    assert result.returncode != 0, f"helm template {' '.join(args)} should fail"
    return result.stderr


def test_schema_rejects_a_misspelled_value(chart: Chart) -> None:
    stderr = failure(chart, "--set", "replicaCuont=3")
    assert "additional properties 'replicaCuont' not allowed" in stderr


def test_schema_rejects_a_misspelled_nested_value(chart: Chart) -> None:
    stderr = failure(chart, "--set", "image.digets=sha256:abc")
    assert "'digets' not allowed" in stderr


def test_schema_rejects_a_malformed_digest(chart: Chart) -> None:
    stderr = failure(chart, "--set", "image.digest=abc123")
    assert "/image/digest" in stderr


def test_latest_tag_is_refused(chart: Chart) -> None:
    stderr = failure(chart, "--set", "image.tag=latest")
    assert 'image.tag must not be "latest"' in stderr


def test_placeholder_project_id_does_not_render(chart: Chart, tmp_path: Path) -> None:
    """values-gke.yaml with its PROJECT_ID placeholders cannot deploy by accident."""
    pristine = tmp_path / "values-gke.yaml"
    pristine.write_text(chart.gke_values_with_placeholder)
    assert pristine.read_text().count("PROJECT_ID") == 3
    stderr = failure(chart, "--values", str(pristine))
    assert "still holds the placeholder PROJECT_ID" in stderr
    assert "values-gke.yaml" in stderr


def test_external_secrets_need_a_project(chart: Chart) -> None:
    stderr = failure(
        chart,
        "--set",
        "signingKey.source=externalSecrets",
        "--set",
        "serviceAccount.gcpServiceAccount=mcp-server@mcp-demo-123456.iam.gserviceaccount.com",
    )
    assert (
        "externalSecrets.gcpSecretManager.projectID must be your Google Cloud project id" in stderr
    )


@pytest.mark.parametrize(
    ("name", "output"),
    [
        ("secretId", "secret_id"),
        ("clusterName", "cluster_name"),
        ("clusterLocation", "cluster_location"),
    ],
)
def test_secret_manager_needs_infras_names(chart: Chart, name: str, output: str) -> None:
    """values.yaml leaves infra/'s names empty: a GKE release without them is refused."""
    args = [*chart.args(COMBOS["gke"]), "--set", f"externalSecrets.gcpSecretManager.{name}="]
    stderr = failure(chart, *args)
    assert f"externalSecrets.gcpSecretManager.{name} is required" in stderr
    assert f"terraform output {output}" in stderr


def test_fake_provider_needs_a_long_enough_key(chart: Chart) -> None:
    stderr = failure(
        chart,
        "--set",
        "signingKey.source=externalSecrets",
        "--set",
        "externalSecrets.provider=fake",
        "--set",
        "externalSecrets.fake.signingKey=too-short",
    )
    assert "at least 32 bytes" in stderr


def test_grace_period_must_cover_drain_and_timeout(chart: Chart) -> None:
    stderr = failure(chart, "--set", "terminationGracePeriodSeconds=20")
    assert "must exceed server.shutdownDrainSeconds + server.shutdownTimeoutSeconds (20)" in stderr


def notes(chart: Chart, name: str, tmp_path: Path) -> str:
    """NOTES.txt as helm renders it (helm template skips it, so include it from a template)."""
    copy = tmp_path / "mcp-server"
    shutil.copytree(chart.chart, copy)
    (copy / "templates" / "zz-notes.yaml").write_text(
        'notes: {{ include "mcp-server/templates/NOTES.txt" . | toJson }}\n'
    )
    args = [a.replace(str(chart.chart), str(copy)) for a in chart.args(COMBOS[name])]
    text: str = load_yaml_text(chart.show_only("zz-notes.yaml", args, chart=copy))["notes"]
    return text


def load_yaml_text(text: str) -> Any:
    return YAML(typ="safe").load(text)


@pytest.mark.parametrize("name", ["gke", "dev"])
def test_notes_tell_how_to_connect(chart: Chart, name: str, tmp_path: Path) -> None:
    text = notes(chart, name, tmp_path)
    # 18080 locally, as phases 6 and 9 use it: `make run` may still hold the app's port.
    service_port = load_yaml_text((CHART / "values.yaml").read_text())["service"]["port"]
    assert f"kubectl -n {NAMESPACE} port-forward svc/{RELEASE} 18080:{service_port}" in text
    assert '.venv/bin/mcp-client http://127.0.0.1:18080/mcp --token "$TOKEN" list' in text
    assert "rollout restart" not in text, "keys and revocations reload without a restart"
    assert "docs/operations.md" in text
    if name == "gke":
        assert (
            f"kubectl -n {NAMESPACE} annotate externalsecret {RELEASE}-signing-key "
            "force-sync=$(date +%s) --overwrite"
        ) in text
        assert f"describe podmonitoring {RELEASE}" in text
        assert f".venv/bin/mcp-key --project {chart.project} token --sub learner" in text
    else:
        assert ".venv/bin/mcp-token --sub learner --scopes public:read --secret-file" in text
        secret = load_yaml_text((CHART / "values.yaml").read_text())["signingKey"]["secretName"]
        assert f"create secret generic {secret}" in text
