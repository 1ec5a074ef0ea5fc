"""The PromQL of every alert, SLO and chart, written once for the stack and for promtool.

The chart's PodMonitoring (values-gke.yaml) has Managed Service for Prometheus
(GMP) scrape the server's /metrics; GMP labels every series with `cluster`,
`namespace` and `job` (the PodMonitoring's name) and the pod's `instance`.
Readiness and restarts come from what GKE collects itself: the managed kube
state metrics package (`kube_deployment_status_replicas_available`, enabled in
cluster.py) and the system metric kubernetes.io/container/restart_count, which
PromQL names `kubernetes_io:container_restart_count`.

monitoring.py turns these expressions into alert policies and dashboard charts;
tests/infra/test_promtool.py writes the same expressions into a Prometheus rule
file and runs `promtool test rules` on them. Like config.py, this module imports
nothing from CDK Terrain, so the rule tests need no provider.
"""

from __future__ import annotations

from dataclasses import dataclass

RUNBOOK = "docs/operations.md"

# ---- service level objectives, over the /mcp route only (probes and scrapes never count)

MCP_ROUTE = "/mcp"
SLO_DAYS = 30
# A zonal GKE control plane's own SLA is 99.5%: the default cluster cannot promise more.
AVAILABILITY_GOAL = 0.995
# 99% of /mcp answers within 250 ms. docs/benchmarks.md measures p99 at 11-15 ms with
# auth on, on 2 busy local cores at ~1,600-1,800 req/s; 250 ms leaves a load balancer
# hop, a shared-core e2 node and a Redis round trip that no benchmark measured. It must
# be a bucket boundary of mcp_http_request_duration_seconds (app/metrics.py).
LATENCY_GOAL = 0.99
LATENCY_THRESHOLD_SECONDS = 0.25
# A burn-rate alert needs this many /mcp requests in its long window: one failed call in
# an otherwise silent hour is not an outage. 0.03 req/s for an hour is 108.
MIN_REQUESTS = 10


@dataclass(frozen=True)
class Objective:
    key: str
    title: str
    goal: float
    good: str  # what a good request is, for people

    @property
    def budget(self) -> float:
        """The share of requests allowed to be bad."""
        return round(1 - self.goal, 6)


AVAILABILITY = Objective(
    "availability", "availability", AVAILABILITY_GOAL, "answered without a 5xx status"
)
LATENCY = Objective(
    "latency",
    "latency",
    LATENCY_GOAL,
    f"answered within {LATENCY_THRESHOLD_SECONDS * 1000:g} ms",
)
OBJECTIVES = (AVAILABILITY, LATENCY)


@dataclass(frozen=True)
class BurnWindow:
    """One multi-window, multi-burn-rate alert (SRE workbook, "Alerting on SLOs", table 5-8).

    Both windows must burn faster than `factor` times the budget: the long one
    says enough budget is gone to matter, the short one that it is still
    burning, so the alert resets minutes after the problem stops.
    """

    key: str
    long: str
    short: str
    factor: float
    duration: str
    severity: str
    spends: str  # the share of a 30-day budget the long window spends at this rate


BURN_WINDOWS = (
    BurnWindow("fast", "1h", "5m", 14.4, "120s", "CRITICAL", "2% of the 30-day budget in 1 hour"),
    BurnWindow("slow", "6h", "30m", 6, "900s", "ERROR", "5% of the 30-day budget in 6 hours"),
)

# ---- other thresholds

# Refused tokens per second (per reason) that count as a spike, and how many times
# the previous hour's rate they must also exceed (a steady trickle is not news).
DENIED_FLOOR_PER_SECOND = 0.2
DENIED_SPIKE_FACTOR = 3
DENIED = 'outcome="denied"'
CURRENT_KEY = 'slot="current"'
# Kubelet refreshes a mounted Secret within about a minute plus its cache TTL, so
# pods may disagree for a few minutes during a rotation, never for ten.
FOR_DISAGREE = "600s"
# A refused reload stays an incident this long after the last refusal.
REFUSED_WINDOW = "15m"
FOR_STORAGE = "300s"
FOR_DENIED = "300s"
FOR_NO_READY = "180s"
FOR_UPTIME = "300s"
# Uptime checkers in this many regions must fail together: one region's network is not us.
UPTIME_FAILING_REGIONS = 2
UPTIME_PATH = "/.well-known/oauth-protected-resource/mcp"


def _num(value: float) -> str:
    return f"{round(value, 6):g}"


def _minutes(duration: str) -> str:
    """'600s' as people read it in an alert's text ('10 minutes'): the duration is its one owner."""
    return f"{int(duration.removesuffix('s')) // 60} minutes"


