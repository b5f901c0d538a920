"""Helpers of the operations tests: workbooks, a daemon stand-in, audit rows, fingerprints."""

from __future__ import annotations

import io
import uuid
from typing import Any

import asyncpg
import openpyxl

from irpd.ops import Operations
from irpd.ops.results import Reconciled, TrackingEntry

Fingerprint = dict[str, tuple[int, str]]


def jobs_workbook(count: int, *, prefix: str = "job") -> bytes:
    """A generic workbook whose ``jobs`` sheet has ``count`` rows (feeds ``multi_job``)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "jobs"
    sheet.append(["job_key", "operation", "target"])
    for index in range(1, count + 1):
        sheet.append([f"{prefix}-{index}", "refresh", f"RM_EDM_202503_T{index:05d}"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def register_jobs(ops: Operations, cycle_name: str, count: int) -> int:
    """Register a generic workbook of ``count`` jobs in the cycle; its configuration id."""
    result = await ops.configurations.load_configuration(
        cycle_name, jobs_workbook(count), file_name=f"jobs-{count}.xlsx"
    )
    config_id: int = result["configuration_id"]
    return config_id


async def job_ids(ops: Operations, batch_id: int) -> list[int]:
    """The batch's job ids, in order."""
    return [job["id"] for job in await ops.batches.get_batch_jobs(batch_id)]


def summary_of(outcome: Reconciled) -> dict[str, Any]:
    """The summary of a reconciliation that wrote its recon log row (never put off)."""
    summary = outcome["summary"]
    assert summary is not None
    return summary


async def audit(ops: Operations, job_id: int) -> list[TrackingEntry]:
    """The job's tracking-log rows, oldest first."""
    return (await ops.tracking.job_history(job_id))["tracking_log"]


_TABLES = """
SELECT table_name::text FROM information_schema.tables
 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
   AND table_name LIKE 'irp\\_%' ORDER BY table_name
"""
_CONTENT = """
SELECT count(*), md5(COALESCE(string_agg(x::text, E'\\n' ORDER BY x::text), ''))
  FROM {table} x
"""


async def fingerprint(dsn: str) -> Fingerprint:
    """Row count and content hash of every irp_* table."""
    conn = await asyncpg.connect(dsn)
    try:
        found: Fingerprint = {}
        for (table,) in await conn.fetch(_TABLES):
            quoted = await conn.fetchval("SELECT quote_ident($1)", table)
            row = await conn.fetchrow(_CONTENT.format(table=quoted))
            assert row is not None
            found[table] = (row[0], row[1])
        return found
    finally:
        await conn.close()


class Daemon:
    """Stands in for irpd's dispatcher: moves jobs the way the engine does (compare-and-set
    plus an ``engine`` tracking-log row), with plain SQL on its own connection."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn

    async def _run(self, statement: str, *args: Any) -> str:
        conn = await asyncpg.connect(self._dsn)
        try:
            result: str = await conn.execute(statement, *args)
            return result
        finally:
            await conn.close()

    async def submit(self, job_id: int) -> str:
        """INITIATED → SUBMITTED with a workflow id (returned)."""
        workflow_id = str(1_000_000 + job_id)
        status = await self._run(
            """
            WITH moved AS (
                UPDATE irp_job SET status = 'SUBMITTED', idempotency_key = $2,
                       workflow_name = $3, moodys_workflow_id = $4, submitting_ts = now(),
                       submitted_ts = now(), submission_attempts = submission_attempts + 1,
                       status_changed_ts = now(), updated_ts = now()
                 WHERE id = $1 AND status = 'INITIATED' AND NOT skipped
                RETURNING id, moodys_workflow_id)
            INSERT INTO irp_job_tracking_log (job_id, moodys_workflow_id, job_status,
                                              previous_status, source)
            SELECT id, moodys_workflow_id, 'SUBMITTED', 'INITIATED', 'engine' FROM moved
            """,
            job_id,
            uuid.uuid4(),
            f"irpd-test-{job_id}",
            workflow_id,
        )
        assert status == "INSERT 0 1", f"job {job_id} was not INITIATED"
        return workflow_id

    async def begin_submit(self, job_id: int) -> None:
        """INITIATED → SUBMITTING (intent persisted, no answer from Moody's yet)."""
        status = await self._run(
            """
            UPDATE irp_job SET status = 'SUBMITTING', idempotency_key = $2, workflow_name = $3,
                   submitting_ts = now(), status_changed_ts = now()
             WHERE id = $1 AND status = 'INITIATED'
            """,
            job_id,
            uuid.uuid4(),
            f"irpd-test-{job_id}",
        )
        assert status == "UPDATE 1"

    async def refuse(self, job_id: int) -> None:
        """INITIATED → ERROR (Moody's refused the submission for good)."""
        status = await self._run(
            """
            WITH moved AS (
                UPDATE irp_job SET status = 'ERROR', last_error = 'refused by Moody''s',
                       status_changed_ts = now(), completed_ts = now(), updated_ts = now()
                 WHERE id = $1 AND status = 'INITIATED'
                RETURNING id)
            INSERT INTO irp_job_tracking_log (job_id, job_status, previous_status, source)
            SELECT id, 'ERROR', 'INITIATED', 'engine' FROM moved
            """,
            job_id,
        )
        assert status == "INSERT 0 1"


async def run_to(ops: Operations, daemon: Daemon, job_id: int, *reports: str) -> None:
    """Submit job ``job_id`` (daemon) and apply Moody's ``reports`` in order."""
    await daemon.submit(job_id)
    for reported in reports:
        await ops.tracking.apply_status_fact(job_id, reported, {"status": reported})


async def finish_all(dsn: str, batch_id: int) -> int:
    """Bulk stand-in for a day of polling: every queued job of the batch FINISHED."""
    conn = await asyncpg.connect(dsn)
    try:
        status: str = await conn.execute(
            """
            UPDATE irp_job SET status = 'FINISHED', moodys_workflow_id = (1000000 + id)::text,
                   submitted_ts = now(), completed_ts = now(), status_changed_ts = now()
             WHERE batch_id = $1 AND status = 'INITIATED' AND submit_requested_ts IS NOT NULL
            """,
            batch_id,
        )
        return int(status.rsplit(maxsplit=1)[-1])
    finally:
        await conn.close()


async def force_status(dsn: str, job_id: int, status: str, *, queued: bool = True) -> None:
    """Put a job straight into ``status`` (test arrangement only: no audit row)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            """
            UPDATE irp_job SET status = $2, idempotency_key = gen_random_uuid(),
                   workflow_name = 'irpd-test-' || id,
                   submit_requested_ts = CASE WHEN $3 THEN now() END
             WHERE id = $1
            """,
            job_id,
            status,
            queued,
        )
    finally:
        await conn.close()
