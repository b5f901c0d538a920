"""monitoring/irpd-alerts.yml: promtool checks and unit-tests the rules (the Debian package
``prometheus``, installed by scripts/bootstrap.sh); the structure, the alerts the operations
guide promises and the metric names are checked here in any case."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "monitoring" / "irpd-alerts.yml"
RULE_TESTS = ROOT / "monitoring" / "irpd-alerts.test.yml"
DOC = ROOT / "docs" / "monitoring.md"
PROMISED = {
    "IrpdDown",
    "IrpdEventLoopStalled",
    "IrpdDatabaseUnavailable",
    "IrpdMoodysAuthenticationFailing",
    "IrpdMoodysUnreachable",
    "IrpdBatchFailed",
    "IrpdJobsLost",
    "IrpdJobsStuck",
    "IrpdNotificationOutboxNotDraining",
}
METRIC = re.compile(r"\b((?:irpd|process)_[a-z0-9_]+)\b")


def _rules() -> list[dict[str, Any]]:
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in data["groups"] for rule in group["rules"]]


def _documented_metrics() -> set[str]:
    names = set(re.findall(r"^\| `([a-z0-9_]+)`", DOC.read_text(encoding="utf-8"), re.M))
    exposed = set(names)
    for name in names:  # counters and histograms are exposed with their suffixes
        exposed |= {f"{name}_count", f"{name}_sum", f"{name}_bucket"}
    return exposed


def test_every_rule_is_complete_and_every_promised_alert_exists() -> None:
    rules = _rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    assert set(names) >= PROMISED
    for rule in rules:
        assert rule["labels"]["severity"] in ("page", "ticket"), rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert rule["annotations"]["description"], rule["alert"]
        assert isinstance(rule["expr"], str), rule["alert"]


def test_rules_use_only_metrics_irpd_exposes() -> None:
    documented = _documented_metrics()
    for rule in _rules():
        used = set(METRIC.findall(rule["expr"]))
        assert used <= documented, f"{rule['alert']}: {sorted(used - documented)} not documented"


def test_every_alert_is_covered_by_a_promtool_unit_test() -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))
    tested = {
        case["alertname"] for test in tests["tests"] for case in test.get("alert_rule_test", [])
    }
    assert tested >= PROMISED


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_checks_and_tests_the_rules() -> None:
    checked = subprocess.run(
        ["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(
        ["promtool", "test", "rules", RULE_TESTS.name],
        cwd=RULE_TESTS.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_grafana_dashboard_uses_only_documented_metrics() -> None:
    dashboard = json.loads((ROOT / "monitoring" / "grafana-dashboard.json").read_text())
    documented = _documented_metrics()
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert exprs
    for expr in exprs:
        used = set(METRIC.findall(expr))
        assert used <= documented, f"{expr}: {sorted(used - documented)} not documented"
