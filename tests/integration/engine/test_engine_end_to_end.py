"""The real engine, client and fake server on a real database: exactly-once submission,
tracking to terminal states, reconciliation, crash recovery, cancellation, two workers."""

from __future__ import annotations

import uuid
from dataclasses import replace

from irpd.db.engine_store import EngineStore
from irpd.engine.workflow_names import workflow_name

from .conftest import FAST, Rig
from .moves import begin_submit

ALL_SHARDS = list(range(64))


async def _ledger_workflows(rig: Rig) -> dict[str, int]:
    """workflow name → number of distinct workflows the fake created for it."""
    names: dict[str, set[str]] = {}
    for entry in rig.fake.ledger:
        if entry.name and entry.workflow_id:
            names.setdefault(entry.name, set()).add(entry.workflow_id)
    return {name: len(ids) for name, ids in names.items()}


async def test_a_batch_is_submitted_once_tracked_and_reconciled(rig: Rig) -> None:
    batch_id = await rig.multi_job_batch(40)
    engine = rig.engine()
    supervisor = await rig.start(engine)
    await rig.ops.batches.submit_batch(batch_id)
    engine.work_queued()
    batch = await rig.wait_batch(batch_id, ("COMPLETED", "FAILED"))
    assert batch["status"] == "COMPLETED"
    jobs = await rig.ops.batches.get_batch_jobs(batch_id)
    assert {j["status"] for j in jobs} == {"FINISHED"}
    workflows = await _ledger_workflows(rig)
    assert len(workflows) == 40
    assert set(workflows.values()) == {1}
    assert {j["moodys_workflow_id"] for j in jobs} == {
        e.workflow_id for e in rig.fake.ledger if e.workflow_id
    }
    await rig.stop(engine, supervisor)


async def test_a_large_batch_is_claimed_in_few_rounds_and_acknowledged_in_bulk(rig: Rig) -> None:
    """The dispatcher refills its window when half of it is free (not after every outcome),
    and gathers outcomes briefly before writing them: every claim and every acknowledgement
    write is one statement, so their distinct statement times count them."""
    batch_id = await rig.multi_job_batch(300)
    engine = rig.engine(config=replace(FAST, dispatch_batch_size=100))
    supervisor = await rig.start(engine)
    await rig.ops.batches.submit_batch(batch_id)
    engine.work_queued()
    await rig.wait_batch(batch_id, ("COMPLETED", "FAILED"))
    jobs = [
        await rig.ops.jobs.read_job(j["id"]) for j in await rig.ops.batches.get_batch_jobs(batch_id)
    ]
    claims = {j["submitting_ts"] for j in jobs}
    acknowledgements = {j["submitted_ts"] for j in jobs}
    assert len(jobs) == 300
    assert len(claims) <= 7  # 300 jobs: a window of 100, refilled 50 or more at a time
    assert len(acknowledgements) <= 60  # five or more outcomes per write on average
    assert set((await _ledger_workflows(rig)).values()) == {1}
    await rig.stop(engine, supervisor)


async def test_intents_committed_before_a_crash_are_sent_once(rig: Rig) -> None:
    """Crash between the intent commit and the HTTP call: recovery sends with the same key."""
    batch_id = await rig.multi_job_batch(10)
    await rig.ops.batches.submit_batch(batch_id)
    store = EngineStore(rig.db, "crashed")
    await store.heartbeat("host", 1, "test")
    await store.claim(0.5, 64)  # a lease that lapses at once, like a dead process's
    queued = await store.queued_jobs(ALL_SHARDS, 100)
    keys = {q.id: uuid.uuid4() for q in queued}
    moved = await begin_submit(
        store, [(q.id, keys[q.id], workflow_name(q.id, q.configuration)) for q in queued]
    )
    assert len(moved) == 10
    engine = rig.engine("recovering")
    supervisor = await rig.start(engine)
    await rig.wait_batch(batch_id)
    sent_keys = {e.request_id for e in rig.fake.ledger}
    assert sent_keys == {str(k) for k in keys.values()}
    assert set((await _ledger_workflows(rig)).values()) == {1}
    await rig.stop(engine, supervisor)


