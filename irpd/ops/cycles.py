"""Cycles: create (archiving the previous one), archive, read, list; exactly one ACTIVE."""

from __future__ import annotations

from typing import Final

from irpd.db.conflicts import conflicts_retried
from irpd.db.database import Database, Row, Tx
from irpd.errors import CycleError, StaleStateError
from irpd.ops import validate
from irpd.ops.results import CreatedCycle, Cycle, ListedCycle, shaped, shaped_rows

CYCLE_STATUSES: Final = ("ACTIVE", "ARCHIVED")
MAX_CYCLE_NAME_LENGTH: Final = 255

CycleRef = int | str


def cycle_ref(value: object, error: validate.ErrorType) -> CycleRef:
    """A cycle id (positive int) or a cycle name (non-blank string)."""
    if isinstance(value, str):
        return validate.text("cycle_name", value, error, max_length=MAX_CYCLE_NAME_LENGTH)
    return validate.positive_id("cycle_id", value, error)


async def find_cycle(runner: Database | Tx, ref: CycleRef, error: validate.ErrorType) -> Row:
    """The cycle named or numbered ``ref``; ``error`` when there is none."""
    if isinstance(ref, str):
        row = await runner.fetchrow("cycle_by_name", ref)
        shown = f"'{ref}'"
    else:
        row = await runner.fetchrow("cycle_by_id", ref)
        shown = str(ref)
    if row is None:
        raise error(f"Cycle {shown} not found.")
    return row


class Cycles:
    """Cycle operations."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @conflicts_retried
    async def create_cycle(self, cycle_name: str) -> CreatedCycle:
        """Create the ACTIVE cycle ``cycle_name``; the previous ACTIVE one is archived in the
        same transaction (refused while it has ACTIVE batches)."""
        name = validate.text("cycle_name", cycle_name, CycleError, max_length=MAX_CYCLE_NAME_LENGTH)
        async with self._db.transaction() as tx:
            await tx.execute("cycle_lock_registry")
            if await tx.fetchrow("cycle_by_name", name) is not None:
                raise CycleError(f"Cycle '{name}' already exists.")
            previous = await tx.fetchrow("cycle_active")
            archived = None if previous is None else await self._archive(tx, previous)
            created = await tx.fetchrow("cycle_insert", name)
        assert created is not None
        cycle = shaped(Cycle, created)
        return {**cycle, "archived_cycle": None if archived is None else shaped(Cycle, archived)}

    @conflicts_retried
    async def archive_cycle(self, cycle: CycleRef) -> Cycle:
        """Archive an ACTIVE cycle (refused while it has ACTIVE batches)."""
        ref = cycle_ref(cycle, CycleError)
        async with self._db.transaction() as tx:
            await tx.execute("cycle_lock_registry")
            row = await find_cycle(tx, ref, CycleError)
            if row["status"] != "ACTIVE":
                raise CycleError(f"Cycle '{row['cycle_name']}' is already {row['status']}.")
            archived = await self._archive(tx, row)
        return shaped(Cycle, archived)

    async def read_cycle(self, cycle: CycleRef) -> Cycle:
        """One cycle by id or name."""
        ref = cycle_ref(cycle, CycleError)
        return shaped(Cycle, await find_cycle(self._db, ref, CycleError))

    async def active_cycle(self) -> Cycle | None:
        """The ACTIVE cycle, or ``None`` when there is none yet."""
        row = await self._db.fetchrow("cycle_active")
        return None if row is None else shaped(Cycle, row)

    async def list_cycles(self, status: str | None = None) -> list[ListedCycle]:
        """Every cycle (optionally of one status), oldest first, with its configuration count."""
        wanted = validate.optional_choice("status", status, CYCLE_STATUSES, CycleError)
        return shaped_rows(ListedCycle, await self._db.fetch("cycle_list", wanted))

    @staticmethod
    async def _archive(tx: Tx, cycle: Row) -> Row:
        busy: list[int] = await tx.fetchval("cycle_active_batch_ids", cycle["id"])
        if busy:
            # named, with what unblocks them: an ACTIVE batch may wait for an operator (a
            # cancelled job leaves it ACTIVE: a cancel is no way out there)
            raise CycleError(
                f"Cycle '{cycle['cycle_name']}' has {len(busy)} ACTIVE batch(es) "
                f"({', '.join(map(str, busy))}); let them finish, or resubmit or skip the jobs "
                "they wait for ('irpctl batch show ID' names the next action), before "
                "archiving it."
            )
        archived = await tx.fetchrow("cycle_archive", cycle["id"])
        if archived is None:
            raise StaleStateError(f"Cycle {cycle['id']} changed status while being archived.")
        return archived
