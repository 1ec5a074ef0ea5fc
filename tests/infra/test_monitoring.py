"""Alert policies, the dashboard and the notification channel in the synthesized stack.

The dashboard's JSON is checked against the part of the Monitoring API's
Dashboard schema this project uses (schemas/monitoring-dashboard-v1.json,
written from the API reference), plus what a schema cannot say: tiles fit
the grid and do not overlap. Every PromQL expression is parsed with
promql-parser (the Rust parser of the Prometheus grammar); its selectors must
name the metrics the server exports (app/metrics.py) and select this
deployment's series. No PromQL engine runs here, so what the expressions
compute is checked by reading them against the expected text.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import promql_parser
import pytest

from tests.helpers import ROOT
from tests.infra.conftest import Synth

pytestmark = pytest.mark.infra

SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "monitoring-dashboard-v1.json").read_text()
)
SELECTOR = 'cluster="mcp-prototype",namespace="mcp-prototype",job="mcp-server"'
APP_METRICS = set(re.findall(r'"(mcp_[a-z_]+)"', (ROOT / "app" / "metrics.py").read_text()))


def policies(synth: Synth) -> dict[str, dict[str, Any]]:
    """Alert policies by the alert_rule name of their one condition."""
    found = {}
    for body in synth.resources("google_monitoring_alert_policy").values():
        (condition,) = body["conditions"]
        promql = condition["condition_prometheus_query_language"]
        found[promql["alert_rule"]] = body
    return found


def query(policy: dict[str, Any]) -> str:
    result: str = policy["conditions"][0]["condition_prometheus_query_language"]["query"]
    return result


def dashboard(synth: Synth) -> dict[str, Any]:
    body = synth.only("google_monitoring_dashboard")
    result: dict[str, Any] = json.loads(body["dashboard_json"])
    return result


def selectors(promql: str) -> list[tuple[str, dict[str, str]]]:
    """(metric name, equality matchers) of every vector selector; raises if it does not parse."""
    nodes: list[Any] = []
    promql_parser.walk(promql_parser.parse(promql), pre_visit=nodes.append)
    return [
        (
            str(node.name),
            {m.name: m.value for m in node.matchers.matchers if str(m.op).endswith("Equal")},
        )
        for node in nodes
        if isinstance(node, promql_parser.VectorSelector)
    ]


# ---------------------------------------------------------------- alerts


def test_three_alert_policies_with_promql_conditions(synth: Synth) -> None:
    found = policies(synth)
    assert set(found) == {"http_5xx_ratio", "auth_denied_spike", "no_ready_pods"}
    for body in found.values():
        promql = body["conditions"][0]["condition_prometheus_query_language"]
        assert promql["rule_group"] == "mcp_server"
        assert promql["evaluation_interval"] == "60s"
        assert re.fullmatch(r"[1-9][0-9]*s", promql["duration"])
        # Policies are created before any pod has been scraped.
        assert promql["disable_metric_validation"] is True
        assert body["combiner"] == "OR"
        assert body["severity"] in {"CRITICAL", "ERROR", "WARNING"}
        assert body["alert_strategy"] == {"auto_close": "1800s"}


def test_5xx_ratio_query(synth: Synth) -> None:
    assert query(policies(synth)["http_5xx_ratio"]) == (
        f'sum(rate(mcp_http_requests_total{{{SELECTOR},status=~"5.."}}[5m]))'
        f" / sum(rate(mcp_http_requests_total{{{SELECTOR}}}[5m])) > 0.05"
    )


def test_refused_token_spike_is_per_reason(synth: Synth) -> None:
    promql = query(policies(synth)["auth_denied_spike"])
    denied = f'sum by (reason) (rate(mcp_auth_decisions_total{{{SELECTOR},outcome="denied"}}[5m]))'
    baseline = (
        f"sum by (reason) (rate(mcp_auth_decisions_total{{{SELECTOR},"
        'outcome="denied"}[1h] offset 5m))'
    )
    assert promql == (f"{denied} > 0.2 and {denied} > 3 * ({baseline} or {denied} * 0)")


def test_no_ready_pods_uses_gke_kube_state_metrics(synth: Synth) -> None:
    assert query(policies(synth)["no_ready_pods"]) == (
        "(sum(kube_deployment_status_replicas_available"
        '{cluster="mcp-prototype",deployment="mcp-server"}) or vector(0)) < 1'
    )
    # Those metrics come from GKE's own packages, which the cluster turns on.
    monitoring = synth.only("google_container_cluster")["monitoring_config"]
    assert monitoring["managed_prometheus"] == {"enabled": True}
    assert {"SYSTEM_COMPONENTS", "DEPLOYMENT", "POD"} <= set(monitoring["enable_components"])


def test_every_alert_documents_meaning_first_check_and_runbook(synth: Synth) -> None:
    for name, body in policies(synth).items():
        doc = body["documentation"]
        assert doc["mime_type"] == "text/markdown"
        assert doc["subject"] == body["display_name"]
        content = doc["content"]
        assert "**What it means.**" in content, name
        assert "**First thing to check.**" in content, name
        assert "docs/operations.md" in content, name
        assert query(body) in content, name
    assert (ROOT / "docs" / "operations.md").is_file()


def test_queries_are_well_formed_and_name_real_metrics(synth: Synth) -> None:
    queries = [query(p) for p in policies(synth).values()]
    queries += [
        ds["timeSeriesQuery"]["prometheusQuery"]
        for tile in dashboard(synth)["mosaicLayout"]["tiles"]
        for ds in tile["widget"].get("xyChart", {}).get("dataSets", [])
    ]
    used: set[str] = set()
    app_labels = {"cluster": "mcp-prototype", "namespace": "mcp-prototype", "job": "mcp-server"}
    for promql in queries:
        for name, matchers in selectors(promql):
            if name.startswith("mcp_"):
                used.add(name.removesuffix("_bucket"))
                assert app_labels.items() <= matchers.items(), promql
            else:
                assert name in {
                    "kube_deployment_status_replicas_available",
                    "kubernetes_io:container_restart_count",
                }, name
                assert matchers.get("cluster", matchers.get("cluster_name")) == "mcp-prototype"
    expected = {
        "mcp_http_requests_total",
        "mcp_http_request_duration_seconds",
        "mcp_auth_decisions_total",
        "mcp_tool_calls_total",
    }
    assert expected == APP_METRICS
    assert used == APP_METRICS, "every metric the server exports is charted, and no other"


@pytest.mark.parametrize(
    "broken",
    ['sum(rate(x{a="b"}[5m])', 'x{a="}"', "rate(x[5 m])", "sum by reason (x)", "x > > 1"],
)
def test_the_promql_check_can_fail(broken: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (the parser's message varies)
        selectors(broken)


def test_no_channel_without_alert_email(synth: Synth) -> None:
    assert synth.resources("google_monitoring_notification_channel") == {}
    for body in policies(synth).values():
        assert body.get("notification_channels", []) == []


def test_alert_email_adds_one_channel_used_by_every_policy(alerting_synth: Synth) -> None:
    (channel_id, channel) = next(
        iter(alerting_synth.resources("google_monitoring_notification_channel").items())
    )
    assert len(alerting_synth.resources("google_monitoring_notification_channel")) == 1
    assert channel["type"] == "email"
    assert channel["labels"] == {"email_address": "oncall@example.com"}
    reference = f"${{google_monitoring_notification_channel.{channel_id}.id}}"
    for body in policies(alerting_synth).values():
        assert body["notification_channels"] == [reference]


def test_monitoring_api_is_enabled(synth: Synth) -> None:
    services = {s["service"] for s in synth.resources("google_project_service").values()}
    assert "monitoring.googleapis.com" in services


# ---------------------------------------------------------------- the dashboard


def tiles_problems(doc: dict[str, Any]) -> list[str]:
    """What the API refuses beyond the schema: tiles outside the grid or on top of each other."""
    problems = [
        f"{e.json_path}: {e.message}" for e in jsonschema.Draft7Validator(SCHEMA).iter_errors(doc)
    ]
    if problems:
        return problems
    layout = doc["mosaicLayout"]
    cells: dict[tuple[int, int], str] = {}
    for tile in layout["tiles"]:
        title = tile["widget"]["title"]
        if tile["xPos"] + tile["width"] > layout["columns"]:
            problems.append(f"{title}: wider than the grid")
        for x in range(tile["xPos"], tile["xPos"] + tile["width"]):
            for y in range(tile["yPos"], tile["yPos"] + tile["height"]):
                if (x, y) in cells:
                    problems.append(f"{title}: overlaps {cells[(x, y)]}")
                    break
                cells[(x, y)] = title
            else:
                continue
            break
    return problems


def test_dashboard_json_passes_the_api_schema(synth: Synth) -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    assert tiles_problems(dashboard(synth)) == []


def test_dashboard_widgets(synth: Synth) -> None:
    tiles = dashboard(synth)["mosaicLayout"]["tiles"]
    by_title = {t["widget"]["title"]: t["widget"] for t in tiles}
    assert list(by_title) == [
        "Requests per second by status",
        "Share of requests failing with 5xx",
        "Latency p50 and p99 (seconds)",
        "Authorization decisions by reason",
        "Tool calls by tool and result",
        "Pod restarts (last 10 minutes)",
        "Ready replicas",
        "Runbooks",
    ]

    def promql(title: str) -> list[str]:
        return [
            d["timeSeriesQuery"]["prometheusQuery"] for d in by_title[title]["xyChart"]["dataSets"]
        ]

    assert promql("Requests per second by status") == [
        f"sum by (status) (rate(mcp_http_requests_total{{{SELECTOR}}}[5m]))"
    ]
    buckets = f"sum by (le) (rate(mcp_http_request_duration_seconds_bucket{{{SELECTOR}}}[5m]))"
    assert promql("Latency p50 and p99 (seconds)") == [
        f"histogram_quantile(0.5, {buckets})",
        f"histogram_quantile(0.99, {buckets})",
    ]
    assert promql("Authorization decisions by reason") == [
        f"sum by (outcome, reason) (rate(mcp_auth_decisions_total{{{SELECTOR}}}[5m]))"
    ]
    assert promql("Tool calls by tool and result") == [
        f"sum by (tool, result) (rate(mcp_tool_calls_total{{{SELECTOR}}}[5m]))"
    ]
    (restarts,) = promql("Pod restarts (last 10 minutes)")
    assert restarts.startswith("sum by (pod_name) (increase(kubernetes_io:container_restart_count{")
    assert 'namespace_name="mcp-prototype",container_name="server"' in restarts
    # The alerts' expressions and the charts' are the same text.
    assert promql("Share of requests failing with 5xx")[0] in query(
        policies(synth)["http_5xx_ratio"]
    )


@pytest.mark.parametrize(
    ("what", "mutate", "message"),
    [
        ("typo", lambda d: d["mosaicLayout"].update(colums=48), "colums"),
        ("too many columns", lambda d: d["mosaicLayout"].update(columns=64), "64"),
        (
            "bad plot type",
            lambda d: d["mosaicLayout"]["tiles"][0]["widget"]["xyChart"]["dataSets"][0].update(
                plotType="PIE"
            ),
            "'PIE' is not one of",
        ),
        (
            "two widgets in one",
            lambda d: d["mosaicLayout"]["tiles"][0]["widget"].update(text={"content": "x"}),
            "is valid under each of",
        ),
        (
            "off the grid",
            lambda d: d["mosaicLayout"]["tiles"][1].update(xPos=30),
            "wider than the grid",
        ),
        (
            "overlap",
            lambda d: d["mosaicLayout"]["tiles"][1].update(xPos=0),
            "overlaps Requests per second",
        ),
    ],
)
def test_the_dashboard_check_can_fail(synth: Synth, what: str, mutate: Any, message: str) -> None:
    bad = copy.deepcopy(dashboard(synth))
    mutate(bad)
    problems = tiles_problems(bad)
    assert any(message in p for p in problems), (what, problems)


def test_operations_doc_explains_every_alert(synth: Synth) -> None:
    from infra.mcp_infra import monitoring

    doc = (ROOT / "docs" / "operations.md").read_text()
    alerts_part = doc.split("## 7. Alerts", 1)[1]
    headings = re.findall(r"^### (.+)$", alerts_part, re.M)
    names = sorted(body["display_name"] for body in policies(synth).values())
    assert sorted(h for h in headings if h != "Verify") == names
    # The numbers the runbook quotes are the ones the conditions use.
    prose = " ".join(alerts_part.split())
    assert f"more than {monitoring.ERROR_RATIO:.0%} of requests" in prose
    assert f"above {monitoring.DENIED_FLOOR_PER_SECOND} per second" in prose
    assert monitoring.DENIED_SPIKE_FACTOR == 3
    assert "to three times the previous hour's rate" in prose
    assert monitoring.FOR_NO_READY == "180s"
    assert "no available replica for 3 minutes" in prose
    # The Verify block lists exactly these policies, sorted.
    verify = alerts_part.split("### Verify", 1)[1]
    assert verify.split("```console\n", 1)[1].split("```", 1)[0].splitlines()[1:] == names