async def test_an_answer_lost_before_its_commit_is_replayed_not_resent(rig: Rig) -> None:
    """Crash between Moody's answer and the commit: the replay returns the same workflow."""
    batch_id = await rig.multi_job_batch(5)
    await rig.ops.batches.submit_batch(batch_id)
    store = EngineStore(rig.db, "crashed")
    await store.heartbeat("host", 1, "test")
    await store.claim(0.5, 64)
    queued = await store.queued_jobs(ALL_SHARDS, 100)
    intents = [(q.id, uuid.uuid4(), workflow_name(q.id, q.configuration)) for q in queued]
    await begin_submit(store, intents)
    configs = {q.id: q.configuration for q in queued}
    first: dict[int, str | None] = {}
    for job_id, key, name in intents:  # the HTTP calls happen; the process dies before commit
        result = await rig.client.submit(configs[job_id], workflow_name=name, request_id=key)
        first[job_id] = result.workflow_id
    engine = rig.engine("recovering")
    supervisor = await rig.start(engine)
    await rig.wait_batch(batch_id)
    jobs = {j["id"]: j for j in await rig.ops.batches.get_batch_jobs(batch_id)}
    assert {job_id: jobs[job_id]["moodys_workflow_id"] for job_id in first} == first
    assert set((await _ledger_workflows(rig)).values()) == {1}
    assert sum(e.replay for e in rig.fake.ledger) == 5
    await rig.stop(engine, supervisor)


async def test_cancel_is_sent_and_tracked_to_cancelled(rig: Rig) -> None:
    rig.fake.set_quota(0)  # nothing leaves QUEUED
    batch_id = await rig.multi_job_batch(3)
    engine = rig.engine()
    supervisor = await rig.start(engine)
    await rig.ops.batches.submit_batch(batch_id)
    engine.work_queued()
    jobs = await rig.ops.batches.get_batch_jobs(batch_id)
    for _ in range(100):
        jobs = await rig.ops.batches.get_batch_jobs(batch_id)
        if all(j["moodys_workflow_id"] for j in jobs):
            break
        await rig.wait_batch(batch_id, ("ACTIVE",))
    for job in jobs:
        await rig.ops.jobs.cancel_job(job["id"])
    engine.cancel_requested()
    batch = await rig.wait_batch(batch_id, ("CANCELLED",), timeout=60)
    assert batch["status"] == "CANCELLED"
    assert {j["status"] for j in await rig.ops.batches.get_batch_jobs(batch_id)} == {"CANCELLED"}
    await rig.stop(engine, supervisor)


async def test_two_workers_share_the_shards_and_never_duplicate(rig: Rig) -> None:
    batch_id = await rig.multi_job_batch(120)
    one, two = rig.engine("w1"), rig.engine("w2")
    sup_one = await rig.start(one)
    sup_two = await rig.start(two)
    for _ in range(3):  # let both heartbeat and rebalance
        await one.leases.tick_safely()
        await two.leases.tick_safely()
    assert len(one.leases.usable()) == 32
    assert len(two.leases.usable()) == 32
    assert not one.leases.usable() & two.leases.usable()
    await rig.ops.batches.submit_batch(batch_id)
    one.work_queued()
    two.work_queued()
    await rig.wait_batch(batch_id)
    assert one.dispatcher.submitted > 0
    assert two.dispatcher.submitted > 0
    assert one.dispatcher.submitted + two.dispatcher.submitted == 120
    assert set((await _ledger_workflows(rig)).values()) == {1}
    await rig.stop(one, sup_one)
    await rig.stop(two, sup_two)


