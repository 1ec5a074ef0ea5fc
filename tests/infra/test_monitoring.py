"""Alert policies, SLOs, the uptime check, the dashboard and the channel in the stack.

What the alert expressions compute is tested by promtool (test_promtool.py);
here: that the stack turns each into a policy that reaches the channel, that
its selectors name the server's real metrics, and the dashboard's shape.

The dashboard's JSON is checked against the part of the Monitoring API's
Dashboard schema this project uses (schemas/monitoring-dashboard-v1.json,
written from the API reference), plus what a schema cannot say: tiles fit
the grid and do not overlap. Every PromQL expression is parsed with
promql-parser (the Rust parser of the Prometheus grammar); its selectors must
name the metrics the server exports (app/metrics.py) and select this
deployment's series.
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

from tests.docs.markdown import numbered_sections, sections
from tests.helpers import ROOT
from tests.infra.conftest import Synth

pytestmark = pytest.mark.infra

SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "monitoring-dashboard-v1.json").read_text()
)
SELECTOR = 'cluster="mcp-prototype",namespace="mcp-prototype",job="mcp-server"'
APP_METRICS = {
    name
    for path in (ROOT / "app").glob("*.py")
    for name in re.findall(r'"(mcp_[a-z_]+)"', path.read_text())
}


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


BURN_ALERTS = {
    "slo_availability_fast_burn",
    "slo_availability_slow_burn",
    "slo_latency_fast_burn",
    "slo_latency_slow_burn",
}
DAY2_ALERTS = {
    "auth_denied_spike",
    "no_ready_pods",
    "signing_keys_differ",
    "denylists_differ",
    "reload_refused",
    "limit_storage_errors",
    "oauth_storage_errors",
}


def test_alert_policies_with_promql_conditions(synth: Synth) -> None:
    found = policies(synth)
    assert set(found) == BURN_ALERTS | DAY2_ALERTS
    for body in found.values():
        promql = body["conditions"][0]["condition_prometheus_query_language"]
        assert promql["rule_group"] == "mcp_server"
        assert promql["evaluation_interval"] == "60s"
        assert re.fullmatch(r"(0|[1-9][0-9]*)s", promql["duration"])
        # Policies are created before any pod has been scraped.
        assert promql["disable_metric_validation"] is True
        assert body["combiner"] == "OR"
        assert body["severity"] in {"CRITICAL", "ERROR", "WARNING"}
        assert body["alert_strategy"] == {"auto_close": "1800s"}


def test_burn_rate_alerts_count_only_mcp_requests(synth: Synth) -> None:
    found = policies(synth)
    for name in BURN_ALERTS:
        request_selectors = [
            matchers for metric, matchers in selectors(query(found[name])) if "http" in metric
        ]
        # Two windows, each a ratio of two selectors, and the traffic guard.
        assert len(request_selectors) == 5, name
        assert all(m.get("route") == "/mcp" for m in request_selectors), name
    # The fast pair pages (CRITICAL); the slow pair does too, less urgently.
    assert {found[n]["severity"] for n in BURN_ALERTS if "fast" in n} == {"CRITICAL"}


def test_slos_on_a_custom_service_over_mcp_only(synth: Synth) -> None:
    from infra.mcp_infra import alert_rules

    service = synth.only("google_monitoring_custom_service")
    slos = synth.resources("google_monitoring_slo")
    assert len(slos) == 2
    by_goal = {body["goal"]: body for body in slos.values()}
    assert set(by_goal) == {alert_rules.AVAILABILITY_GOAL, alert_rules.LATENCY_GOAL}
    for body in slos.values():
        assert body["service"].startswith("${google_monitoring_custom_service.")
        assert body["rolling_period_days"] == alert_rules.SLO_DAYS
    assert service["service_id"] == "mcp-server"
    ratio = by_goal[alert_rules.AVAILABILITY_GOAL]["request_based_sli"]["good_total_ratio"]
    cut = by_goal[alert_rules.LATENCY_GOAL]["request_based_sli"]["distribution_cut"]
    for where in (ratio["total_service_filter"], ratio["bad_service_filter"]):
        assert 'metric.label.route="/mcp"' in where
        assert 'resource.label.job="mcp-server"' in where
        assert "prometheus.googleapis.com/mcp_http_requests_total/counter" in where
    assert 'status=monitoring.regex.full_match("5..")' in ratio["bad_service_filter"]
    assert "mcp_http_request_duration_seconds/histogram" in cut["distribution_filter"]
    assert 'metric.label.route="/mcp"' in cut["distribution_filter"]
    assert cut["range"] == {"max": alert_rules.LATENCY_THRESHOLD_SECONDS}


def test_latency_threshold_is_a_bucket_the_server_exports() -> None:
    from app.metrics import LATENCY
    from infra.mcp_infra import alert_rules

    assert alert_rules.LATENCY_THRESHOLD_SECONDS in LATENCY._upper_bounds


def test_no_uptime_check_without_signin_host(synth: Synth) -> None:
    assert synth.resources("google_monitoring_uptime_check_config") == {}
    assert "uptime_check_failing" not in policies(synth)


def test_uptime_check_on_the_public_url_when_signin_host_is_set(alerting_synth: Synth) -> None:
    (check_id, check) = next(
        iter(alerting_synth.resources("google_monitoring_uptime_check_config").items())
    )
    assert check["monitored_resource"] == {
        "type": "uptime_url",
        "labels": {"project_id": "mcp-example-123456", "host": "mcp.example.com"},
    }
    http = check["http_check"]
    assert (http["use_ssl"], http["validate_ssl"], http["port"]) == (True, True, 443)
    assert http["path"] == "/.well-known/oauth-protected-resource/mcp"
    # The alert follows the check Google names at apply time.
    promql = query(policies(alerting_synth)["uptime_check_failing"])
    reference = f"${{google_monitoring_uptime_check_config.{check_id}.uptime_check_id}}"
    assert f'check_id="{reference}"' in promql


def test_every_alert_documents_meaning_runbook_and_query(synth: Synth) -> None:
    for name, body in policies(synth).items():
        doc = body["documentation"]
        assert doc["mime_type"] == "text/markdown"
        assert doc["subject"] == body["display_name"]
        content = doc["content"]
        assert "**What it means.**" in content, name
        assert "docs/operations.md" in content, name
        assert body["display_name"] in content, name
        assert query(body) in content, name


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
                used.add(re.sub(r"_(bucket|count)$", "", name))
                assert app_labels.items() <= matchers.items(), promql
            else:
                assert name in {
                    "kube_deployment_status_replicas_available",
                    "kubernetes_io:container_restart_count",
                }, name
                assert matchers.get("cluster", matchers.get("cluster_name")) == "mcp-prototype"
    assert used <= APP_METRICS, "a query names a metric nobody exports"
    assert used >= APP_METRICS, "every metric the server exports is charted or alerted on"


@pytest.mark.parametrize(
    "broken",
    ['sum(rate(x{a="b"}[5m])', 'x{a="}"', "rate(x[5 m])", "sum by reason (x)", "x > > 1"],
)
def test_the_promql_check_can_fail(broken: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (the parser's message varies)
        selectors(broken)


def test_no_channel_without_alert_email_and_synth_says_so(synth: Synth) -> None:
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
    found = policies(alerting_synth)
    assert set(found) == BURN_ALERTS | DAY2_ALERTS | {"uptime_check_failing"}
    for body in found.values():
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

    def promql(title: str) -> list[str]:
        return [
            d["timeSeriesQuery"]["prometheusQuery"] for d in by_title[title]["xyChart"]["dataSets"]
        ]

    mcp = f'{SELECTOR},route="/mcp"'
    assert promql("Requests per second by route and status") == [
        f"sum by (route, status) (rate(mcp_http_requests_total{{{SELECTOR}}}[5m]))"
    ]
    buckets = f"sum by (le) (rate(mcp_http_request_duration_seconds_bucket{{{mcp}}}[5m]))"
    assert promql("/mcp latency p50 and p99 (seconds)") == [
        f"histogram_quantile(0.5, {buckets})",
        f"histogram_quantile(0.99, {buckets})",
    ]
    (budget_title,) = [t for t in by_title if t.startswith("Error budget left")]
    availability, latency = promql(budget_title)
    assert availability.startswith("1 - (sum(rate(mcp_http_requests_total{")
    assert "[30d]" in availability
    assert availability.endswith(" / 0.005")
    assert latency.endswith(" / 0.01")
    (fingerprints,) = promql("Pods per current signing key fingerprint")
    assert fingerprints == (
        f'count by (fingerprint) (mcp_signing_key_info{{{SELECTOR},slot="current"}})'
    )
    # The alerts' expressions and the charts' are the same text.
    (share,) = promql("Share of /mcp requests failing with 5xx")
    assert share.replace("[5m]", "[1h]") in query(policies(synth)["slo_availability_fast_burn"])
    assert list(by_title)[-1] == "Runbooks"


def test_no_channel_warning_at_synth(
    example_config: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from cdktn import App, TerraformStack, Testing

    from infra.mcp_infra.monitoring import Monitoring

    stack = TerraformStack(App(), "probe")
    Monitoring(stack, "monitoring", config=example_config, depends_on=[])
    warning = capsys.readouterr().err
    assert "alert_email is empty" in warning
    assert "alerts reach nobody" in warning
    two = example_config.model_copy(update={"alert_email": "oncall@example.com, lead@example.com"})
    stack = TerraformStack(App(), "probe2")
    Monitoring(stack, "monitoring", config=two, depends_on=[])
    assert capsys.readouterr().err == ""
    # One channel per address, and every policy notifies both.
    doc = json.loads(Testing.synth(stack))["resource"]
    channels = doc["google_monitoring_notification_channel"]
    assert sorted(c["labels"]["email_address"] for c in channels.values()) == [
        "lead@example.com",
        "oncall@example.com",
    ]
    references = {f"${{google_monitoring_notification_channel.{cid}.id}}" for cid in channels}
    for policy in doc["google_monitoring_alert_policy"].values():
        assert set(policy["notification_channels"]) == references


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


def runbooks() -> dict[str, str]:
    """The sections of docs/operations.md's alert chapter, by heading."""
    chapter = numbered_sections((ROOT / "docs" / "operations.md").read_text(), 2)["7"]
    return {title: text for title, text in sections(chapter, 3).items() if title != "Verify"}


@pytest.mark.docs
def test_every_alert_has_a_runbook_and_every_runbook_an_alert(alerting_synth: Synth) -> None:
    names = {body["display_name"] for body in policies(alerting_synth).values()}
    found = runbooks()
    assert set(found) == names
    for name, text in found.items():
        assert "**Means:**" in text, name
        assert "**Escalate:**" in text, name
        commands = re.findall(r"^\$ \S", text.split("**First commands:**", 1)[1], re.M)
        assert len(commands) >= 3, name
