"""docs/events.md documents every log event irpd emits, with its level and its fields.

The events are found in the source: a string literal (or f-string prefix) as the first argument
of ``.debug/.info/.warning/.error/.exception/.critical(`` on a logger-like receiver (``log``,
``_log``, ``log_``, ``logger``, ``bound``, ``self._throttled``)."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

import pytest

from irpd.control.server import QUIET_COMMANDS
from statemachines.job import DecisionKind

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "docs" / "events.md"
METHODS = frozenset({"debug", "info", "warning", "error", "exception", "critical"})
RECEIVER = re.compile(r"(?:^|\.)_?(?:log|logger|bound|throttled)_?$")
ROW = re.compile(r"^\|\s*`([a-z0-9_]+(?:\*)?)`\s*\|([^|]*)\|([^|]*)\|")
#: keyword arguments that structlog renders under another name, or never as a field
RENDERED_ELSEWHERE = frozenset({"exc_info"})


@dataclass
class Emitted:
    """Where and how one event name is logged."""

    levels: set[str] = field(default_factory=set)
    fields: set[str] = field(default_factory=set)
    places: list[str] = field(default_factory=list)


def _calls(tree: ast.AST) -> list[tuple[ast.Call, str]]:
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr in METHODS and node.args:
            receiver = ast.unparse(node.func.value)
            if RECEIVER.search(receiver):
                found.append((node, node.func.attr))
    return found


def scan() -> tuple[dict[str, Emitted], dict[str, Emitted]]:
    """(literal event names, f-string prefixes) found under ``irpd/``."""
    literal: dict[str, Emitted] = defaultdict(Emitted)
    prefixed: dict[str, Emitted] = defaultdict(Emitted)
    for path in sorted((ROOT / "irpd").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call, method in _calls(tree):
            first = call.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                target = literal[first.value]
            elif isinstance(first, ast.JoinedStr) and isinstance(first.values[0], ast.Constant):
                target = prefixed[str(first.values[0].value)]
            else:
                continue
            target.levels.add("error" if method == "exception" else method)
            target.fields |= {k.arg for k in call.keywords if k.arg} - RENDERED_ELSEWHERE
            target.places.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    return dict(literal), dict(prefixed)


def documented() -> dict[str, tuple[str, str]]:
    """Event name → (level cell, fields cell) from the catalogue's table rows."""
    rows = {}
    for line in CATALOGUE.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3))
    return rows


LITERAL, PREFIXED = scan()
DOCS = documented()


def test_the_scan_finds_the_well_known_events() -> None:
    assert {"job_transitioned", "batch_reconciled", "moodys_rate_limited"} <= set(LITERAL)
    assert "database_unavailable" in LITERAL
    assert "job_report_" in PREFIXED


@pytest.mark.parametrize("name", sorted(LITERAL))
def test_every_logged_event_is_documented(name: str) -> None:
    where = ", ".join(LITERAL[name].places)
    assert name in DOCS, f"event {name!r} ({where}) is missing from docs/events.md"


@pytest.mark.parametrize("name", sorted(LITERAL))
def test_documented_level_matches_the_code(name: str) -> None:
    if name not in DOCS:
        pytest.skip("not documented (reported by the test above)")
    level_cell = DOCS[name][0]
    for level in LITERAL[name].levels:
        assert level in level_cell, f"{name}: logged at {level}, documented as {level_cell!r}"


@pytest.mark.parametrize("name", sorted(LITERAL))
def test_documented_fields_cover_the_code(name: str) -> None:
    if name not in DOCS:
        pytest.skip("not documented (reported by the test above)")
    fields_cell = DOCS[name][1]
    missing = sorted(f for f in LITERAL[name].fields if f"`{f}`" not in fields_cell)
    assert not missing, f"{name}: fields {missing} are not in docs/events.md"


def test_job_report_events_are_documented_for_every_decision_kind() -> None:
    kinds = set(get_args(DecisionKind)) - {"apply", "unchanged"}
    assert kinds
    for kind in sorted(kinds):
        assert f"job_report_{kind}" in DOCS, f"job_report_{kind} is missing from docs/events.md"


@pytest.mark.parametrize("prefix", sorted(PREFIXED))
def test_every_event_family_is_documented(prefix: str) -> None:
    assert any(name.startswith(prefix) for name in DOCS), f"no {prefix}* event documented"


def test_no_documented_event_is_stale() -> None:
    stale = sorted(
        name
        for name in DOCS
        if name not in LITERAL and not any(name.startswith(p) for p in PREFIXED)
    )
    assert not stale, f"documented but no longer logged: {stale}"


def test_engine_stats_documents_every_key_of_the_snapshot_it_logs() -> None:
    """``engine_stats`` is logged as ``**engine.snapshot()``: the scan above cannot see its
    fields, so they are read from the snapshot's dict literal."""
    tree = ast.parse((ROOT / "irpd" / "engine" / "engine.py").read_text(encoding="utf-8"))
    snapshot = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == "snapshot"
    )
    returned = next(n.value for n in ast.walk(snapshot) if isinstance(n, ast.Return))
    assert isinstance(returned, ast.Dict)
    keys = [
        k.value for k in returned.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)
    ]
    assert "tracked_jobs" in keys
    missing = [k for k in keys if f"`{k}`" not in DOCS["engine_stats"][1]]
    assert not missing, f"engine_stats: fields {missing} are not in docs/events.md"


def test_control_command_names_the_commands_it_leaves_out() -> None:
    meaning = next(
        line
        for line in CATALOGUE.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `control_command` |")
    )
    for command in sorted(QUIET_COMMANDS):
        assert f"`{command}`" in meaning, f"{command} is not logged as control_command: say so"
