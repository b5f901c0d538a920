"""The console's read model, actions and notifications on a real PostgreSQL (no HTTP): keyset
pages in every order return each job exactly once, the live counts and index lookups answer
filters and searches, the attention view finds failed, lost and stuck jobs, actions run as the
acting user (tracking_data.actor, irp_web_action_log) and viewers are refused with nothing
changed, and status changes reach a LISTEN connection as batch ids."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from irpd.control.protocol import ProtocolError
from irpd.db.acting import acting
from irpd.db.database import Database
from irpd.db.listen import Listener
from irpd.excel import load_workbook
from irpd.ops import Operations
from irpd.ops.batches import DuplicateBatchError
from irpd.transformers import builtin_registry
from irpd.web.actions import Actions, Forbidden
from irpd.web.auth import Identity
from irpd.web.live import CHANNEL
from irpd.web.reads import SORTS, JobsQuery, Reads
from tests.integration.ops.support import force_status, register_jobs
from tests.processes import wait_until

OPERATOR = Identity("olga", "operator", "session")
VIEWER = Identity("victor", "viewer", "session")


@pytest.fixture
async def console(db: Database) -> tuple[Reads, Actions, int]:
    """Reads and actions over a fresh database with one submitted batch of 25 jobs."""
    web_db = acting(db)
    ops = Operations(web_db, builtin_registry(), load_workbook)
    await ops.cycles.create_cycle("web-2026")
    configuration_id = await register_jobs(ops, "web-2026", 25)
    batch = await ops.batches.create_batch("multi_job", configuration_id)
    await ops.batches.submit_batch(batch["batch_id"])
    return Reads(web_db, ops), Actions(ops, web_db), int(batch["batch_id"])


async def _all_pages(reads: Reads, query: JobsQuery) -> list[int]:
    ids: list[int] = []
    after = None
    while True:
        page = await reads.jobs_page(
            JobsQuery(
                query.batch_id,
                query.status,
                query.skipped,
                query.search,
                query.sort,
                after,
                query.limit,
            )
        )
        ids.extend(int(j["id"]) for j in page["jobs"])
        after = page["next"]
        if after is None:
            return ids


@pytest.mark.parametrize("sort", list(SORTS))
async def test_keyset_pages_return_every_job_once_in_order(
    console: tuple[Reads, Actions, int], db_dsn: str, sort: str
) -> None:
    reads, _actions, batch_id = console
    jobs = [int(j["id"]) for j in (await reads.jobs_page(JobsQuery(batch_id, limit=100)))["jobs"]]
    for job_id in jobs[::4]:
        await force_status(db_dsn, job_id, "RUNNING")
    ids = await _all_pages(reads, JobsQuery(batch_id, sort=sort, limit=7))
    assert sorted(ids) == sorted(jobs)
    assert len(ids) == len(set(ids)) == 25
    if sort == "id":
        assert ids == sorted(ids)
    if sort == "-id":
        assert ids == sorted(ids, reverse=True)
    running = await _all_pages(reads, JobsQuery(batch_id, status="RUNNING", sort=sort, limit=2))
    assert sorted(running) == sorted(jobs[::4])


async def test_filters_and_searches(console: tuple[Reads, Actions, int], db_dsn: str) -> None:
    reads, _actions, batch_id = console
    first = (await reads.jobs_page(JobsQuery(batch_id, limit=1)))["jobs"][0]
    assert (await reads.jobs_page(JobsQuery(batch_id, status="FAILED")))["jobs"] == []
    conn = await asyncpg.connect(db_dsn)
    try:
        await conn.execute(
            "UPDATE irp_job SET moodys_workflow_id = 'WF-77', workflow_name = 'irpd-x-special' "
            "WHERE id = $1",
            first["id"],
        )
    finally:
        await conn.close()
    for search in (str(first["id"]), "WF-77", "special"):
        found = await reads.jobs_page(JobsQuery(batch_id, search=search))
        assert [j["id"] for j in found["jobs"]] == [first["id"]], search
    assert (await reads.jobs_page(JobsQuery(batch_id, search="no-such")))["jobs"] == []


async def test_attention_finds_failed_lost_and_stuck_jobs(
    console: tuple[Reads, Actions, int], db_dsn: str
) -> None:
    reads, _actions, batch_id = console
    ids = [int(j["id"]) for j in (await reads.jobs_page(JobsQuery(batch_id)))["jobs"]]
    await force_status(db_dsn, ids[0], "FAILED")
    await force_status(db_dsn, ids[1], "RUNNING")
    await force_status(db_dsn, ids[2], "RUNNING")
    conn = await asyncpg.connect(db_dsn)
    try:
        await conn.execute("UPDATE irp_job SET moodys_missing_since = now() WHERE id = $1", ids[1])
        await conn.execute(
            "UPDATE irp_job SET last_tracked_ts = now() - interval '2 hours' WHERE id = $1",
            ids[2],
        )
    finally:
        await conn.close()
    attention = await reads.attention()
    reasons = {int(j["id"]): j["reason"] for j in attention["jobs"]}
    assert reasons == {
        ids[0]: "failed",
        ids[1]: "missing at Moody's (lost)",
        ids[2]: "no status answer",
    }


async def test_actions_run_as_the_user_and_viewers_change_nothing(
    console: tuple[Reads, Actions, int], db_dsn: str
) -> None:
    reads, actions, batch_id = console
    job_id = int((await reads.jobs_page(JobsQuery(batch_id)))["jobs"][0]["id"])
    await force_status(db_dsn, job_id, "FAILED")
    with pytest.raises(Forbidden):
        await actions.run(VIEWER, "job.skip", {"job_id": job_id, "reason": "mine now"})
    assert (await reads.ops.jobs.read_job(job_id))["skipped"] is False
    result = await actions.run(OPERATOR, "job.skip", {"job_id": job_id, "reason": "not needed"})
    assert result["job_id"] == job_id
    history = await reads.job(job_id)
    assert history["cycle"]["cycle_name"] == "web-2026"  # the job page's breadcrumb names it
    skip_rows = [t for t in history["tracking_log"] if t["source"] == "operator"]
    assert skip_rows[-1]["tracking_data"]["actor"] == "olga"
    assert [(a["actor"], a["action"], a["outcome"]) for a in history["actions"]] == [
        ("olga", "job.skip", "ok"),
        ("victor", "job.skip", "refused"),
    ]


async def test_a_second_batch_of_a_type_needs_the_reason_the_api_takes(
    console: tuple[Reads, Actions, int],
) -> None:
    """``POST /batches`` takes ``allow_duplicate`` as ``irpctl batch create`` does (it was
    accepted and dropped: a second live batch was refused whatever the reason)."""
    reads, actions, batch_id = console
    configuration_id = (await reads.ops.batches.read_batch(batch_id))["configuration_id"]
    args = {"batch_type": "multi_job", "configuration_id": configuration_id}
    with pytest.raises(DuplicateBatchError):
        await actions.run(OPERATOR, "batch.create", args)
    second = await actions.run(OPERATOR, "batch.create", {**args, "allow_duplicate": "a rerun"})
    assert second["duplicate_reason"] == "a rerun"


async def test_a_dry_run_submission_is_refused_not_carried_out(
    console: tuple[Reads, Actions, int],
) -> None:
    """The console runs no pre-flight (no Moody's client): ``dry_run`` is not an argument of
    its submit (it was accepted and ignored: the batch was submitted for real)."""
    reads, actions, batch_id = console
    configuration_id = (await reads.ops.batches.read_batch(batch_id))["configuration_id"]
    created = await reads.ops.batches.create_batch(
        "multi_job", configuration_id, allow_duplicate="x"
    )
    new_id = created["batch_id"]
    with pytest.raises(ProtocolError, match="dry_run"):
        await actions.run(OPERATOR, "batch.submit", {"batch_id": new_id, "dry_run": True})
    assert (await reads.ops.batches.read_batch(new_id))["status"] == "INITIATED"


async def test_status_changes_are_notified_as_batch_ids(
    console: tuple[Reads, Actions, int], db_dsn: str
) -> None:
    reads, _actions, batch_id = console
    seen: list[str | None] = []
    listener = Listener(db_dsn, CHANNEL, seen.append)
    task = asyncio.create_task(listener.run())
    try:
        await wait_until(lambda: None in seen, 10)  # connected
        job_id = int((await reads.jobs_page(JobsQuery(batch_id)))["jobs"][0]["id"])
        await force_status(db_dsn, job_id, "RUNNING")
        await wait_until(lambda: str(batch_id) in seen, 10)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
