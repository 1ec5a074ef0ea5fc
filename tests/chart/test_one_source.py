"""Facts the chart shares with other layers: each has one owner, and the copies match it.

The port and the pod's identity are values (containerPort, securityContext)
that the templates derive everything else from. The chart passes its port to
the server as MCP_PORT, so it need not be the app's default; the image cannot
read the chart, so its USER and ENV are checked against the values here. The
token issuer and audience are the app's (app/tokens.py): the chart leaves them
unset unless a value overrides them.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.chart.rendering import COMBOS, Chart, parse_all
from tests.chart.test_objects import IDENTITY, PORT
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
    text = chart.show_only("deployment.yaml", args)
    (obj,) = parse_all(text)
    return text, obj


def test_issuer_and_audience_are_the_apps_unless_set(chart: Chart) -> None:
    """By default the chart sets neither, so the server expects app/tokens.py's
    defaults, which `make token` and the token CLIs mint with; set, each is passed on."""
    _, obj = deployment(chart)
    (c,) = obj["spec"]["template"]["spec"]["containers"]
    names = {e["name"] for e in c["env"]}
    assert not {"MCP_JWT_ISSUER", "MCP_JWT_AUDIENCE"} & names
    _, obj = deployment(chart, "server.jwtIssuer=https://issuer.example", "server.jwtAudience=api")
    (c,) = obj["spec"]["template"]["spec"]["containers"]
    variables = {e["name"]: e.get("value") for e in c["env"]}
    assert variables["MCP_JWT_ISSUER"] == "https://issuer.example"
    assert variables["MCP_JWT_AUDIENCE"] == "api"


def test_the_image_runs_as_the_chart_identity() -> None:
    user = re.findall(r"^USER (\S+)$", runtime_stage(), re.MULTILINE)
    assert user == [f"{IDENTITY['runAsUser']}:{IDENTITY['runAsGroup']}"]


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
    service = chart.show_only("service.yaml", ["--set", "containerPort=9090"])
    (port,) = YAML(typ="safe").load(service)["spec"]["ports"]
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
