"""Every status the SQL and the code can write is a row of the machines' tables.

* SQL: each ``status = …`` of a SET list (anywhere in it) in ``sql/queries/*.sql`` on a job,
  batch or configuration is read. A literal target (and the literal expected statuses of its
  ``WHERE``) would be a transition named outside ``statemachines/``: its pairs are collected
  and must be table rows; today there are none, every write takes its statuses from
  parameters. The statements that write a job's status are exactly the move statements of
  :mod:`irpd.db.moves`.
* Code: every move the code builds (``.move``, ``.fire_move``, ``report_move``, ``job_move``
  with a literal trigger, and a literal or enum expected status where one is given) is
  collected from the source and checked against the tables; nothing outside
  ``statemachines/`` constructs a ``Move`` itself, and the engine and the store name no
  status as a string.

Changing a table row therefore changes what the daemon does, and a write the tables do not
allow fails here.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from irpd.db import moves as store_moves
from sql import load_queries
from statemachines.batch import BATCH_LIFECYCLE, BatchStatus
from statemachines.configuration import CONFIGURATION_LIFECYCLE, ConfigurationStatus
from statemachines.job import JOB_LIFECYCLE, JOB_REPORT_LIFECYCLE, REPORT_TRIGGERS, JobStatus
from statemachines.lifecycle import Lifecycle
from statemachines.plan import PLAN_LIFECYCLE, PlanStatus

ROOT = Path(__file__).resolve().parents[2]

#: table → the lifecycles whose rows it may write
WRITABLE: dict[str, tuple[Lifecycle[Any], ...]] = {
    "irp_job": (JOB_LIFECYCLE, JOB_REPORT_LIFECYCLE),
    "irp_batch": (BATCH_LIFECYCLE,),
    "irp_configuration": (CONFIGURATION_LIFECYCLE,),
    "irp_cycle_plan": (PLAN_LIFECYCLE,),
}
ENUMS = {
    "JobStatus": JobStatus,
    "BatchStatus": BatchStatus,
    "ConfigurationStatus": ConfigurationStatus,
    "PlanStatus": PlanStatus,
}
LIFECYCLE_NAMES: dict[str, Lifecycle[Any]] = {
    "JOB_LIFECYCLE": JOB_LIFECYCLE,
    "JOB_REPORT_LIFECYCLE": JOB_REPORT_LIFECYCLE,
    "BATCH_LIFECYCLE": BATCH_LIFECYCLE,
    "CONFIGURATION_LIFECYCLE": CONFIGURATION_LIFECYCLE,
    "PLAN_LIFECYCLE": PLAN_LIFECYCLE,
    # the ops layer's wrappers fire these machines
    "job_move": JOB_LIFECYCLE,
    "batch_move": BATCH_LIFECYCLE,
    "configuration_move": CONFIGURATION_LIFECYCLE,
}


def _pairs(table: str) -> set[tuple[str, str]]:
    return {(str(src), str(dst)) for lifecycle in WRITABLE[table] for src, dst in lifecycle.pairs}


# --- SQL ---------------------------------------------------------------------------------


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


#: the table a SET belongs to: ``UPDATE t`` or ``INSERT INTO t … ON CONFLICT DO UPDATE SET``
_UPDATE = re.compile(r"\b(?:UPDATE|INSERT\s+INTO)\s+(?!SET\b)(\w+)", re.IGNORECASE)
#: a SET list (up to its WHERE, RETURNING, FROM or the end) and a status among its assignments
_SET_CLAUSE = re.compile(
    r"\bSET\b(.*?)(?=\bWHERE\b|\bRETURNING\b|\bFROM\b|;|\Z)", re.IGNORECASE | re.DOTALL
)
_STATUS_ASSIGNMENT = re.compile(r"(?:\A|,)\s*(?:\w+\.)?status\s*=\s*([^,\n]+)", re.IGNORECASE)
_LITERAL = re.compile(r"'(\w+)'")


def status_writes() -> Iterator[tuple[str, str, str, set[str]]]:
    """``(query, table, target expression, literal expected statuses)`` of every status write."""
    for name, text in load_queries().items():
        sql = _strip_comments(text)
        for clause in _SET_CLAUSE.finditer(sql):
            for match in _STATUS_ASSIGNMENT.finditer(clause.group(1)):  # anywhere in the list
                updates = list(_UPDATE.finditer(sql, 0, clause.start()))
                assert updates, f"{name}: SET status outside an UPDATE or INSERT"
                table = updates[-1].group(1)
                end = clause.start(1) + match.end()
                where = sql[end : end + 600].split("RETURNING")[0]
                expected = set()
                for found in re.finditer(r"\bstatus\s*(?:=|IN)\s*(\([^)]*\)|'\w+')", where):
                    expected |= set(_LITERAL.findall(found.group(1)))
                yield name, table, match.group(1).strip(), expected


def test_every_literal_status_write_in_the_sql_is_a_table_row() -> None:
    literal_pairs: set[tuple[str, str, str]] = set()
    for name, table, target, expected in status_writes():
        if table not in WRITABLE:
            continue  # cycles, plan steps, notifications: not job/batch/configuration lifecycles
        assert not target.upper().startswith("CASE"), f"{name}: a status chosen in SQL"
        targets = set(_LITERAL.findall(target))
        if targets:
            assert expected, f"{name}: writes {targets} without a compare-and-set on a literal"
            literal_pairs |= {(name, src, dst) for src in expected for dst in targets}
    illegal = {(n, s, d) for n, s, d in literal_pairs if (s, d) not in _pairs(_table_of(n))}
    assert illegal == set()
    # today every write takes its statuses from parameters (the moves)
    assert literal_pairs == set()


def _table_of(query: str) -> str:
    return next(table for name, table, _, _ in status_writes() if name == query)


def _move_statements() -> set[str]:
    uuid_ = __import__("uuid")
    made = [
        store_moves.submit_intents([uuid_.uuid4()], ["n"]),
        store_moves.acknowledgements(["1"], [{}], [{}], [1.0]),
        store_moves.settlements([None], [{}], [{}], [True]),
        store_moves.reports([None], [None], [None]),
        store_moves.cancels_sent([1.0]),
        store_moves.lost(["gone"], 1.0),
        store_moves.operator(None),
        store_moves.preflight_refusals(["missing"]),
    ]
    return {effects.statement for effects in made}


def test_job_statuses_are_written_only_by_the_move_statements() -> None:
    writers = {name for name, table, _, _ in status_writes() if table == "irp_job"}
    assert writers == _move_statements()
    for name in writers:
        sql = _strip_comments(load_queries()[name])
        assert re.search(r"SET\s+status\s*=\s*i\.target", sql), name
        assert re.search(r"j?\.?status\s*=\s*i\.expected", sql), name
        assert "irp_job_tracking_log" in sql, f"{name}: a move without its audit row"


def _unnest_arguments(sql: str) -> str:
    """The argument list of the statement's first ``unnest(…)`` (nested calls included)."""
    start = sql.index("unnest(") + len("unnest(")
    depth = 1
    for end in range(start, len(sql)):
        depth += {"(": 1, ")": -1}.get(sql[end], 0)
        if depth == 0:
            return sql[start:end]
    raise AssertionError("unbalanced unnest")