@dataclass(frozen=True)
class Queries:
    """The PromQL of the alerts and charts, for one cluster, namespace and release."""

    cluster: str
    namespace: str
    release: str
    uptime_check_id: str = ""

    @property
    def app(self) -> str:
        """Label matchers for the series GMP scraped from the server's pods."""
        return f'cluster="{self.cluster}",namespace="{self.namespace}",job="{self.release}"'

    def _rate(self, metric: str, extra: str = "", window: str = "5m", offset: str = "") -> str:
        matchers = self.app + (f",{extra}" if extra else "")
        shift = f" offset {offset}" if offset else ""
        return f"rate({metric}{{{matchers}}}[{window}]{shift})"

    # ---- requests, latency, decisions (charts)

    @property
    def request_rate(self) -> str:
        return f"sum by (route, status) ({self._rate('mcp_http_requests_total')})"

    def latency(self, quantile: float) -> str:
        buckets = self._rate("mcp_http_request_duration_seconds_bucket", self.mcp)
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

    # ---- the SLIs: the share of bad /mcp requests over a window

    @property
    def mcp(self) -> str:
        return f'route="{MCP_ROUTE}"'

    def mcp_requests(self, window: str) -> str:
        """How many /mcp requests the pods answered in `window` (the traffic guard)."""
        return f"sum(increase(mcp_http_requests_total{{{self.app},{self.mcp}}}[{window}]))"

    def bad_ratio(self, objective: Objective, window: str) -> str:
        """The share of /mcp requests in `window` that break `objective`."""
        if objective is AVAILABILITY:
            errors = self._rate("mcp_http_requests_total", f'{self.mcp},status=~"5.."', window)
            total = self._rate("mcp_http_requests_total", self.mcp, window)
            return f"(sum({errors}) / sum({total}))"
        le = f'{self.mcp},le="{LATENCY_THRESHOLD_SECONDS:g}"'
        fast = self._rate("mcp_http_request_duration_seconds_bucket", le, window)
        count = self._rate("mcp_http_request_duration_seconds_count", self.mcp, window)
        return f"(1 - sum({fast}) / sum({count}))"

    def budget_left(self, objective: Objective) -> str:
        """The share of the SLO period's error budget not yet spent (below 0: overspent)."""
        return f"1 - {self.bad_ratio(objective, f'{SLO_DAYS}d')} / {_num(objective.budget)}"

    def burn_rate(self, objective: Objective, window: str) -> str:
        return f"{self.bad_ratio(objective, window)} / {_num(objective.budget)}"

    def alert_burn(self, objective: Objective, burn: BurnWindow) -> str:
        threshold = _num(burn.factor * objective.budget)
        return (
            f"{self.bad_ratio(objective, burn.long)} > {threshold}"
            f" and {self.bad_ratio(objective, burn.short)} > {threshold}"
            f" and {self.mcp_requests(burn.long)} >= {MIN_REQUESTS}"
        )

    # ---- signing keys and the deny-list, per pod (app/reload_metrics.py)

    def distinct(self, info_metric: str, extra: str = "") -> str:
        """How many different fingerprints the pods serve right now."""
        matchers = self.app + (f",{extra}" if extra else "")
        return f"count(count by (fingerprint) ({info_metric}{{{matchers}}}))"

    @property
    def key_fingerprints(self) -> str:
        return f"count by (fingerprint) (mcp_signing_key_info{{{self.app},{CURRENT_KEY}}})"

    @property
    def reload_age(self) -> str:
        return f"time() - max by (setting) (mcp_reload_success_timestamp_seconds{{{self.app}}})"

    @property
    def refused_reloads(self) -> str:
        return (
            f"sum by (setting) (increase(mcp_reload_refused_total{{{self.app}}}[{REFUSED_WINDOW}]))"
        )

    # ---- shared stores (rate limits, sign-in)

    def storage_errors(self, metric: str) -> str:
        return f"sum({self._rate(metric)})"

    # ---- the public URL (phase 10's Ingress), from Cloud Monitoring's uptime checkers

    @property
    def uptime_failing(self) -> str:
        passed = (
            "monitoring_googleapis_com:uptime_check_check_passed{"
            f'monitored_resource="uptime_url",check_id="{self.uptime_check_id}"}}'
        )
        return f"count({passed} == 0)"

    # ---- the alert conditions that are not SLO burns

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

    @property
    def rule(self) -> str:
        """The alert's name in PromQL rule groups (GMP's alert_rule, promtool's alertname)."""
        return self.key.replace("-", "_")


def burn_alerts(q: Queries) -> list[Alert]:
    return [
        Alert(
            key=f"slo-{objective.key}-{burn.key}-burn",
            name=f"MCP server: {objective.title} SLO, {burn.key} burn",
            query=q.alert_burn(objective, burn),
            duration=burn.duration,
            severity=burn.severity,
            what=(
                f"The SLO is {objective.goal:.1%} of /mcp requests {objective.good} over "
                f"{SLO_DAYS} days. Over both the last {burn.long} and the last {burn.short}, "
                f"more than {burn.factor:g} times the allowed share failed it "
                f"(spending {burn.spends}), with at least {MIN_REQUESTS} /mcp requests "
                f"in {burn.long}. Probes and scrapes do not count."
            ),
        )
        for objective in OBJECTIVES
        for burn in BURN_WINDOWS
    ]


