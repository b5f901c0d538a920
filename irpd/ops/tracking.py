"""Status facts from Moody's on one job (applied by the tracker's rules), and a job's full
history."""

from __future__ import annotations

from typing import Any, Final, cast

from irpd.db.conflicts import conflicts_retried
from irpd.db.database import Database, Row
from irpd.db.moves import Source, apply_moves
from irpd.db.moves import reports as report_effects
from irpd.errors import JobError, StaleStateError, clip
from irpd.ops import overrides, validate
from irpd.ops.locking import lock_job
from irpd.ops.results import (
    AppliedStatus,
    Job,
    JobConfiguration,
    JobHistory,
    OverrideChanges,
    TrackingEntry,
    shaped,
    shaped_rows,
)
from irpd.ops.rows import plain, plain_rows
from statemachines.job import (
    TERMINAL_JOB_STATUSES,
    JobStatus,
    apply_reported_status,
    report_error,
    report_move,
)

TRACKING_SOURCES: Final = ("moodys", "engine", "operator")
MAX_REPORTED_STATUS_LENGTH: Final = 100
DEFAULT_HISTORY_ROWS: Final = 500
MAX_HISTORY_ROWS: Final = 100_000


class Tracking:
    """``apply_status_fact`` and ``job_history``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @conflicts_retried
    async def apply_status_fact(
        self,
        job_id: int,
        reported_status: str,
        tracking_data: dict[str, Any] | None = None,
        *,
        source: str = "moodys",
        progress: int | None = None,
    ) -> AppliedStatus:
        """Apply one status reported for a job (a poll) by the tracker's rules.

        In one transaction the job is locked and :func:`apply_reported_status` decides on its
        current status. An ``apply`` is the tracker's move (:func:`report_move`), written by
        the tracker's statement: compare-and-set, ``last_error`` from Moody's messages
        (``tracking_data["messages"]``) when it FAILED, ``progress``, ``completed_ts``, and
        ONE tracking-log row whose ``tracking_data`` is ``{"reported_status", "decision",
        "reason", "response": tracking_data}``. Any other decision writes the tracker's poll
        bookkeeping only (``last_tracked_ts``, ``poll_count``, ``progress``) and no log row
        (``tracking_log_id`` and ``tracked_ts`` are then ``None``). Not fenced by shard
        leases: the owning tracker re-reads a job whose compare-and-set it loses.
        """
        jid = validate.positive_id("job_id", job_id, JobError)
        reported = validate.text(
            "reported_status", reported_status, JobError, max_length=MAX_REPORTED_STATUS_LENGTH
        )
        response = validate.optional_json_object("tracking_data", tracking_data, JobError)
        origin = validate.choice("source", source, TRACKING_SOURCES, JobError)
        percent = validate.progress("progress", progress, JobError)
        async with self._db.transaction() as tx:
            job = await lock_job(tx, jid)
            current = JobStatus(job["status"])
            decision = apply_reported_status(current, reported)
            logged = None
            if decision.kind == "apply" and decision.target is not None:
                data = {
                    "reported_status": reported,
                    "decision": decision.kind,
                    "reason": decision.reason,
                    "response": response,
                }
                error = report_error(decision.target, _messages(response))
                effects = report_effects(
                    [percent], [None], [None if error is None else clip(error)]
                )
                move = report_move(jid, current, decision.target, data)
                if not await apply_moves(tx, [move], effects, cast(Source, origin), None):
                    raise StaleStateError(f"Job {jid} changed status while a poll was applied.")
                logged = (await tx.fetch("job_tracking_log", jid, 1))[0]
            else:
                await tx.execute("engine_record_polls", [jid], current, [percent], [None])
            row = await tx.fetchrow("job_read", jid)
            assert row is not None  # locked above
        return {
            "job_id": jid,
            "batch_id": job["batch_id"],
            "reported_status": reported,
            "decision": decision.kind,
            "reason": decision.reason,
            "previous_status": str(current),
            "status": row["status"],
            "changed": logged is not None,
            "terminal": JobStatus(row["status"]) in TERMINAL_JOB_STATUSES,
            "progress": row["progress"],
            "poll_count": row["poll_count"],
            "tracking_log_id": None if logged is None else logged["id"],
            "tracked_ts": None if logged is None else plain(logged["tracked_ts"]),
        }

    async def job_history(
        self, job_id: int, tracking_rows: int = DEFAULT_HISTORY_ROWS
    ) -> JobHistory:
        """The job, its job configuration, its newest ``tracking_rows`` tracking-log rows
        (oldest first) and its resubmission chain both ways (``depth`` < 0: ancestors)."""
        jid = validate.positive_id("job_id", job_id, JobError)
        limit = validate.positive_id("tracking_rows", tracking_rows, JobError)
        limit = min(limit, MAX_HISTORY_ROWS)
        job = await self._db.fetchrow("job_read", jid)
        if job is None:
            raise JobError(f"Job {jid} not found.")
        configuration = await self._db.fetchrow("job_configuration_of_job", jid)
        assert configuration is not None  # FK
        log = await self._db.fetch("job_tracking_log", jid, limit)
        chain = plain_rows(await self._db.fetch("job_lineage", jid))
        return {
            "job": shaped(Job, job),
            "job_configuration": shaped(JobConfiguration, configuration),
            "tracking_log": shaped_rows(TrackingEntry, log),
            "lineage": chain,
            "ancestors": [link["job_id"] for link in chain if link["depth"] < 0],
            "descendants": [link["job_id"] for link in chain if link["depth"] > 0],
            "override": await self._override_changes(configuration),
        }

    async def _override_changes(self, configuration: Row) -> OverrideChanges | None:
        """An overriding job configuration as its changes against its parent, else None."""
        parent_id = configuration["parent_job_configuration_id"]
        if parent_id is None:
            return None
        parent = await self._db.fetchrow("override_parent_data", parent_id)
        parent_data = parent["job_configuration_data"] if parent is not None else {}
        return {
            "parent_job_configuration_id": parent_id,
            "reason": configuration["override_reason_txt"],
            "changes": overrides.changes(parent_data, configuration["job_configuration_data"]),
        }


def _messages(response: dict[str, Any] | None) -> list[str]:
    """Moody's messages carried in a fact's ``tracking_data`` (``job track`` passes them)."""
    messages = (response or {}).get("messages")
    if not isinstance(messages, list):
        return []
    return [str(message) for message in messages]
