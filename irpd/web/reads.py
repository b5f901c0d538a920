"""What the console shows: the operations' reads plus a few queries of its own
(``sql/queries/web.sql``): the keyset-paged jobs table, cycle and attention overviews, chart
data. Every read is bounded (pages, ``LIMIT``s), so a 100,000-job batch costs one page.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from irpd.db.database import Database
from irpd.errors import BatchError, JobError
from irpd.ops import listings, validate
from irpd.ops.facade import Operations
from irpd.ops.rows import plain_rows
from statemachines.job import JobStatus

SORTS: Mapping[str, str] = {
    "id": "web_jobs_by_id",
    "-id": "web_jobs_by_id_desc",
    "status": "web_jobs_by_status",
    "-changed": "web_jobs_by_changed",
}
JOB_STATUSES: tuple[str, ...] = tuple(str(s) for s in JobStatus)
MAX_PAGE = 1000
#: a job is "stuck" without a status answer for this long, or submitting for this long
STUCK_UNANSWERED_SECONDS = 900.0
STUCK_SUBMITTING_SECONDS = 600.0
ATTENTION_ROWS = 200


@dataclass(frozen=True, slots=True)
class JobsQuery:
    """One page request of the jobs table (validated)."""

    batch_id: int
    status: str | None = None
    skipped: bool | None = None
    search: str | None = None
    sort: str = "id"
    after: str | None = None
    limit: int = 100

    def validated(self) -> JobsQuery:
        """Raise ``BatchError`` naming the bad value."""
        validate.positive_id("batch_id", self.batch_id, BatchError)
        if self.status is not None and self.status not in JOB_STATUSES:
            raise BatchError(f"Invalid status: {self.status}. Must be one of {list(JOB_STATUSES)}")
        if self.sort not in SORTS:
            raise BatchError(f"Invalid sort: {self.sort}. Must be one of {list(SORTS)}")
        if not 1 <= self.limit <= MAX_PAGE:
            raise BatchError(f"Invalid limit: {self.limit}. Must be between 1 and {MAX_PAGE}")
        if self.search is not None and len(self.search) > 200:
            raise BatchError("Invalid search: longer than 200 characters")
        return self


def encode_cursor(row: Mapping[str, Any], sort: str) -> str:
    """The opaque ``after`` value continuing after ``row``."""
    key = ""
    if sort == "status":
        key = str(row["status"])
    elif sort == "-changed":
        key = str(row["status_changed_ts"])
    raw = f"{row['id']}~{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(after: str, sort: str) -> tuple[int, Any]:
    """``(id, sort value)`` of a cursor; ``BatchError`` when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(after + "=" * (-len(after) % 4)).decode()
        id_text, _, key = text.partition("~")
        job_id = int(id_text)
        value: Any = None
        if sort == "status":
            if key not in JOB_STATUSES:
                raise ValueError(key)
            value = key
        elif sort == "-changed":
            value = dt.datetime.fromisoformat(key)
    except (ValueError, UnicodeDecodeError):
        raise BatchError(f"Invalid after: {after[:40]!r} is not a page cursor") from None
    if not 0 < job_id < 2**63:
        raise BatchError(f"Invalid after: {after[:40]!r} is not a page cursor")
    return job_id, value


