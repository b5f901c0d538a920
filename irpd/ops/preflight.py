"""Pre-flight of a batch submission: refuse, before anything is sent, the jobs whose Moody's
references do not exist.

The check itself is a port (:class:`irpd.ops.ports.ReferenceChecker`, implemented against
Moody's by ``irpd.moodys.preflight``); this module reads what a submission would queue and
moves each job with a missing reference INITIATED → ERROR through the job machine's
``refuse_preflight``, with the missing things as ``last_error``. A dry run changes nothing.
"""

from __future__ import annotations

from irpd.db.database import Database
from irpd.db.moves import apply_moves, preflight_refusals
from irpd.errors import BatchError
from irpd.ops import validate
from irpd.ops.machines import job_move
from irpd.ops.ports import ReferenceChecker
from irpd.ops.results import Preflight
from statemachines.job import JobStatus


async def preflight_batch(
    db: Database, checker: ReferenceChecker, batch_id: int, *, dry_run: bool = False
) -> Preflight:
    """Check the jobs a submission of the batch would queue; refuse those missing a reference
    unless ``dry_run``. Returns ``{batch_id, dry_run, checked, missing: [{job_id, missing}],
    refused}``."""
    bid = validate.positive_id("batch_id", batch_id, BatchError)
    if not await db.fetchval("batch_exists", bid):
        raise BatchError(f"Batch {bid} not found.")
    queued = await db.fetch("preflight_jobs", bid)
    missing = await checker.missing([(r["id"], r["job_configuration_data"]) for r in queued])
    refused: list[int] = []
    if not dry_run and missing:
        found = sorted(missing.items())
        moves = [
            job_move(
                job_id,
                JobStatus.INITIATED,
                "refuse_preflight",
                {"action": "preflight", "missing": what},
            )
            for job_id, what in found
        ]
        reasons = ["pre-flight: " + "; ".join(what) for _, what in found]
        moved = await apply_moves(db, moves, preflight_refusals(reasons), "engine")
        refused = sorted(row["id"] for row in moved)
    return {
        "batch_id": bid,
        "dry_run": dry_run,
        "checked": len(queued),
        "missing": [{"job_id": j, "missing": what} for j, what in sorted(missing.items())],
        "refused": refused,
    }
