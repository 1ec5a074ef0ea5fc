"""Alerts and a dashboard for the MCP server, read from Managed Service for Prometheus.

The chart's PodMonitoring (values-gke.yaml) has GMP scrape the server's
/metrics; GMP labels every series with `cluster`, `namespace` and `job` (the
PodMonitoring's name). Readiness and restarts come from what GKE collects
itself, with nothing to install: the managed kube state metrics package
(`kube_deployment_status_replicas_available`, enabled in cluster.py) and the
system metric kubernetes.io/container/restart_count, which PromQL names
`kubernetes_io:container_restart_count`.

Every query lives in this module, once: the alert conditions and the dashboard
charts use the same expressions, and docs/operations.md explains each alert.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cdktn import ITerraformDependable
from cdktn_provider_google.monitoring_alert_policy import (
    MonitoringAlertPolicy,
    MonitoringAlertPolicyConditions,
    MonitoringAlertPolicyConditionsConditionPrometheusQueryLanguage,
)
from cdktn_provider_google.monitoring_dashboard import MonitoringDashboard
from cdktn_provider_google.monitoring_notification_channel import (
    MonitoringNotificationChannel,
)
from constructs import Construct

from .config import InfraConfig

RUNBOOK = "docs/operations.md"
# Alert when more than this share of requests fails with a 5xx over 5 minutes.
ERROR_RATIO = 0.05
# Refused tokens per second (per reason) that count as a spike, and how many times
# the previous hour's rate they must also exceed (a steady trickle is not news).
DENIED_FLOOR_PER_SECOND = 0.2
DENIED_SPIKE_FACTOR = 3
# How long a condition must hold before an incident opens.
FOR_5XX = "300s"
FOR_DENIED = "300s"
FOR_NO_READY = "180s"
DENIED = 'outcome="denied"'


@dataclass(frozen=True)
class Queries:
    """The PromQL of the alerts and charts, for one cluster, namespace and release."""

    cluster: str
    namespace: str
    release: str

    @property
    def app(self) -> str:
        """Label matchers for the series GMP scraped from the server's pods."""
        return f'cluster="{self.cluster}",namespace="{self.namespace}",job="{self.release}"'

    def _rate(self, metric: str, extra: str = "", window: str = "5m", offset: str = "") -> str:
        matchers = self.app + (f",{extra}" if extra else "")
        shift = f" offset {offset}" if offset else ""
        return f"rate({metric}{{{matchers}}}[{window}]{shift})"

    @property
    def request_rate(self) -> str:
        return f"sum by (status) ({self._rate('mcp_http_requests_total')})"

    @property
    def error_ratio(self) -> str:
        errors = self._rate("mcp_http_requests_total", 'status=~"5.."')
        return f"sum({errors}) / sum({self._rate('mcp_http_requests_total')})"

    def latency(self, quantile: float) -> str:
        buckets = self._rate("mcp_http_request_duration_seconds_bucket")
        return f"histogram_quantile({quantile}, sum by (le) ({buckets}))"

    @property
    def decisions(self) -> str:
        return f"sum by (outcome, reason) ({self._rate('mcp_auth_decisions_total')})"

    @property
    def denied(self) -> str:
        rate = self._rate("mcp_auth_decisions_total", DENIED)
        return f"sum by (reason) ({rate})"

    @property
    def denied_baseline(self) -> str:
        """The previous hour's refusal rate per reason, ending where `denied` starts."""
        rate = self._rate("mcp_auth_decisions_total", DENIED, window="1h", offset="5m")
        return f"sum by (reason) ({rate})"

    @property
    def tool_calls(self) -> str:
        return f"sum by (tool, result) ({self._rate('mcp_tool_calls_total')})"

    @property
    def available_replicas(self) -> str:
        # The kube state package labels the Deployment's own name and namespace.
        return (
            "sum(kube_deployment_status_replicas_available{"
            f'cluster="{self.cluster}",deployment="{self.release}"}})'
        )

    @property
    def restarts(self) -> str:
        return (
            "sum by (pod_name) (increase(kubernetes_io:container_restart_count{"
            f'monitored_resource="k8s_container",cluster_name="{self.cluster}",'
            f'namespace_name="{self.namespace}",container_name="server"}}[10m]))'
        )

    # ---- the alert conditions

    @property
    def alert_5xx(self) -> str:
        return f"{self.error_ratio} > {ERROR_RATIO}"

    @property
    def alert_denied_spike(self) -> str:
        # A reason with no refusals in the previous hour has no baseline series:
        # `or ... * 0` gives it a baseline of zero instead of dropping it.
        baseline = f"({self.denied_baseline} or {self.denied} * 0)"
        return (
            f"{self.denied} > {DENIED_FLOOR_PER_SECOND}"
            f" and {self.denied} > {DENIED_SPIKE_FACTOR} * {baseline}"
        )

    @property
    def alert_no_ready_pods(self) -> str:
        # No series at all (the Deployment is gone, or the package is off) counts as zero.
        return f"({self.available_replicas} or vector(0)) < 1"


