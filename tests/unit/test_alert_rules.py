"""monitoring/irpd-alerts.yml: promtool checks and unit-tests the rules (the Debian package
``prometheus``, installed by scripts/bootstrap.sh); the structure, the alerts the operations
guide promises and the metric names are checked here in any case, and docs/monitoring.md's
reference against the metrics the code defines (name, type, labels) and the rules."""

from __future__ import annotations

import ast
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
#: what defines a metric in irpd/ (the first argument is its name) → its type in the reference
DEFINERS = {
    "GaugeMetricFamily": "gauge",
    "_gauge": "gauge",
    "CounterMetricFamily": "counter",
    "_counter": "counter",
    "SummaryMetricFamily": "summary",
    "Histogram": "histogram",
}


def _rules() -> list[dict[str, Any]]:
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in data["groups"] for rule in group["rules"]]


def _documented_metrics() -> set[str]:
    names = set(re.findall(r"^\| `([a-z0-9_]+)`", DOC.read_text(encoding="utf-8"), re.M))
    exposed = set(names)
    for name in names:  # counters and histograms are exposed with their suffixes
        exposed |= {f"{name}_count", f"{name}_sum", f"{name}_bucket"}
    return exposed


def _reference_rows() -> dict[str, list[str]]:
    """Metric (or alert) name → the cells of its row in docs/monitoring.md's tables."""
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `([A-Za-z0-9_*]+)` \|", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in line.split("|")[2:-1]]
    return rows


def _defined_metrics() -> dict[str, tuple[str, list[str]]]:
    """Metric name as exposed (counters with ``_total``) → (type, labels), from irpd/'s source."""
    found: dict[str, tuple[str, list[str]]] = {}
    for path in sorted((ROOT / "irpd").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if called not in DEFINERS or not isinstance(first, ast.Constant):
                continue
            assert isinstance(first.value, str), f"{path}:{node.lineno}: a metric name"
            kind = DEFINERS[called]
            labels = next((k.value for k in node.keywords if k.arg == "labels"), None)
            if labels is None and kind == "histogram" and len(node.args) > 2:
                labels = node.args[2]
            names = ast.literal_eval(labels) if labels is not None else []
            suffix = "_total" if kind == "counter" else ""
            found[f"{first.value}{suffix}"] = (kind, list(names))
    return found


def test_the_reference_lists_every_metric_irpd_defines_and_no_other() -> None:
    defined = _defined_metrics()
    assert {"irpd_jobs", "irpd_submissions_total", "irpd_web_live_pages"} <= set(defined)
    rows = {name: cells for name, cells in _reference_rows().items() if METRIC.match(name)}
    documented = set(rows)
    missing, stale = sorted(set(defined) - documented), sorted(documented - set(defined))
    assert not missing, f"{missing} are not in docs/monitoring.md's reference"
    assert not stale, f"{stale} are in docs/monitoring.md's reference but defined nowhere"
    for name, (kind, labels) in defined.items():
        assert rows[name][0] == kind, f"{name}: a {kind}, documented as {rows[name][0]!r}"
        shown = re.findall(r"`([a-z_]+)`", re.sub(r"\([^)]*\)", "", rows[name][1]))
        assert sorted(shown) == sorted(labels), f"{name}: labels {labels}, documented {shown}"


def test_the_alert_table_matches_the_rules() -> None:
    rules = {rule["alert"]: rule["labels"]["severity"] for rule in _rules()}
    table = {name: cells[0] for name, cells in _reference_rows().items() if name[0].isupper()}
    assert table == rules


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
