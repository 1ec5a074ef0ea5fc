"""Notification channels, alert policies, SLOs, an uptime check and the dashboard.

Every PromQL expression comes from alert_rules.py, the same module
tests/infra/test_promtool.py runs `promtool test rules` on. The SLOs exist
twice on purpose, from the same constants: as Cloud Monitoring SLO objects (the
console's Services page shows their error budget), and as PromQL burn-rate
alert policies over the same /mcp requests (what pages, and what promtool
tests). docs/operations.md holds a runbook per alert policy.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from cdktn import ITerraformDependable
from cdktn_provider_google.monitoring_alert_policy import (
    MonitoringAlertPolicy,
    MonitoringAlertPolicyConditions,
    MonitoringAlertPolicyConditionsConditionPrometheusQueryLanguage,
)
from cdktn_provider_google.monitoring_custom_service import MonitoringCustomService
from cdktn_provider_google.monitoring_dashboard import MonitoringDashboard
from cdktn_provider_google.monitoring_notification_channel import (
    MonitoringNotificationChannel,
)
from cdktn_provider_google.monitoring_slo import MonitoringSlo
from cdktn_provider_google.monitoring_uptime_check_config import (
    MonitoringUptimeCheckConfig,
    MonitoringUptimeCheckConfigHttpCheckAcceptedResponseStatusCodes,
)
from constructs import Construct

from .alert_rules import (
    AVAILABILITY,
    LATENCY_THRESHOLD_SECONDS,
    MCP_ROUTE,
    OBJECTIVES,
    RUNBOOK,
    SLO_DAYS,
    UPTIME_PATH,
    Alert,
    Objective,
    Queries,
    alerts,
    documentation,
    recording_rules,
)
from .config import InfraConfig
from .settings import split_addresses

NO_CHANNEL_WARNING = (
    "warning: alert_email is empty in infra/config.toml: the alert policies have no "
    "notification channel, so alerts reach nobody (incidents only open in the console). "
    "Set alert_email to the on-call address and synth again."
)
SERVICE_ID = "mcp-server"


def slo_filters(cfg: InfraConfig) -> str:
    """Cloud Monitoring's filter for the /mcp requests GMP scraped from this deployment."""
    return (
        'resource.type="prometheus_target"'
        f' resource.label.cluster="{cfg.cluster_name}"'
        f' resource.label.namespace="{cfg.k8s_namespace}"'
        f' resource.label.job="{cfg.k8s_service_account}"'
        f' metric.label.route="{MCP_ROUTE}"'
    )