@dataclass(frozen=True)
class Alert:
    key: str
    name: str
    query: str
    duration: str
    severity: str
    what: str
    first_check: str


def alerts(q: Queries) -> list[Alert]:
    ns, release = q.namespace, q.release
    return [
        Alert(
            key="http-5xx-ratio",
            name="MCP server: more than 5% of requests fail (5xx)",
            query=q.alert_5xx,
            duration=FOR_5XX,
            severity="ERROR",
            what=(
                f"Over the last 5 minutes more than {ERROR_RATIO:.0%} of HTTP requests to "
                "the MCP server were answered with a 5xx status: the server itself failed, "
                "not the callers' tokens (those are 401/403)."
            ),
            first_check=(
                "Read the server's error lines: "
                f"`kubectl -n {ns} logs deploy/{release} --since=15m | grep -E "
                '\'"severity": ?"(ERROR|CRITICAL)"\'`. '
                "If a rollout just happened, compare the image with the previous one and "
                "roll back (runbook: Roll back a bad release)."
            ),
        ),
        Alert(
            key="auth-denied-spike",
            name="MCP server: spike of refused tokens",
            query=q.alert_denied_spike,
            duration=FOR_DENIED,
            severity="WARNING",
            what=(
                "Refused tokens for one reason (label `reason`: expired, bad_signature, "
                "revoked, missing_scope, rate_limited, ...) rose above "
                f"{DENIED_FLOOR_PER_SECOND}/s and to {DENIED_SPIKE_FACTOR} times the "
                "previous hour's rate."
            ),
            first_check=(
                "Open the dashboard chart 'Authorization decisions by reason' to see which "
                "reason spiked. bad_signature right after a rotation means clients still "
                "hold tokens of a key no longer mounted; revoked means a revoked token is "
                "still in use (who? the log lines carry `sub`); missing_scope or "
                "rate_limited point at one client."
            ),
        ),
        Alert(
            key="no-ready-pods",
            name="MCP server: no ready pods",
            query=q.alert_no_ready_pods,
            duration=FOR_NO_READY,
            severity="CRITICAL",
            what=(
                f"Deployment {release} in cluster {q.cluster} has had no available (ready) "
                "replica for 3 minutes: nobody can reach the server."
            ),
            first_check=(
                f"`kubectl -n {ns} get deploy,pods -l app.kubernetes.io/instance={release}` "
                f"and `kubectl -n {ns} describe pods -l app.kubernetes.io/instance={release}` "
                "(events: image pull, a missing Secret, failing probes). A config error is "
                "named in the first log line: "
                f"`kubectl -n {ns} logs deploy/{release} --previous`."
            ),
        ),
    ]


def documentation(alert: Alert) -> str:
    return (
        f"## {alert.name}\n\n"
        f"**What it means.** {alert.what}\n\n"
        f"**First thing to check.** {alert.first_check}\n\n"
        f"Runbook: {RUNBOOK}, section 'Alerts'.\n\n"
        f"Query: `{alert.query}`"
    )


# ---------------------------------------------------------------- the dashboard

COLUMNS = 48  # the most a mosaic layout has; tiles below are half or full width


def chart(title: str, series: list[tuple[str, str]], unit: str, plot: str = "LINE") -> Any:
    """An xyChart widget: one PromQL data set per (query, legend) pair."""
    return {
        "title": title,
        "xyChart": {
            "dataSets": [
                {
                    "timeSeriesQuery": {"prometheusQuery": query, "unitOverride": unit},
                    "plotType": plot,
                    "legendTemplate": legend,
                    "minAlignmentPeriod": "60s",
                    "targetAxis": "Y1",
                }
                for query, legend in series
            ],
            "yAxis": {"label": unit, "scale": "LINEAR"},
            "chartOptions": {"mode": "COLOR"},
        },
    }