async def test_rdm_exports_wait_for_their_seed(rig: Rig) -> None:
    """export_to_rdm: the seed creates the RDM; the other exports are sent only after it."""
    from irpd.samples import sample_path

    cycle = await rig.ops.cycles.create_cycle("exports")
    loaded = await rig.ops.configurations.load_configuration(
        cycle["cycle_name"], sample_path().read_bytes(), file_name="sample_cycle.xlsx"
    )
    batch = await rig.ops.batches.create_batch("export_to_rdm", loaded["configuration_id"])
    batch_id = int(batch["batch_id"] if "batch_id" in batch else batch["id"])
    engine = rig.engine()
    supervisor = await rig.start(engine)
    await rig.ops.batches.submit_batch(batch_id)
    engine.work_queued()
    await rig.wait_batch(batch_id)
    jobs = await rig.ops.batches.get_batch_jobs(batch_id)
    configs = {
        c["id"]: c["job_configuration_data"]
        for c in await rig.ops.batches.get_batch_job_configurations(batch_id)
    }
    seed = [j for j in jobs if configs[j["job_configuration_id"]].get("seed")]
    assert len(seed) == 1
    by_workflow = {e.workflow_id: e for e in rig.fake.ledger if e.workflow_id}
    seed_sent = by_workflow[str(seed[0]["moodys_workflow_id"])].seq
    others = [by_workflow[str(j["moodys_workflow_id"])].seq for j in jobs if j not in seed]
    assert others
    assert min(others) > seed_sent
    history = await rig.ops.tracking.job_history(seed[0]["id"])
    finished = [r["tracked_ts"] for r in history["tracking_log"] if r["job_status"] == "FINISHED"]
    assert len(finished) == 1
    intents = [
        str((await rig.ops.jobs.read_job(j["id"]))["submitting_ts"]) for j in jobs if j not in seed
    ]
    assert min(intents) >= finished[0], "an export was sent before the RDM existed"
    await rig.stop(engine, supervisor)


async def _intents_older_than_the_key(
    rig: Rig, count: int, *, sent: bool
) -> tuple[int, dict[int, str | None]]:
    batch_id = await rig.multi_job_batch(count)
    await rig.ops.batches.submit_batch(batch_id)
    store = EngineStore(rig.db, "crashed")
    await store.heartbeat("host", 1, "test")
    await store.claim(0.5, 64)
    queued = await store.queued_jobs(ALL_SHARDS, 100)
    intents = [(q.id, uuid.uuid4(), workflow_name(q.id, q.configuration)) for q in queued]
    await begin_submit(store, intents)
    first: dict[int, str | None] = {}
    if sent:
        configs = {q.id: q.configuration for q in queued}
        for job_id, key, name in intents:
            result = await rig.client.submit(configs[job_id], workflow_name=name, request_id=key)
            first[job_id] = result.workflow_id
    async with rig.db.transaction() as tx:  # the keys are now older than Moody's remembers
        await tx.execute_script(
            "UPDATE irp_job SET submitting_ts = now() - interval '25 hours' "
            "WHERE status = 'SUBMITTING'"
        )
    return batch_id, first


async def test_after_the_key_expired_a_sent_job_is_found_by_name(rig: Rig) -> None:
    batch_id, first = await _intents_older_than_the_key(rig, 4, sent=True)
    posts_before = len(rig.fake.ledger)
    engine = rig.engine("recovering")
    supervisor = await rig.start(engine)
    await rig.wait_batch(batch_id)
    jobs = {
        j["id"]: j["moodys_workflow_id"] for j in await rig.ops.batches.get_batch_jobs(batch_id)
    }
    assert jobs == first
    assert len(rig.fake.ledger) == posts_before, "nothing may be sent again"
    await rig.stop(engine, supervisor)


async def test_after_the_key_expired_an_unsent_job_is_sent_with_a_new_key(rig: Rig) -> None:
    batch_id, _ = await _intents_older_than_the_key(rig, 3, sent=False)
    engine = rig.engine("recovering")
    supervisor = await rig.start(engine)
    await rig.wait_batch(batch_id)
    assert len(rig.fake.ledger) == 3
    assert set((await _ledger_workflows(rig)).values()) == {1}
    await rig.stop(engine, supervisor)
