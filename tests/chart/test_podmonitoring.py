"""The rendered PodMonitoring passes the CRD's own schema, checked offline.

No npm or PyPI model package ships Managed Prometheus's PodMonitoring CRD,
so its openAPIV3Schema is vendored in schemas/podmonitoring-v1.yaml (source
repository, path and commit in its header) and applied with jsonschema.
Unknown fields are errors here, as with `kubectl apply --validate=strict`
(the API server would otherwise drop them silently), and the one CEL rule
that matters for a scrape endpoint (timeout <= interval) is checked by hand.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from tests.chart.rendering import COMBOS, Chart

pytestmark = pytest.mark.chart

SCHEMA_FILE = Path(__file__).parent / "schemas" / "podmonitoring-v1.yaml"
# A Prometheus duration (model.ParseDuration): units from largest to smallest.
DURATION = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)
UNIT_SECONDS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)


def seconds(duration: str) -> float:
    match = DURATION.match(duration)
    if not match or not duration:
        raise ValueError(f"{duration!r} is not a Prometheus duration")
    return sum(int(n) * unit for n, unit in zip(match.groups(), UNIT_SECONDS, strict=True) if n)


def strict(node: Any) -> Any:
    """The schema with unknown fields refused wherever the CRD lists the known ones."""
    if isinstance(node, dict):
        out = {k: strict(v) for k, v in node.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [strict(v) for v in node]
    return node


FORMATS = jsonschema.FormatChecker()


def _is_duration(value: object) -> bool:
    return not isinstance(value, str) or seconds(value) >= 0


def _is_int64(value: object) -> bool:
    return not isinstance(value, int) or -(2**63) <= value < 2**63


FORMATS.checks("duration", raises=ValueError)(_is_duration)
FORMATS.checks("int64")(_is_int64)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = strict(YAML(typ="safe").load(SCHEMA_FILE.read_text()))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=FORMATS)


def problems(validator: jsonschema.Draft7Validator, obj: dict[str, Any]) -> list[str]:
    found = [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in validator.iter_errors(obj)
    ]
    for i, endpoint in enumerate(obj.get("spec", {}).get("endpoints", [])):
        timeout, interval = endpoint.get("timeout"), endpoint.get("interval")
        if timeout and interval and seconds(timeout) > seconds(interval):
            found.append(f"spec/endpoints/{i}: scrape timeout must not exceed the interval")
    return found


def rendered_pod_monitorings(chart: Chart) -> list[dict[str, Any]]:
    return [o for name in COMBOS for o in chart.render(name).all("PodMonitoring")]


def test_vendored_schema_names_its_source() -> None:
    header = SCHEMA_FILE.read_text().split("\nproperties:", 1)[0]
    assert "GoogleCloudPlatform/prometheus-engine" in header
    assert "charts/operator/crds/monitoring.googleapis.com_podmonitorings.yaml" in header
    assert re.search(r"Commit:\s+[0-9a-f]{40}", header)


def test_rendered_pod_monitorings_pass_the_crd_schema(
    chart: Chart, validator: jsonschema.Draft7Validator
) -> None:
    objects = rendered_pod_monitorings(chart)
    assert len(objects) >= 4  # every GKE combination but the one that turns it off
    for obj in objects:
        assert obj["apiVersion"] == "monitoring.googleapis.com/v1"
        assert problems(validator, obj) == []


def _mutations() -> list[tuple[str, Any, str]]:
    return [
        ("no endpoints", lambda s: s.pop("endpoints"), "'endpoints' is a required property"),
        ("no interval", lambda s: s["endpoints"][0].pop("interval"), "'interval' is a required"),
        ("bad scheme", lambda s: s["endpoints"][0].update(scheme="ftp"), "'ftp' is not one of"),
        ("bad duration", lambda s: s["endpoints"][0].update(interval="30 sec"), "duration"),
        ("typo", lambda s: s["endpoints"][0].update(intervall="30s"), "'intervall' was unexpected"),
        ("timeout", lambda s: s["endpoints"][0].update(timeout="1m"), "must not exceed"),
        ("too many", lambda s: s.update(endpoints=s["endpoints"] * 11), "is too long"),
    ]


@pytest.mark.parametrize(
    ("what", "mutate", "message"), _mutations(), ids=[m[0] for m in _mutations()]
)
def test_the_schema_check_can_fail(
    chart: Chart, validator: jsonschema.Draft7Validator, what: str, mutate: Any, message: str
) -> None:
    bad = copy.deepcopy(chart.render("gke").one("PodMonitoring"))
    mutate(bad["spec"])
    found = problems(validator, bad)
    assert any(message in p for p in found), (what, found)


def test_interval_value_must_be_a_duration(chart: Chart) -> None:
    result = chart.template(["--set", "metrics.podMonitoring.interval=30 seconds"])
    assert result.returncode != 0
    assert "/metrics/podMonitoring/interval" in result.stderr
