"""History's lifecycle: export an archived cycle to a compressed file, purge it in bounded
transactions, import an export back (see ``docs/retention.md`` for the file format).

Run by ``irpd cycle export|purge|import|retire`` in its own process with its own database
connections, so the daemon's event loop never sees the work, and the database sees it in
chunks: each purge transaction deletes at most ``chunk`` jobs (with their tracking rows) of one
batch, then pauses. Only an ARCHIVED cycle with no job the engine still works on is purged;
nothing of the ACTIVE cycle is ever touched.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from irpd.db.database import Database, Row, Tx, UniqueViolation
from irpd.errors import CycleError

FORMAT: Final = "irpd-cycle-export"
VERSION: Final = 1
SUFFIX: Final = ".irpd-cycle.jsonl.gz"
#: the tables of an export, in the order they are written and imported
TABLES: Final = (
    "irp_cycle",
    "irp_configuration",
    "irp_cycle_plan",
    "irp_batch",
    "irp_step_run",
    "irp_job_configuration",
    "irp_job",
    "irp_job_tracking_log",
    "irp_batch_recon_log",
    "irp_batch_audit_log",
)
#: the notification outbox's tables (purged by age by :func:`purge_notifications`)
OUTBOX_TABLES: Final = ("irp_notification_message", "irp_notification")
#: the cycle-level tables of an export, with their export queries (by cycle id)
_PER_CYCLE: Final = (
    ("irp_cycle", "retention_export_cycle"),
    ("irp_configuration", "retention_export_configurations"),
    ("irp_cycle_plan", "retention_export_plan"),
    ("irp_batch", "retention_export_batches"),
    ("irp_step_run", "retention_export_step_runs"),
)
#: rows read per cursor fetch, and rows inserted per import statement
READ_ROWS: Final = 5000
IMPORT_ROWS: Final = 5000
DEFAULT_CHUNK: Final = 1000
DEFAULT_PAUSE: Final = 0.05
_PER_BATCH: Final = (
    ("irp_job_configuration", "retention_export_job_configurations"),
    ("irp_job", "retention_export_jobs"),
    ("irp_job_tracking_log", "retention_export_tracking"),
    ("irp_batch_recon_log", "retention_export_recon"),
    ("irp_batch_audit_log", "retention_export_batch_audit"),
)
#: columns an import leaves NULL at first (a batch and its step run point at each other)
_NULLED: Final = {"irp_batch": ["step_run_id"]}


@dataclass
class Outcome:
    """What an export, purge or import did: rows per table, and the file."""

    cycle: str
    path: str | None = None
    rows: dict[str, int] = field(default_factory=dict)
    transactions: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return {
            "cycle": self.cycle,
            "path": self.path,
            "rows": self.rows,
            "transactions": self.transactions,
        }


def export_path(directory: Path, cycle_name: str) -> Path:
    """``<directory>/<cycle name, made file-safe>.irpd-cycle.jsonl.gz``."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", cycle_name).lstrip(".") or "cycle"
    return directory / f"{safe}{SUFFIX}"


async def _cycle(db: Database, name: str) -> Row:
    row = await db.fetchrow("retention_cycle", name)
    if row is None:
        raise CycleError(f"Cycle '{name}' not found.")
    return row


def _require_purgeable(cycle: Row) -> None:
    if cycle["status"] != "ARCHIVED":
        raise CycleError(
            f"Cycle '{cycle['cycle_name']}' is {cycle['status']}; only ARCHIVED cycles are "
            "exported for retention and purged."
        )
    if cycle["live_jobs"]:
        raise CycleError(
            f"Cycle '{cycle['cycle_name']}' still has {cycle['live_jobs']} job(s) the engine "
            "works on; let them finish (or cancel them) first."
        )


async def archived_before(db: Database, before: dt.datetime) -> list[str]:
    """Names of the cycles archived before ``before``, oldest first."""
    return [row["cycle_name"] for row in await db.fetch("retention_archived_before", before)]


async def cycle_counts(db: Database, cycle_id: int) -> dict[str, int]:
    """Rows per table that belong to the cycle."""
    row = await db.fetchrow("retention_counts", cycle_id)
    assert row is not None
    return {table: int(row[table]) for table in TABLES}


