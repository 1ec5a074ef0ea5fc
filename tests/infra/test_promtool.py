"""`promtool test rules` on the stack's own alert and SLO expressions.

The rule file is written from infra/mcp_infra/alert_rules.py, the module the
stack builds its alert policies and dashboard from, so what promtool checks is
what Cloud Monitoring runs. The cases (tests/infra/rules/*.yaml) feed series
the way GMP labels them: a low-traffic outage fires, steady traffic stays
quiet, probes and scrapes alone never fire.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.mcp_infra import alert_rules
from tests.helpers import require

CASES = sorted((Path(__file__).parent / "rules").glob("*.yaml"))
QUERIES = alert_rules.Queries(
    "mcp-prototype", "mcp-prototype", "mcp-server", uptime_check_id="mcp-public-url"
)


def promtool() -> str:
    path = shutil.which("promtool")
    require(path is not None, "promtool not installed; run `make promtool` (Debian: prometheus)")
    assert path is not None
    return path


def run_cases(tmp_path: Path, rules: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    for case in CASES:
        shutil.copy(case, tmp_path / case.name)
    return subprocess.run(
        [promtool(), "test", "rules", *(case.name for case in CASES)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_rule_file_passes_promtool_check(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(alert_rules.rule_groups(QUERIES), sort_keys=False))
    checked = subprocess.run(
        [promtool(), "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_alert_cases_pass(tmp_path: Path) -> None:
    result = run_cases(tmp_path, alert_rules.rule_groups(QUERIES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(CASES)


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    fires: set[str] = set()
    quiet: set[str] = set()
    recorded: set[str] = set()
    for case in CASES:
        for test in yaml.safe_load(case.read_text())["tests"]:
            for check in test.get("alert_rule_test", []):
                (fires if check["exp_alerts"] else quiet).add(check["alertname"])
            recorded |= {check["expr"] for check in test.get("promql_expr_test", [])}
    rules = {alert.rule for alert in alert_rules.alerts(QUERIES)}
    assert rules == fires
    assert rules == quiet
    for name in alert_rules.recording_rules(QUERIES):
        assert any(name in expr for expr in recorded), name


@pytest.mark.parametrize(
    ("alert", "broken"),
    [
        # The old 5xx ratio counted every route: probes that fail would page.
        ("slo_availability_fast_burn", lambda expr: expr.replace(',route="/mcp"', "")),
        # Without the traffic guard, one failed call in a silent hour pages.
        ("slo_availability_fast_burn", lambda expr: expr.rsplit(" and ", 1)[0]),
        # Counting the previous key's slot too: pods mid-rotation would page.
        ("signing_keys_differ", lambda expr: expr.replace(',slot="current"', "")),
    ],
)
def test_the_cases_catch_a_broken_rule(tmp_path: Path, alert: str, broken: Any) -> None:
    rules = alert_rules.rule_groups(QUERIES)
    for rule in rules["groups"][0]["rules"]:  # type: ignore[index]
        if rule.get("alert") == alert:
            rule["expr"] = broken(rule["expr"])
    result = run_cases(tmp_path, rules)
    assert result.returncode != 0
    assert alert in result.stdout + result.stderr
