"""Pure parts of the fake: filter language, quota sweep (against a brute-force reference),
settings parsing, clock, and the fast workflow JSON against the reference renderer."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irpd.moodys.fake import CancelDurations, Faults, ScriptedOutcome, SettingsError, StageDurations
from irpd.moodys.fake.admission import AdmissionQueue
from irpd.moodys.fake.clock import SimClock, iso, parse_iso
from irpd.moodys.fake.filters import FilterSyntaxError, parse_filter
from irpd.moodys.fake.rawjson import materialise
from irpd.moodys.fake.render import View, render_workflow
from irpd.moodys.fake.settings import WORKFLOW_TYPES, FakeSettings
from irpd.moodys.fake.simulation import Simulation
from irpd.moodys.fake.timeline import STATUSES, WorkflowRecord
from irpd.moodys.fake.workflow_json import (
    _job_head,
    _people,
    _workflow,
    workflow_json,
    workflow_list_json,
)

# -- filters ------------------------------------------------------------------------------

ITEM = {"name": "RMS 2023", "perilCode": "WS", "isActive": True, "id": 12}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('name="RMS 2023"', True),
        ("isActive=True AND perilCode='WS'", True),
        ("isactive = false", False),
        ('perilCode IN ("EQ", "WS")', True),
        ('perilCode NOT IN ("EQ", "WS")', False),
        ('name LIKE "rms%"', True),
        ('name NOT LIKE "%2024"', True),
        ("id > 5 AND id <= 12", True),
        ('id < 5 OR name = "RMS 2023"', True),
        ('missing = "x"', False),
        ('name != "RMS 2023"', False),
    ],
)
def test_filter_language(text: str, expected: bool) -> None:
    assert parse_filter(text).test(ITEM) is expected


@pytest.mark.parametrize(
    "text", ["", "name =", 'name IN ("a"', "= 3", "name NOT = 1", 'name = "a" AND', 'name "a"']
)
def test_filter_syntax_errors(text: str) -> None:
    with pytest.raises(FilterSyntaxError):
        parse_filter(text)


def test_filter_helpers() -> None:
    assert parse_filter('name = "x"').equals("NAME") == "x"
    assert parse_filter('name = "x" AND id = 1').equals("name") is None
    assert parse_filter('jobId IN ("1","2") AND status="QUEUED"').values_of("jobId") == ("1", "2")


# -- quota sweep vs reference -----------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    gap: float  # time since the previous submission
    queued: float
    pending: float
    running: float
    cancel_after: float | None  # relative to submission


specs = st.lists(
    st.builds(
        Spec,
        gap=st.sampled_from([0.0, 0.5, 1.0, 2.5, 7.0]),
        queued=st.sampled_from([0.0, 1.0, 3.0]),
        pending=st.sampled_from([0.0, 2.0, 5.0]),
        running=st.sampled_from([1.0, 4.0, 10.0]),
        cancel_after=st.one_of(st.none(), st.sampled_from([0.0, 2.0, 6.0, 13.0, 30.0])),
    ),
    min_size=1,
    max_size=12,
)
CANCEL_TIME = 3.0


def reference(items: list[Spec], quota: int | None) -> list[float | None]:
    """Admission times by brute force: FIFO, never before ready, at most quota active."""
    intervals: list[tuple[float, float]] = []
    admitted: list[float | None] = []
    last = float("-inf")
    submit = 0.0
    for item in items:
        submit += item.gap
        at = max(submit + item.queued, last)
        while quota is not None and sum(a <= at < e for a, e in intervals) >= quota:
            at = min(e for a, e in intervals if a <= at < e)
        cancel = None if item.cancel_after is None else submit + item.cancel_after
        if cancel is not None and cancel < at:
            admitted.append(None)  # cancelled while queued: it held the line until then
            last = max(last, cancel)
            continue
        natural = at + item.pending + item.running
        end = cancel + CANCEL_TIME if cancel is not None and cancel < natural else natural
        intervals.append((at, end))
        admitted.append(at)
        last = at
    return admitted


def lazy(items: list[Spec], quota: int | None) -> list[float | None]:
    """The same scenario driven through AdmissionQueue in time order; also checks that
    what was observable at each event never changes afterwards (no rewritten history)."""
    queue = AdmissionQueue(quota)
    records: list[WorkflowRecord] = []
    events: list[tuple[float, int, int]] = []  # (time, kind 0=submit 1=cancel, index)
    submit = 0.0
    for index, item in enumerate(items):
        submit += item.gap
        events.append((submit, 0, index))
        if item.cancel_after is not None:
            events.append((submit + item.cancel_after, 1, index))
    submits = {}
    observed: dict[float, list[str]] = {}  # after the last event at each instant
    for t, kind, index in sorted(events):
        queue.advance(t)
        item = items[index]
        if kind == 0:
            record = WorkflowRecord(
                id=index + 1,
                name=f"w{index}",
                type="T",
                api=None,
                submit_at=t,
                submit_iso="",
                ready_at=t + item.queued,
                pending_s=item.pending,
                running_s=item.running,
                body_text="",
                summary={},
            )
            records.append(record)
            submits[index] = record
            queue.enqueue(record)
            queue.advance(t)
        else:
            record = submits[index]
            if record.cancellable_at(t):
                record.cancel_requested_s, record.cancelling_s = CANCEL_TIME, 0.0
                record.cancel_at = t
                queue.moved_release(record, t)
        observed[t] = [r.status_at(t) for r in records]
    queue.advance(1e9)
    for t, statuses in observed.items():
        assert [r.status_at(t) for r in records[: len(statuses)]] == statuses
    return [r.admitted_at for r in records]


@settings(max_examples=400, deadline=None)
@given(items=specs, quota=st.one_of(st.none(), st.integers(min_value=1, max_value=3)))
def test_lazy_quota_sweep_matches_brute_force(items: list[Spec], quota: int | None) -> None:
    assert lazy(items, quota) == reference(items, quota)


def test_paused_queue_admits_nothing_until_resumed() -> None:
    queue = AdmissionQueue(0)
    record = WorkflowRecord(
        id=1,
        name="w",
        type="T",
        api=None,
        submit_at=0,
        submit_iso="",
        ready_at=0,
        pending_s=1,
        running_s=1,
        body_text="",
        summary={},
    )
    queue.enqueue(record)
    queue.advance(100)
    assert record.admitted_at is None
    queue.set_quota(None, 150)
    assert record.admitted_at == 150


# -- settings and clock -----------------------------------------------------------------


def test_settings_parsing_names_the_problem() -> None:
    with pytest.raises(SettingsError, match="colour"):
        FakeSettings.from_mapping({"colour": 1})
    with pytest.raises(SettingsError, match=r"durations\.ANALYTICS_JOB\.running"):
        FakeSettings.from_mapping({"durations": {"ANALYTICS_JOB": {"running": [5, 1]}}})
    with pytest.raises(SettingsError, match="add up"):
        Faults(error_rate=0.6, hang_rate=0.6)
    with pytest.raises(SettingsError):
        Faults(latency_rate=1.5)
    with pytest.raises(SettingsError):
        ScriptedOutcome("A", outcome="MAYBE")
    with pytest.raises(SettingsError):
        FakeSettings(quota=-1)
    parsed = FakeSettings.from_mapping({"faults": {"methods": "post", "error_rate": 1}})
    assert parsed.faults[0].methods == ("POST",)


def test_clock_scale_and_advance() -> None:
    now = [100.0]
    clock = SimClock(60.0, start=1_700_000_000.0, monotonic=lambda: now[0])
    now[0] += 2
    assert clock.now() == 1_700_000_120.0
    assert clock.advance(30) == 1_700_000_150.0
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    assert iso(0.5) == "1970-01-01T00:00:00.500Z"
    assert parse_iso("1970-01-01T01:00:00+01:00") == 0.0
    assert parse_iso("1970-01-02") == 86_400.0


# -- fast workflow JSON == reference rendering ------------------------------------------


def test_fast_workflow_json_matches_the_reference_in_every_state() -> None:
    short = StageDurations((1, 3), (2, 4), (10, 30))
    settings = FakeSettings(
        time_scale=0.0,
        seed=5,
        quota=2,
        durations={kind: short for kind in WORKFLOW_TYPES},
        cancel_durations=CancelDurations((5, 5), (5, 5)),
    )
    simulation = Simulation(settings, SimClock(0.0, start=1_735_689_600.0))
    body = json.dumps({"edm": "E", "jobName": "x"})
    records = [
        simulation.submit(
            workflow_type=kind, name=f"{kind}_{i}", body_text=body, summary={"edm": "E"}
        )
        for i in range(3)
        for kind in (
            "ANALYTICS_JOB",
            "GROUPING",
            "EXPORT_RDM",
            "MRI_IMPORT",
            "CREATE_EDM",
            "GEOHAZ",
        )
    ]
    records.append(
        simulation.submit(workflow_type="CREATE_EDM", name="empty", body_text="", summary={})
    )
    labels = ("ANALYTICS_JOB", "GROUPING \u00e9", "EXPORT_RDM")
    records += [
        simulation.submit(
            workflow_type="USER_DEFINED",
            name=f"multi_{count}",
            body_text=body,
            operations=labels[:count],
            op_inputs=tuple(json.dumps({"step": i, "q": '"'}) for i in range(count)),
            summary={"workflowType": "multi"},
        )
        for count in (1, 2, 3)
    ]
    simulation.script(ScriptedOutcome("multi_3", message="operation 2 failed"))
    simulation.script(ScriptedOutcome("GROUPING_1", message='bad "quote" \\ here'))
    simulation.cancel(records[2])
    seen: set[str] = set()
    seen_multi: set[str] = set()
    for step in range(200):
        now = simulation.advance(2)
        if step == 10:
            simulation.cancel(records[1])
            simulation.set_quota(0)
        if step == 20:
            simulation.set_quota(None)
        view = View(
            now=now, base_url="http://h:1", tenant="t\u00e9", user="u", paused=simulation.paused
        )
        general = [_workflow(record, view, _people(view.tenant, view.user)) for record in records]
        page = workflow_list_json(len(records), records, view)
        assert page == (
            f'{{"totalMatchCount":{len(records)},"workflows":[{",".join(general)}]}}'.encode()
        )
        for record, text in zip(records, general, strict=True):
            assert workflow_json(record, view) == text  # the page loop writes the same bytes
            fast = json.loads(text)
            assert fast == materialise(render_workflow(record, view))
            seen.add(fast["status"])
            if record.operations:
                seen_multi.add(fast["status"])
    assert seen == set(STATUSES)
    assert {"QUEUED", "RUNNING", "FINISHED", "FAILED"} <= seen_multi


def test_fast_workflow_json_follows_a_record_it_has_rendered_before() -> None:
    """What workflow_json keeps on a record (its fixed parts, startTime, endTime) is never
    stale: one record rendered before and after each change of its state."""
    settings = FakeSettings(
        time_scale=0.0,
        seed=3,
        quota=0,
        durations={kind: StageDurations((1, 1), (2, 2), (10, 10)) for kind in WORKFLOW_TYPES},
        cancel_durations=CancelDurations((5, 5), (5, 5)),
    )
    simulation = Simulation(settings, SimClock(0.0, start=1_735_689_600.25))
    record = simulation.submit(workflow_type="GEOHAZ", name="g", body_text=" ", summary={})
    later = simulation.submit(workflow_type="GEOHAZ", name="h", body_text="{}", summary={})

    def rendered(paused: bool) -> dict[str, object]:
        view = View(
            now=simulation.now(), base_url="http://h:1", tenant="t", user="u", paused=paused
        )
        fast: dict[str, object] = json.loads(workflow_json(record, view))
        assert fast == materialise(render_workflow(record, view))
        return fast

    statuses = [rendered(True)["status"]]  # QUEUED, paused
    simulation.set_quota(None)
    for seconds in (0.5, 1.0, 2.0, 1.0, 3.0):  # PENDING, RUNNING as time moves
        simulation.advance(seconds)
        statuses.append(rendered(False)["status"])
    assert rendered(False)["progress"] != 0
    assert simulation.cancel(record) is None
    for seconds in (0.0, 5.0, 5.0):  # CANCEL_REQUESTED, CANCELLING, CANCELLED
        simulation.advance(seconds)
        statuses.append(rendered(False)["status"])
    assert statuses == [
        "QUEUED",
        "QUEUED",
        "PENDING",
        "RUNNING",
        "RUNNING",
        "RUNNING",
        "CANCEL_REQUESTED",
        "CANCELLING",
        "CANCELLED",
    ]
    final = rendered(False)
    assert final["endTime"] is not None
    assert final["jobs"][0]["input"] == {}  # type: ignore[index]
    record = later  # the other one ran to its end: FINISHED
    assert rendered(False)["status"] == "FINISHED"


def test_fast_workflow_json_follows_what_it_keeps_through_every_change() -> None:
    """A record rendered once, then again after each change that the text kept on it (its
    fixed parts, startTime) must not hide: pause and resume while QUEUED, a script making
    it fail while RUNNING, time moving on to FAILED; names, inputs and summaries that need
    escaping; the page loop and the general path give the same bytes at every step."""
    settings = FakeSettings(
        time_scale=0.0,
        seed=11,
        quota=0,
        durations={kind: StageDurations((1, 1), (2, 2), (10, 10)) for kind in WORKFLOW_TYPES},
    )
    simulation = Simulation(settings, SimClock(0.0, start=1_735_689_600.999))
    records = [
        simulation.submit(workflow_type="GEOHAZ", name='a "quoted" \\ n\u00e9', body_text="  "),
        simulation.submit(
            workflow_type="MRI_IMPORT",
            name="tab\there",
            body_text='{"x": "\u00e9"}',
            summary={"edm": "E\u00e9"},
        ),
        simulation.submit(workflow_type="USER_DEFINED", name="plain", body_text="{}"),
    ]

    def check(paused: bool) -> set[str]:
        view = View(
            now=simulation.now(), base_url="http://h:1", tenant="t", user="u", paused=paused
        )
        people = _people(view.tenant, view.user)
        page = workflow_list_json(len(records), records, view).decode()
        general = [_workflow(record, view, people) for record in records]
        assert page == f'{{"totalMatchCount":3,"workflows":[{",".join(general)}]}}'
        statuses = set()
        for record, text in zip(records, general, strict=True):
            assert record.job_json == ',"jobs":[' + _job_head(record.id, 0)
            document = json.loads(text)
            assert document == materialise(render_workflow(record, view))
            statuses.add(document["status"])
        return statuses

    assert check(True) == {"QUEUED"}  # paused: the DS-521 warning
    assert check(False) == {"QUEUED"}  # same state, no warning
    simulation.set_quota(None)
    simulation.advance(1.5)
    assert check(False) == {"PENDING"}
    simulation.advance(2.0)
    assert check(False) == {"RUNNING"}
    simulation.advance(5.0)
    assert check(False) == {"RUNNING"}  # progress moved, startTime kept
    simulation.script(ScriptedOutcome("plain", message="late failure"))
    assert check(False) == {"RUNNING"}  # progress now capped by the failure
    simulation.advance(10.0)
    assert check(False) == {"FINISHED", "FAILED"}


def test_submission_order_is_id_order() -> None:
    """``sortby=submitTime`` sorts by id (see routes_workflows._by_id): ids are handed out in
    submission order and simulated time never goes back."""
    clock = SimClock(0.0, start=1_700_000_000.0)
    simulation = Simulation(FakeSettings(time_scale=0.0, seed=1), clock)
    for index in range(50):
        simulation.submit(workflow_type="GEOHAZ", name=f"w{index % 7}", body_text="{}")
        clock.advance(index % 3 * 0.25)
    records = list(simulation.records())
    by_time = sorted(records, key=lambda record: (record.submit_at, record.id))
    assert by_time == sorted(records, key=lambda record: record.id) == records
