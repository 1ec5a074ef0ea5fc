"""Day-2 wiring: live key reload, the deny-list ConfigMap, and GMP scraping.

The server re-reads its key and deny-list files when kubelet swaps a mounted
Secret or ConfigMap (the `..data` symlink flip). That only works for whole
directory mounts, so these tests pin the mounts, the paths in the MCP_*
variables, and the absence of a checksum that would restart pods instead.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import pytest

from tests.chart.rendering import COMBOS, REVOKED, Chart
from tests.chart.test_objects import OWN_DOCUMENTS, config_map, container, env

pytestmark = pytest.mark.chart

ALL = list(COMBOS)
DENYLIST = "mcp-server-denylist"


def mounts(chart: Chart, name: str) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in container(chart, name)["volumeMounts"]}


def volumes(chart: Chart, name: str) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in chart.render(name).pod_spec()["volumes"]}


def denylist_entries(text: str) -> list[str]:
    """The jti lines of a deny-list file, as the server reads it (# starts a comment)."""
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


@pytest.mark.parametrize("name", ALL)
def test_no_mount_uses_subpath(chart: Chart, name: str) -> None:
    """subPath mounts are copies kubelet never updates: live reload would silently break."""
    for mount in container(chart, name)["volumeMounts"]:
        assert "subPath" not in mount, mount
        assert "subPathExpr" not in mount, mount


@pytest.mark.parametrize("name", ALL)
def test_key_files_live_in_the_mounted_secret_directory(chart: Chart, name: str) -> None:
    variables = env(chart, name)
    key_dir = mounts(chart, name)["signing-key"]["mountPath"]
    secret = volumes(chart, name)["signing-key"]["secret"]
    files = {item["path"] for item in secret["items"]}
    for variable in ("MCP_JWT_SECRET_FILE", "MCP_JWT_PREVIOUS_SECRET_FILE"):
        if variable in variables:
            path = PurePosixPath(variables[variable])
            assert str(path.parent) == key_dir, variable
            assert path.name in files, variable


@pytest.mark.parametrize("name", ALL)
def test_denylist_file_is_the_mounted_config_map_key(chart: Chart, name: str) -> None:
    path = PurePosixPath(env(chart, name)["MCP_JWT_DENYLIST_FILE"])
    mount = mounts(chart, name)["denylist"]
    assert mount["readOnly"] is True
    assert str(path.parent) == mount["mountPath"] == "/etc/mcp/denylist"
    volume = volumes(chart, name)["denylist"]["configMap"]
    assert volume["name"] == DENYLIST
    assert "items" not in volume  # every key of the ConfigMap is a file
    assert path.name in config_map(chart, name, DENYLIST)["data"]


@pytest.mark.parametrize("name", ALL)
def test_no_checksum_restarts_pods_on_a_revocation_or_rotation(chart: Chart, name: str) -> None:
    """Only documents of your own have a checksum (they are read once, at start)."""
    metadata = chart.render(name).one("Deployment")["spec"]["template"]["metadata"]
    annotations = metadata.get("annotations", {})
    assert set(annotations) == ({"checksum/documents"} if name in OWN_DOCUMENTS else set())


def test_denylist_is_empty_by_default(chart: Chart) -> None:
    text = config_map(chart, "default", DENYLIST)["data"]["revoked-token-ids"]
    assert text.startswith("# Revoked token ids")
    assert denylist_entries(text) == []


def test_revoked_ids_land_in_the_file_with_their_comments(chart: Chart) -> None:
    text = config_map(chart, "gke-revoked", DENYLIST)["data"]["revoked-token-ids"]
    assert denylist_entries(text) == [jti for jti, _ in REVOKED]
    lines = text.splitlines()
    (jti, comment), (bare, _) = REVOKED
    assert lines[lines.index(jti) - 1] == f"# {comment}"
    assert not lines[lines.index(bare) - 1].startswith("# laptop")


def test_a_revocation_changes_only_the_denylist(chart: Chart) -> None:
    """Same pod template with and without revocations: nothing restarts."""
    base = chart.render("gke").one("Deployment")["spec"]["template"]
    revoked = chart.render("gke-revoked").one("Deployment")["spec"]["template"]
    assert revoked == base


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("revokedTokenIds[0]=has space", "revokedTokenIds/0"),
        ("revokedTokenIds[0]=a#b", "revokedTokenIds/0"),
        ("revokedTokenIds[0].comment=no id", "revokedTokenIds/0"),
        ("revokedTokenIds[0].jti=x,revokedTokenIds[0].reason=typo", "revokedTokenIds/0"),
    ],
)
def test_schema_refuses_a_malformed_revocation(chart: Chart, value: str, message: str) -> None:
    result = chart.template(["--set", value])
    assert result.returncode != 0, value
    assert message in result.stderr


def test_a_comment_cannot_smuggle_a_second_line(chart: Chart) -> None:
    result = chart.template(["--set-json", 'revokedTokenIds=[{"jti":"a","comment":"x\\nevil"}]'])
    assert result.returncode != 0
    assert "revokedTokenIds/0" in result.stderr


@pytest.mark.parametrize("name", ALL)
def test_pod_monitoring_follows_its_switch(chart: Chart, name: str) -> None:
    rendered = chart.render(name)
    found = rendered.all("PodMonitoring")
    enabled = name.startswith("gke") and name != "gke-revoked"
    assert len(found) == (1 if enabled else 0)
    if not enabled:
        return
    spec = found[0]["spec"]
    assert spec["selector"] == rendered.one("Deployment")["spec"]["selector"]
    port_names = {p["name"] for p in container(chart, name)["ports"]}
    (endpoint,) = spec["endpoints"]
    assert endpoint["port"] in port_names
    assert (endpoint["path"], endpoint["interval"]) == ("/metrics", "30s")