def storage_alert(
    q: Queries, prefix: str, *, name: str, store: str, severity: str, consequence: str
) -> Alert:
    """The pods cannot reach a Redis store: `mcp_{prefix}_storage_errors_total` grows."""
    return Alert(
        key=f"{prefix}-storage-errors",
        name=f"MCP server: {name} unreachable",
        query=f"{q.storage_errors(f'mcp_{prefix}_storage_errors_total')} > 0",
        duration=FOR_STORAGE,
        severity=severity,
        what=(
            f"For {_minutes(FOR_STORAGE)} the pods could not reach the {store} (Redis): "
            f"{consequence}"
        ),
    )


def alerts(q: Queries) -> list[Alert]:
    """Every alert of the stack; the uptime check's only when `q` names one."""
    found = burn_alerts(q)
    found += [
        Alert(
            key="auth-denied-spike",
            name="MCP server: spike of refused tokens",
            query=q.alert_denied_spike,
            duration=FOR_DENIED,
            severity="WARNING",
            what=(
                "Refused tokens for one reason (label `reason`) rose above "
                f"{DENIED_FLOOR_PER_SECOND}/s and to {DENIED_SPIKE_FACTOR} times the "
                "previous hour's rate."
            ),
        ),
        Alert(
            key="no-ready-pods",
            name="MCP server: no ready pods",
            query=q.alert_no_ready_pods,
            duration=FOR_NO_READY,
            severity="CRITICAL",
            what=(
                f"Deployment {q.release} in cluster {q.cluster} has had no available (ready) "
                f"replica for {_minutes(FOR_NO_READY)}: nobody can reach the server."
            ),
        ),
        Alert(
            key="signing-keys-differ",
            name="MCP server: pods serve different signing keys",
            query=f"{q.distinct('mcp_signing_key_info', CURRENT_KEY)} > 1",
            duration=FOR_DISAGREE,
            severity="ERROR",
            what=(
                f"For {_minutes(FOR_DISAGREE)} the pods have not agreed on the current signing "
                "key (label `fingerprint` of mcp_signing_key_info): a token minted with one "
                "key is refused by pods holding another."
            ),
        ),
        Alert(
            key="denylists-differ",
            name="MCP server: pods hold different deny-lists",
            query=f"{q.distinct('mcp_denylist_info')} > 1",
            duration=FOR_DISAGREE,
            severity="ERROR",
            what=(
                f"For {_minutes(FOR_DISAGREE)} the pods have not agreed on the deny-list (label "
                "`fingerprint` of mcp_denylist_info): a revoked token still works on some."
            ),
        ),
        Alert(
            key="reload-refused",
            name="MCP server: a key or deny-list file was refused",
            query=f"{q.refused_reloads} > 0",
            duration="0s",
            severity="ERROR",
            what=(
                "A pod refused a changed signing key or deny-list file (label `setting`) "
                f"in the last {REFUSED_WINDOW} and kept the last good one: the change you "
                "made is not in force."
            ),
        ),
        storage_alert(
            q,
            "limit",
            name="rate-limit store",
            store="shared rate-limit store",
            severity="ERROR",
            consequence="limits fail open, so no client is being limited.",
        ),
        storage_alert(
            q,
            "oauth",
            name="sign-in store",
            store="sign-in store",
            severity="CRITICAL",
            consequence="sign-in answers 503, so no new client can sign in.",
        ),
    ]
    if q.uptime_check_id:
        found.append(
            Alert(
                key="uptime-check-failing",
                name="MCP server: public URL failing its uptime check",
                query=f"{q.uptime_failing} >= {UPTIME_FAILING_REGIONS}",
                duration=FOR_UPTIME,
                severity="CRITICAL",
                what=(
                    f"For {_minutes(FOR_UPTIME)} checkers in at least {UPTIME_FAILING_REGIONS} "
                    f"regions failed to get {UPTIME_PATH} over HTTPS: the public URL is down "
                    "for users, whatever the pods say."
                ),
            )
        )
    return found


def documentation(alert: Alert) -> str:
    return (
        f"## {alert.name}\n\n"
        f"**What it means.** {alert.what}\n\n"
        f"**Runbook.** {RUNBOOK}, section 'Alerts', heading '{alert.name}': the first "
        "three commands and when to escalate.\n\n"
        f"Query: `{alert.query}`"
    )


def recording_rules(q: Queries) -> dict[str, str]:
    """The SLO expressions the dashboard charts, by a Prometheus recording-rule name."""
    found = {f"mcp:slo_budget_left:{o.key}": q.budget_left(o) for o in OBJECTIVES}
    found |= {f"mcp:slo_burn_rate_1h:{o.key}": q.burn_rate(o, "1h") for o in OBJECTIVES}
    return found


def rule_groups(q: Queries) -> dict[str, object]:
    """Everything above as a Prometheus rule file (for promtool; GMP gets the same text)."""
    return {
        "groups": [
            {
                "name": "mcp_server",
                "rules": [
                    {"record": name, "expr": expr} for name, expr in recording_rules(q).items()
                ]
                + [
                    {
                        "alert": alert.rule,
                        "expr": alert.query,
                        "for": alert.duration,
                        "labels": {"severity": alert.severity},
                    }
                    for alert in alerts(q)
                ],
            }
        ]
    }