def test_move_columns_are_read_by_one_multi_argument_unnest() -> None:
    """``irpd.db.moves.nullable`` sends a column of NULLs as one NULL array: safe only where
    the statement reads it with the ids in one ``unnest``, which pads a NULL array. The
    expected and target statuses come as one comma-joined text each (``moves.joined``),
    split there."""
    queries = load_queries()
    nullable: dict[str, tuple[str, ...]] = {name: ("$4",) for name in _move_statements()}
    nullable["engine_apply_reports"] = ("$4", "$6", "$7", "$8")
    for name, params in nullable.items():
        args = _unnest_arguments(_strip_comments(queries[name]))
        for param in ("$1", *params):
            assert re.search(re.escape(param) + r"::\w+\[\]", args), f"{name}: {param}"
        for joined in ("$2", "$3"):
            assert f"string_to_array({joined}::text, ',')" in args, f"{name}: {joined}"
    polls = _unnest_arguments(_strip_comments(queries["engine_record_polls"]))
    assert "string_to_array($2::text, ',')" in polls
    assert "," not in "".join(str(status) for status in JobStatus)


# --- code --------------------------------------------------------------------------------


def _sources() -> Iterator[tuple[Path, ast.AST]]:
    for path in sorted((ROOT / "irpd").rglob("*.py")):
        yield path, ast.parse(path.read_text(), str(path))