def dashboard(q: Queries) -> dict[str, Any]:
    """The Dashboard resource of the Monitoring API (v1), as the provider sends it."""
    widgets = [
        chart("Requests per second by status", [(q.request_rate, "${labels.status}")], "1/s"),
        chart("Share of requests failing with 5xx", [(q.error_ratio, "5xx ratio")], "1"),
        chart(
            "Latency p50 and p99 (seconds)",
            [(q.latency(0.5), "p50"), (q.latency(0.99), "p99")],
            "s",
        ),
        chart(
            "Authorization decisions by reason",
            [(q.decisions, "${labels.outcome} ${labels.reason}")],
            "1/s",
            "STACKED_AREA",
        ),
        chart(
            "Tool calls by tool and result",
            [(q.tool_calls, "${labels.tool} ${labels.result}")],
            "1/s",
            "STACKED_BAR",
        ),
        chart("Pod restarts (last 10 minutes)", [(q.restarts, "${labels.pod_name}")], "1"),
        chart("Ready replicas", [(q.available_replicas, "available")], "1"),
        {
            "title": "Runbooks",
            "text": {
                "content": (
                    f"Rotate the key, revoke a token, roll back, scale out, and what each "
                    f"alert means: `{RUNBOOK}` in the repository."
                ),
                "format": "MARKDOWN",
            },
        },
    ]
    half = COLUMNS // 2
    tiles = [
        {
            "xPos": (i % 2) * half,
            "yPos": (i // 2) * 16,
            "width": half,
            "height": 16,
            "widget": widget,
        }
        for i, widget in enumerate(widgets)
    ]
    return {
        "displayName": f"MCP server ({q.cluster}/{q.namespace})",
        "mosaicLayout": {"columns": COLUMNS, "tiles": tiles},
    }


class Monitoring(Construct):
    """The notification channel (optional), the alert policies and the dashboard."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: InfraConfig,
        depends_on: list[ITerraformDependable],
    ) -> None:
        super().__init__(scope, id_)
        cfg = config
        # The chart names the Deployment, its KSA and the PodMonitoring after the release.
        self.queries = Queries(cfg.cluster_name, cfg.k8s_namespace, cfg.k8s_service_account)

        self.channels: list[MonitoringNotificationChannel] = []
        if cfg.alert_email:
            self.channels.append(
                MonitoringNotificationChannel(
                    self,
                    "email",
                    project=cfg.project_id,
                    display_name=f"MCP server alerts ({cfg.alert_email})",
                    type="email",
                    labels={"email_address": cfg.alert_email},
                    user_labels=dict(cfg.labels),
                    depends_on=depends_on,
                )
            )

        self.policies: dict[str, MonitoringAlertPolicy] = {}
        for alert in alerts(self.queries):
            self.policies[alert.key] = MonitoringAlertPolicy(
                self,
                alert.key,
                project=cfg.project_id,
                display_name=alert.name,
                combiner="OR",
                severity=alert.severity,
                conditions=[
                    MonitoringAlertPolicyConditions(
                        display_name=alert.name,
                        condition_prometheus_query_language=(
                            MonitoringAlertPolicyConditionsConditionPrometheusQueryLanguage(
                                query=alert.query,
                                duration=alert.duration,
                                evaluation_interval="60s",
                                alert_rule=alert.key.replace("-", "_"),
                                rule_group="mcp_server",
                                # The app's metrics exist only once GMP has scraped a pod,
                                # after this apply; without this the policy is refused.
                                disable_metric_validation=True,
                            )
                        ),
                    )
                ],
                documentation={
                    "content": documentation(alert),
                    "mime_type": "text/markdown",
                    "subject": alert.name,
                },
                # Close the incident by itself once the condition has been false this long.
                alert_strategy={"auto_close": "1800s"},
                notification_channels=[c.id for c in self.channels],
                user_labels=dict(cfg.labels),
                depends_on=depends_on,
            )

        self.dashboard = MonitoringDashboard(
            self,
            "dashboard",
            project=cfg.project_id,
            dashboard_json=json.dumps(dashboard(self.queries), sort_keys=True),
            depends_on=depends_on,
        )
