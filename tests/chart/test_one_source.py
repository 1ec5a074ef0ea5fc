"""Facts the chart shares with other layers: each has one owner, and the copies match it.

The port and the pod's identity are values (containerPort, securityContext)
that the templates derive everything else from; the image cannot read the
chart, so its USER, EXPOSE and ENV are checked against the values here. The
default port and the token issuer and audience are the app's (app/config.py,
app/tokens.py); the chart's defaults must equal them.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from ruamel.yaml import YAML

from app.config import Settings
from app.tokens import DEFAULT_AUDIENCE, DEFAULT_ISSUER
from tests.chart.rendering import COMBOS, Chart, parse_all
from tests.chart.test_objects import IDENTITY, PORT, VALUES
from tests.helpers import ROOT

pytestmark = pytest.mark.chart

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def runtime_stage() -> str:
    """The Dockerfile's last stage: what the image that runs is made of."""
    return DOCKERFILE.rsplit("\nFROM ", 1)[1]


def image_env() -> dict[str, str]:
    """The runtime stage's ENV assignments (one `ENV a=b \\` block or several)."""
    found: dict[str, str] = {}
    for block in re.findall(r"^ENV (.*?)(?<!\\)$", runtime_stage(), re.MULTILINE | re.DOTALL):
        for name, value in re.findall(r'([A-Z_]+)=("[^"]*"|\S+)', block):
            found[name] = value.strip('"')
    return found


def written(number: int, text: str) -> bool:
    """`number` as a number of its own (8080, not the 8080 inside 18080)."""
    return re.search(rf"\b{number}\b", text) is not None


def deployment(chart: Chart, *sets: str) -> tuple[str, dict[str, Any]]:
    args = [*chart.args(COMBOS["dev"])]
    for item in sets:
        args += ["--set", item]
    result = chart.template([*args, "--show-only", "templates/deployment.yaml"])
    assert result.returncode == 0, result.stderr
    (obj,) = parse_all(result.stdout)
    return result.stdout, obj


def test_issuer_and_audience_defaults_are_the_apps() -> None:
    """values.yaml repeats app/tokens.py's defaults; a token minted with the
    defaults (make token, mcp-token) must pass the chart's pods."""
    assert VALUES["server"]["jwtIssuer"] == DEFAULT_ISSUER
    assert VALUES["server"]["jwtAudience"] == DEFAULT_AUDIENCE


def test_the_image_runs_as_the_chart_identity() -> None:
    user = re.findall(r"^USER (\S+)$", runtime_stage(), re.MULTILINE)
    assert user == [f"{IDENTITY['runAsUser']}:{IDENTITY['runAsGroup']}"]


def test_the_chart_port_is_the_apps_default() -> None:
    assert Settings.model_fields["port"].default == PORT


def test_the_image_exposes_and_listens_on_the_chart_port() -> None:
    """EXPOSE, and MCP_PORT if the image sets it (else the app's default applies)."""
    assert re.findall(r"^EXPOSE (\d+)$", runtime_stage(), re.MULTILINE) == [str(PORT)]
    listens = image_env().get("MCP_PORT", str(Settings.model_fields["port"].default))
    assert listens == str(PORT)


def test_the_image_owns_the_bind_address() -> None:
    """The chart does not set MCP_HOST (test_server_environment): the image must."""
    assert image_env()["MCP_HOST"] == "0.0.0.0"  # noqa: S104 (the container's port is the boundary)


def test_the_port_is_written_once(chart: Chart) -> None:
    """Another containerPort moves the port and MCP_PORT; all else follows the name."""
    text, obj = deployment(chart, "containerPort=9090")
    (c,) = obj["spec"]["template"]["spec"]["containers"]
    assert c["ports"] == [{"name": "http", "containerPort": 9090, "protocol": "TCP"}]
    assert {e["name"]: e["value"] for e in c["env"]}["MCP_PORT"] == "9090"
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert c[probe]["httpGet"]["port"] == "http", probe
    assert not written(PORT, text), f"{PORT} is still written somewhere in the Deployment"


def test_the_service_follows_the_port_by_name(chart: Chart) -> None:
    result = chart.template(
        ["--set", "containerPort=9090", "--show-only", "templates/service.yaml"]
    )
    assert result.returncode == 0, result.stderr
    (port,) = YAML(typ="safe").load(result.stdout)["spec"]["ports"]
    assert port["targetPort"] == "http"


def test_the_identity_is_written_once(chart: Chart) -> None:
    text, obj = deployment(
        chart, "securityContext.runAsUser=20000", "securityContext.runAsGroup=20001"
    )
    pod = obj["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 20000
    assert pod["securityContext"]["runAsGroup"] == pod["securityContext"]["fsGroup"] == 20001
    (c,) = pod["containers"]
    # The container inherits the ids from the pod rather than repeating them.
    assert not {"runAsUser", "runAsGroup"} & set(c["securityContext"])
    assert not written(IDENTITY["runAsUser"], text)
    assert not written(IDENTITY["runAsGroup"], text)


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ("containerPort=80", "/containerPort"),
        ("securityContext.runAsUser=0", "/securityContext/runAsUser"),
        ("securityContext.runAsGroup=100", "/securityContext/runAsGroup"),
    ],
)
def test_schema_refuses_a_privileged_port_or_identity(chart: Chart, value: str, where: str) -> None:
    result = chart.template(["--set", value])
    assert result.returncode != 0, value
    assert f"at '{where}': minimum" in result.stderr