def _status_of(node: ast.expr) -> str | None:
    """A literal status, or ``JobStatus.X`` style enum member; ``None`` when computed."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in ENUMS
    ):
        return str(ENUMS[node.value.id][node.attr])
    return None


def _lifecycle_of(call: ast.Call) -> Lifecycle[Any] | None:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in ("move", "fire_move", "fire", "next"):
        owner = func.value
        if isinstance(owner, ast.Name):
            return LIFECYCLE_NAMES.get(owner.id)
    if isinstance(func, ast.Name):
        return LIFECYCLE_NAMES.get(func.id)
    return None


def code_moves() -> list[tuple[str, Lifecycle[Any], str | None, str]]:
    """``(where, lifecycle, expected or None, trigger)`` of every move the code builds with a
    literal trigger, and the report moves (their triggers are ``REPORT_TRIGGERS``)."""
    found: list[tuple[str, Lifecycle[Any], str | None, str]] = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if isinstance(node.func, ast.Name) and node.func.id == "report_move":
                found += [(where, JOB_REPORT_LIFECYCLE, None, t) for t in REPORT_TRIGGERS.values()]
                continue
            # a trigger chosen first and passed on: ``Outcome(..., trigger="refuse")`` (the
            # dispatcher), ``self._transition(job_id, "force_ok", ...)`` (operator commands)
            found += [
                (where, JOB_LIFECYCLE, None, str(keyword.value.value))
                for keyword in node.keywords
                if keyword.arg == "trigger" and isinstance(keyword.value, ast.Constant)
            ]
            if (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "_transition"
                and isinstance(node.args[1], ast.Constant)
            ):
                found.append((where, JOB_LIFECYCLE, None, str(node.args[1].value)))
            # plans: ``plan_move("pause")``, and ``self._set_status(cycle, "pause")`` passing it on
            if (
                isinstance(node.func, ast.Name)
                and node.func.id == "plan_move"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.append((where, PLAN_LIFECYCLE, None, str(node.args[0].value)))
            if (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "_set_status"
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
            ):
                found.append((where, PLAN_LIFECYCLE, None, str(node.args[1].value)))
            lifecycle = _lifecycle_of(node)
            if lifecycle is None or len(node.args) < 3:
                continue
            trigger = node.args[2]
            if isinstance(trigger, ast.Constant) and isinstance(trigger.value, str):
                found.append((where, lifecycle, _status_of(node.args[1]), trigger.value))
    return found


def test_the_code_builds_moves_and_they_are_table_rows() -> None:
    moves = code_moves()
    triggers = {trigger for _, _, _, trigger in moves}
    # the dispatcher, canceller, lost-workflow check and operator commands all build moves
    assert {
        "begin_submit",
        "complete_synchronously",
        "refuse",
        "cancel_sent",
        "declare_lost",
        "request_cancel",
        "force_ok",
        "report_running",
        "submit",
        "reactivate",
        "refuse_preflight",
        "withdraw",
        # the plan runner and the plan commands
        "pause",
        "resume",
        "complete",
        "extend",
    } <= triggers
    for where, lifecycle, expected, trigger in moves:
        assert trigger in lifecycle.allowed_from, f"{where}: {trigger} is not a trigger"
        if expected is not None:
            assert (expected, trigger) in lifecycle.lookup, f"{where}: {trigger} from {expected}"
    pairs = {
        (str(src), str(lifecycle.lookup[(src, trigger)]))
        for _, lifecycle, expected, trigger in moves
        for src in lifecycle.allowed_from[trigger]
        if expected is None or str(src) == expected
    }
    assert pairs <= set().union(*(_pairs(table) for table in WRITABLE))


def test_only_the_machines_construct_moves() -> None:
    built = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path, tree in _sources()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "Move")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "Move")
        )
    ]
    assert built == []


STATUS_NAMES = {s.value for enum in ENUMS.values() for s in enum}


@pytest.mark.parametrize("package", ["irpd/engine", "irpd/db", "irpd/plans"])
def test_the_engine_and_the_store_spell_no_status(package: str) -> None:
    spelled = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        spelled += [
            f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and node.value in STATUS_NAMES
            and id(node) not in docstrings
        ]
    assert spelled == []