def request_based_sli(cfg: InfraConfig, objective: Objective) -> dict[str, Any]:
    """The SLI of `objective` as Cloud Monitoring computes it (the PromQL's twin)."""
    where = slo_filters(cfg)
    if objective is AVAILABILITY:
        counter = 'metric.type="prometheus.googleapis.com/mcp_http_requests_total/counter"'
        return {
            "good_total_ratio": {
                "total_service_filter": f"{counter} {where}",
                "bad_service_filter": (
                    f'{counter} {where} metric.label.status=monitoring.regex.full_match("5..")'
                ),
            }
        }
    histogram = (
        'metric.type="prometheus.googleapis.com/mcp_http_request_duration_seconds/histogram"'
    )
    return {
        "distribution_cut": {
            "distribution_filter": f"{histogram} {where}",
            "range": {"max": LATENCY_THRESHOLD_SECONDS},
        }
    }


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
    slo = recording_rules(q)  # the SLO charts' expressions, as promtool tests them
    widgets = [
        chart(
            "Requests per second by route and status",
            [(q.request_rate, "${labels.route} ${labels.status}")],
            "1/s",
        ),
        chart(
            f"Share of {MCP_ROUTE} requests failing with 5xx",
            [(q.bad_ratio(AVAILABILITY, "5m"), "5xx ratio")],
            "1",
        ),
        chart(
            f"{MCP_ROUTE} latency p50 and p99 (seconds)",
            [(q.latency(0.5), "p50"), (q.latency(0.99), "p99")],
            "s",
        ),
        chart(
            f"Error budget left ({SLO_DAYS} days; below 0: overspent)",
            [(slo[f"mcp:slo_budget_left:{o.key}"], o.title) for o in OBJECTIVES],
            "1",
        ),
        chart(
            "SLO burn rate over 1 hour (1 spends the budget in exactly the period)",
            [(slo[f"mcp:slo_burn_rate_1h:{o.key}"], o.title) for o in OBJECTIVES],
            "1",
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
        chart(
            "Pods per current signing key fingerprint",
            [(q.key_fingerprints, "${labels.fingerprint}")],
            "1",
        ),
        chart(
            "Seconds since the last good reload, by file",
            [(q.reload_age, "${labels.setting}")],
            "s",
        ),
        {
            "title": "Runbooks",
            "text": {
                "content": (
                    f"Rotate the key, revoke a token, roll back, scale out, and a runbook "
                    f"per alert: `{RUNBOOK}` in the repository."
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
    """Channels, the SLOs, the uptime check (with sign-in), alert policies and the dashboard."""

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
        self.config = cfg
        self.depends_on = depends_on

        self.channels = [
            MonitoringNotificationChannel(
                self,
                # The first keeps the id a single address always had (no replacement).
                "email" if i == 0 else f"email-{i}",
                project=cfg.project_id,
                display_name=f"MCP server alerts ({address})",
                type="email",
                labels={"email_address": address},
                user_labels=dict(cfg.labels),
                depends_on=depends_on,
            )
            for i, address in enumerate(split_addresses(cfg.alert_email))
        ]
        if not self.channels:
            print(NO_CHANNEL_WARNING, file=sys.stderr)

        self.service = MonitoringCustomService(
            self,
            "service",
            project=cfg.project_id,
            service_id=SERVICE_ID,
            display_name=f"MCP server ({cfg.cluster_name}/{cfg.k8s_namespace})",
            user_labels=dict(cfg.labels),
            depends_on=depends_on,
        )
        self.slos = {
            objective.key: MonitoringSlo(
                self,
                f"slo-{objective.key}",
                project=cfg.project_id,
                service=self.service.service_id,
                slo_id=f"mcp-{objective.key}",
                display_name=(
                    f"{objective.goal:.1%} of {MCP_ROUTE} requests {objective.good}, "
                    f"{SLO_DAYS} days"
                ),
                goal=objective.goal,
                rolling_period_days=SLO_DAYS,
                request_based_sli=request_based_sli(cfg, objective),
                user_labels=dict(cfg.labels),
            )
            for objective in OBJECTIVES
        }

        self.uptime_check: MonitoringUptimeCheckConfig | None = None
        uptime_id = ""
        if cfg.signin_host:
            self.uptime_check = MonitoringUptimeCheckConfig(
                self,
                "uptime",
                project=cfg.project_id,
                display_name=f"MCP server public URL (https://{cfg.signin_host})",
                timeout="10s",
                period="60s",
                http_check={
                    # Public and cheap: the RFC 9728 document every MCP client reads first.
                    "path": UPTIME_PATH,
                    "port": 443,
                    "use_ssl": True,
                    "validate_ssl": True,
                    "request_method": "GET",
                    "accepted_response_status_codes": [
                        MonitoringUptimeCheckConfigHttpCheckAcceptedResponseStatusCodes(
                            status_class="STATUS_CLASS_2XX"
                        )
                    ],
                },
                monitored_resource={
                    "type": "uptime_url",
                    "labels": {"project_id": cfg.project_id, "host": cfg.signin_host},
                },
                user_labels=dict(cfg.labels),
                depends_on=depends_on,
            )
            uptime_id = self.uptime_check.uptime_check_id

        # The chart names the Deployment, its KSA and the PodMonitoring after the release.
        self.queries = Queries(
            cfg.cluster_name, cfg.k8s_namespace, cfg.k8s_service_account, uptime_id
        )
        self.policies = {alert.key: self._policy(alert) for alert in alerts(self.queries)}

        self.dashboard = MonitoringDashboard(
            self,
            "dashboard",
            project=cfg.project_id,
            dashboard_json=json.dumps(dashboard(self.queries), sort_keys=True),
            depends_on=depends_on,
        )

    def _policy(self, alert: Alert) -> MonitoringAlertPolicy:
        cfg = self.config
        return MonitoringAlertPolicy(
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
                            alert_rule=alert.rule,
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
            depends_on=self.depends_on,
        )