class Reads:
    """The console's read model over one database."""

    def __init__(self, db: Database, ops: Operations) -> None:
        self._db = db
        self.ops = ops

    async def cycles(self) -> list[dict[str, Any]]:
        """Every cycle with its batches' progress."""
        return plain_rows(await self._db.fetch("web_cycles"))

    async def cycle(self, cycle_id: int) -> dict[str, Any]:
        """A cycle, its configurations and its batches in cycle order."""
        cycle = await self.ops.cycles.read_cycle(cycle_id)
        configurations = await self.ops.configurations.list_configurations(cycle_id)
        batches = plain_rows(await self._db.fetch("web_cycle_batches", cycle["id"]))
        return {**cycle, "configurations": configurations, "batches": batches}

    async def cycle_timeline(self, cycle_id: int, buckets: int = 24) -> dict[str, Any]:
        """Terminal jobs by completion time and status (for the cycle's chart)."""
        rows = await self._db.fetch("web_cycle_timeline", cycle_id, buckets)
        if not rows:
            return {"buckets": buckets, "start": None, "end": None, "counts": []}
        counts = [
            {"bucket": int(r["bucket"]), "status": r["status"], "n": int(r["n"])} for r in rows
        ]
        return {
            "buckets": buckets,
            "start": rows[0]["lo"].isoformat(),
            "end": rows[0]["hi"].isoformat(),
            "counts": counts,
        }

    async def batch(self, batch_id: int) -> dict[str, Any]:
        """A batch with its report, reconciliation history and recent console actions."""
        batch = await self.ops.batches.read_batch(batch_id)
        report = await self.ops.reports.batch_report(batch_id)
        recon = plain_rows(await self._db.fetch("web_batch_recon_history", batch_id, 20))
        actions = plain_rows(
            await self._db.fetch("web_action_log_for_target", "batch", batch_id, 20)
        )
        cycle_name = report.get("cycle_name")
        return {
            **batch,
            "cycle_name": cycle_name,
            "report": report,
            "recon_history": recon,
            "actions": actions,
        }

    async def run_times(self, batch_id: int, buckets: int = 20) -> dict[str, Any]:
        """Histogram of submission-to-completion seconds of the FINISHED jobs."""
        rows = await self._db.fetch("web_batch_run_times", batch_id, buckets)
        if not rows:
            return {"buckets": buckets, "low": None, "high": None, "counts": []}
        return {
            "buckets": buckets,
            "low": float(rows[0]["lo"]),
            "high": float(rows[0]["hi"]),
            "counts": [{"bucket": int(r["bucket"]), "n": int(r["n"])} for r in rows],
        }

    async def jobs_page(self, query: JobsQuery) -> dict[str, Any]:
        """One page of the jobs table and the cursor of the next (None at the end)."""
        q = query.validated()
        if q.status is not None and not q.after:
            # a status the batch has no job in (e.g. FAILED): the live counts say so at once
            count = await self._db.fetchval(
                "web_batch_status_count", q.batch_id, q.status, q.skipped
            )
            if not count:
                return {"jobs": [], "next": None}
        if q.search is not None and not q.after:
            exact = await self._exact(q)
            if exact:
                return {"jobs": exact, "next": None}
        after_id: int | None = None
        after_value: Any = None
        if q.after:
            after_id, after_value = decode_cursor(q.after, q.sort)
        args: list[Any] = [q.batch_id, q.status, q.skipped, q.search or None, after_id, q.limit + 1]
        if q.sort in ("status", "-changed"):
            args.append(after_value)
        rows = plain_rows(await self._db.fetch(SORTS[q.sort], *args))
        more = len(rows) > q.limit
        rows = rows[: q.limit]
        cursor = encode_cursor(rows[-1], q.sort) if more and rows else None
        return {"jobs": rows, "next": cursor}

    async def _exact(self, q: JobsQuery) -> list[dict[str, Any]]:
        """Jobs whose id or Moody's workflow id is exactly the search (index lookups)."""
        assert q.search is not None
        text = q.search.strip()
        job_id = int(text) if text.isdigit() and 0 < int(text) < 2**63 else None
        rows = plain_rows(await self._db.fetch("web_jobs_exact", q.batch_id, text, job_id))
        return [
            r
            for r in rows
            if (q.status is None or r["status"] == q.status)
            and (q.skipped is None or r["skipped"] == q.skipped)
        ]

    async def job_configurations_page(
        self, batch_id: int, after: str | None, limit: int, skipped: bool | None = None
    ) -> dict[str, Any]:
        """One page of a batch's job configurations (the shared keyset listing)."""
        page = await listings.batch_job_configurations(
            self._db, batch_id, skipped=skipped, limit=limit, after=after
        )
        return page.as_result("job_configurations")

    async def job(self, job_id: int) -> dict[str, Any]:
        """The job's history (``job.show``) plus each overridden lineage entry's diff
        against its parent's configuration and the Moody's messages seen."""
        validate.positive_id("job_id", job_id, JobError)
        history = await self.ops.tracking.job_history(job_id)
        for entry in history["lineage"]:
            entry["override_diff"] = None
            if entry.get("overridden") and entry.get("parent_job_id"):
                own = await self.ops.jobs.get_job_config(int(entry["job_id"]))
                parent = await self.ops.jobs.get_job_config(int(entry["parent_job_id"]))
                entry["override_diff"] = config_diff(
                    parent["job_configuration_data"], own["job_configuration_data"]
                )
        actions = await self._db.fetch("web_action_log_for_target", "job", job_id, 20)
        cycle = await self._db.fetchrow("web_batch_cycle", history["job"]["batch_id"])
        return {
            **history,
            "messages": moodys_messages(history["tracking_log"]),
            "actions": plain_rows(actions),
            "cycle": None if cycle is None else dict(cycle),
        }

    async def attention(self) -> dict[str, Any]:
        """Batches and jobs waiting for an operator, across cycles."""
        batches = plain_rows(await self._db.fetch("web_attention_batches", ATTENTION_ROWS))
        failed = plain_rows(await self._db.fetch("web_attention_jobs", ATTENTION_ROWS))
        stuck = plain_rows(
            await self._db.fetch(
                "web_stuck_jobs", STUCK_UNANSWERED_SECONDS, STUCK_SUBMITTING_SECONDS, ATTENTION_ROWS
            )
        )
        return {"batches": batches, "jobs": failed + stuck}

    async def live(self, batch_ids: Sequence[int]) -> list[dict[str, Any]]:
        """What live pages show of these batches."""
        return plain_rows(await self._db.fetch("web_batches_live", list(batch_ids)))


def config_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The keys an override changed: ``[{key, before, after}]`` (absent: None), sorted."""
    keys = sorted(set(before) | set(after))
    return [
        {"key": k, "before": before.get(k), "after": after.get(k)}
        for k in keys
        if before.get(k) != after.get(k) or (k in before) != (k in after)
    ]


def moodys_messages(tracking_log: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Distinct Moody's messages in the tracking log, oldest first, with when they were seen."""
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for row in tracking_log:
        data = row.get("tracking_data")
        if not isinstance(data, Mapping):
            continue
        response = data.get("response")
        for holder in (data, response if isinstance(response, Mapping) else {}):
            messages = holder.get("messages")
            if not isinstance(messages, list):
                continue
            for message in messages:
                text = message if isinstance(message, str) else str(message)
                if text not in seen:
                    seen.add(text)
                    out.append({"message": text, "tracked_ts": row.get("tracked_ts")})
    return out