async def export_cycle(db: Database, cycle_name: str, directory: Path) -> Outcome:
    """Write an ARCHIVED cycle to ``export_path(directory, name)`` (atomically: a temporary
    file renamed once complete). Reads run on the read pool through cursors, a few thousand
    rows at a time; compression and writing run in a worker thread."""
    cycle = await _cycle(db, cycle_name)
    _require_purgeable(cycle)
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    target = export_path(directory, cycle["cycle_name"])
    partial = target.with_name(target.name + ".partial")
    outcome = Outcome(cycle["cycle_name"], str(target), dict.fromkeys(TABLES, 0))
    header = {
        "format": FORMAT,
        "version": VERSION,
        "cycle": cycle["cycle_name"],
        "exported_ts": dt.datetime.now(dt.UTC).isoformat(),
        "tables": list(TABLES),
    }
    out = await asyncio.to_thread(gzip.open, partial, "wt", 6, "utf-8")
    try:
        await asyncio.to_thread(out.write, json.dumps(header) + "\n")
        cid = cycle["id"]
        for table, query in _PER_CYCLE:
            await _export_rows(db, out, outcome, table, query, cid)
        for batch in await db.fetch("retention_batches", cid):
            for table, query in _PER_BATCH:
                await _export_rows(db, out, outcome, table, query, batch["id"])
        await asyncio.to_thread(out.write, json.dumps({"end": True, "rows": outcome.rows}) + "\n")
    finally:
        await asyncio.to_thread(out.close)
    expected = await cycle_counts(db, cid)
    if expected != outcome.rows:
        partial.unlink(missing_ok=True)
        raise CycleError(
            f"Cycle '{cycle_name}' changed while it was exported ({outcome.rows} written, "
            f"{expected} now); nothing was kept, try again."
        )
    await asyncio.to_thread(os.replace, partial, target)
    return outcome


async def _export_rows(
    db: Database, out: IO[str], outcome: Outcome, table: str, query: str, key: int
) -> None:
    prefix = '{"table":"' + table + '","row":'
    async for rows in db.read_batches(query, key, size=READ_ROWS):
        text = "".join(prefix + row["row_json"] + "}\n" for row in rows)
        await asyncio.to_thread(out.write, text)
        outcome.rows[table] += len(rows)


