"""Helpers of the operations tests: workbooks, a daemon stand-in, audit rows, fingerprints."""

from __future__ import annotations

import io
import uuid
from typing import Any

import asyncpg
import openpyxl

from irpd.db.database import Database
from irpd.ops import Operations

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
    result = await ops.load_configuration(
        cycle_name, jobs_workbook(count), file_name=f"jobs-{count}.xlsx"
    )
    config_id: int = result["configuration_id"]
    return config_id


async def job_ids(ops: Operations, batch_id: int) -> list[int]:
    """The batch's job ids, in order."""
    return [job["id"] for job in await ops.get_batch_jobs(batch_id)]


async def audit(ops: Operations, job_id: int) -> list[dict[str, Any]]:
    """The job's tracking-log rows, oldest first."""
    history = await ops.job_history(job_id)
    rows: list[dict[str, Any]] = history["tracking_log"]
    return rows


async def fingerprint(db: Database) -> Fingerprint:
    """Row count and content hash of every irp_* table."""
    rows = await db.fetch("report_table_fingerprints")
    return {row["table_name"]: (row["row_count"], row["content_md5"]) for row in rows}


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
        await ops.apply_status_fact(job_id, reported, {"status": reported})