def read_export(path: Path) -> tuple[dict[str, Any], Iterator[tuple[str, str]], dict[str, Any]]:
    """An export's header, its records as ``(table, row JSON text)``, and its trailer (read
    once the records are consumed). Raises :class:`CycleError` when the file is not a
    complete export."""
    try:
        stream = gzip.open(path, "rt", encoding="utf-8")  # noqa: SIM115 (closed by records())
    except OSError as exc:
        raise CycleError(f"Cannot read {path}: {exc.strerror or exc}") from None
    try:
        header = json.loads(stream.readline() or "null")
    except (OSError, ValueError) as exc:
        stream.close()
        raise CycleError(f"{path} is not an irpd cycle export: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        stream.close()
        raise CycleError(f"{path} is not an irpd cycle export.")
    if header.get("version") != VERSION:
        stream.close()
        raise CycleError(f"{path}: export version {header.get('version')} is not {VERSION}.")
    trailer: dict[str, Any] = {}

    def records() -> Iterator[tuple[str, str]]:
        with stream:
            for line in stream:
                if line.startswith('{"table":"'):
                    table, _, rest = line[10:].partition('","row":')
                    yield table, rest.rstrip()[:-1]
                else:
                    trailer.update(json.loads(line))
        if not trailer.get("end"):
            raise CycleError(f"{path} is truncated: no end record.")

    return header, records(), trailer


def export_counts(path: Path) -> dict[str, int]:
    """Rows per table in a complete export (checks that it is complete)."""
    _header, records, trailer = read_export(path)
    counted = dict.fromkeys(TABLES, 0)
    for table, _row in records:
        counted[table] = counted.get(table, 0) + 1
    if trailer.get("rows") != counted:
        raise CycleError(f"{path} is damaged: its end record does not match its rows.")
    return counted


def _require_chunk(chunk: int) -> None:
    """A purge's rows per transaction: 1 to 100,000."""
    if not 0 < chunk <= 100_000:
        raise CycleError(f"Invalid chunk: {chunk}. Must be from 1 to 100000.")


async def purge_cycle(
    db: Database,
    cycle_name: str,
    *,
    export: Path | None,
    chunk: int = DEFAULT_CHUNK,
    pause: float = DEFAULT_PAUSE,
) -> Outcome:
    """Delete an ARCHIVED cycle with everything it holds, ``chunk`` jobs per transaction.

    With ``export``, the file must be a complete export of exactly what the database holds
    for the cycle (checked first; nothing is deleted otherwise). ``export=None`` purges
    without that check (the caller decided the history is not needed).
    """
    _require_chunk(chunk)
    cycle = await _cycle(db, cycle_name)
    _require_purgeable(cycle)
    cid = cycle["id"]
    held = await cycle_counts(db, cid)
    if export is not None:
        in_file = await asyncio.to_thread(export_counts, export)
        if in_file != held:
            raise CycleError(
                f"{export} does not hold cycle '{cycle_name}' as the database does "
                f"(file {in_file}, database {held}); nothing was purged."
            )
    outcome = Outcome(cycle["cycle_name"], str(export) if export else None, held)
    async with db.transaction() as tx:
        await tx.execute("retention_purge_plan", cid)
    outcome.transactions += 1
    for batch in await db.fetch("retention_batches", cid):
        bid = batch["id"]
        while True:
            async with db.transaction() as tx:
                done = await tx.fetchrow("retention_purge_jobs", bid, chunk)
            outcome.transactions += 1
            assert done is not None
            if not done["jobs"]:
                break
            await asyncio.sleep(pause)
        async with db.transaction() as tx:
            await tx.execute("retention_unlink_overrides", bid)
        while True:
            async with db.transaction() as tx:
                status = await tx.execute("retention_purge_job_configurations", bid, chunk)
            outcome.transactions += 1
            if status.endswith(" 0"):
                break
            await asyncio.sleep(pause)
        async with db.transaction() as tx:
            await tx.execute("retention_purge_batch", bid)
        outcome.transactions += 2
    async with db.transaction() as tx:
        status = await tx.execute("retention_purge_cycle", cid)
    outcome.transactions += 1
    if status.endswith(" 0"):
        raise CycleError(f"Cycle '{cycle_name}' changed while it was purged.")
    return outcome


async def import_cycle(db: Database, path: Path) -> Outcome:
    """Restore an exported cycle (ids and every column as exported) in one transaction; the
    live counts are rebuilt by the tables' triggers. Refused when any of its rows exists."""
    header, records, _trailer = await asyncio.to_thread(read_export, path)
    outcome = Outcome(str(header.get("cycle")), str(path), dict.fromkeys(TABLES, 0))
    iterator = iter(records)
    batches: list[str] = []
    async with db.transaction() as tx:
        pending: list[str] = []
        current: str | None = None
        while True:
            record = await asyncio.to_thread(next, iterator, None)
            table = record[0] if record else None
            flush = table != current or len(pending) >= IMPORT_ROWS
            # job configurations of one batch go in one statement: an overridden one points
            # at its (newer) override, which must arrive in the same statement
            if flush and pending and not (table == current == "irp_job_configuration"):
                outcome.rows[str(current)] += await _insert(tx, str(current), pending)
                outcome.transactions += 1
                pending = []
            if record is None:
                break
            if table not in TABLES:
                raise CycleError(f"{path}: unknown table {table!r}.")
            current = table
            pending.append(record[1])
            if table == "irp_batch":
                batches.append(record[1])
        if batches:
            await tx.execute("retention_link_step_runs", "[" + ",".join(batches) + "]")
        if _trailer.get("rows") != outcome.rows:
            raise CycleError(f"{path} is damaged: its end record does not match its rows.")
    return outcome


async def _insert(tx: Tx, table: str, rows: list[str]) -> int:
    try:
        inserted = await tx.fetchval(
            "retention_import", table, "[" + ",".join(rows) + "]", _NULLED.get(table, [])
        )
    except UniqueViolation:
        raise CycleError(
            f"Rows of this export already exist ({table}); was the cycle purged? Nothing "
            "was imported."
        ) from None
    return int(inserted)


async def purge_notifications(
    db: Database,
    before: dt.datetime,
    *,
    chunk: int = DEFAULT_CHUNK,
    pause: float = DEFAULT_PAUSE,
) -> Outcome:
    """Delete the notification outbox's old rows, ``chunk`` per transaction: messages done
    (DELIVERED or FAILED) and last changed before ``before``, then the routed notifications
    created before it that no remaining message names. Nothing PENDING or unrouted goes; the
    outbox is history of deliveries, so it is purged, not exported."""
    _require_chunk(chunk)
    outcome = Outcome("notifications", None, dict.fromkeys(OUTBOX_TABLES, 0))
    while True:
        async with db.transaction() as tx:
            status = await tx.execute("retention_purge_messages", before, chunk)
        outcome.transactions += 1
        deleted = int(status.rsplit(" ", 1)[1])
        outcome.rows["irp_notification_message"] += deleted
        if deleted < chunk:
            break
        await asyncio.sleep(pause)
    last = 0
    while True:
        async with db.transaction() as tx:
            done = await tx.fetchrow("retention_purge_notifications", before, last, chunk)
        outcome.transactions += 1
        assert done is not None
        outcome.rows["irp_notification"] += int(done["deleted"])
        if done["last_id"] is None:
            break
        last = int(done["last_id"])
        await asyncio.sleep(pause)
    return outcome
