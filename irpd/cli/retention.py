"""``irpd cycle export|purge|import|retire``: the history's lifecycle (docs/retention.md);
``retire`` also purges the notification outbox's old rows.

These run in their own process with their own database connections (never in the daemon's
event loop), and purge a bounded chunk of rows per transaction.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from irpd.cli.common import bounded_int, non_negative
from irpd.ops import retention


def add_parser(sub: Any) -> None:
    """The ``cycle`` command group of ``irpd``."""
    cycle = sub.add_parser(
        "cycle",
        help="export, purge or import archived cycles (retention; see docs/retention.md)",
        description="Retention of archived cycles. Run beside the daemon: these open their own "
        "database connections and purge in bounded transactions.",
    )
    actions = cycle.add_subparsers(dest="cycle_command", required=True, metavar="ACTION")
    export = actions.add_parser(
        "export", help="write an ARCHIVED cycle to DIR/<name>" + retention.SUFFIX
    )
    export.add_argument("name", help="cycle name (an ARCHIVED cycle)")
    export.add_argument("--out", type=Path, required=True, help="directory of the export file")
    purge = actions.add_parser("purge", help="delete an ARCHIVED cycle (after checking its export)")
    purge.add_argument("name", help="cycle name (an ARCHIVED cycle)")
    proof = purge.add_mutually_exclusive_group(required=True)
    proof.add_argument("--export", type=Path, help="its export: must match the database")
    proof.add_argument("--without-export", action="store_true", help="purge with no export")
    imported = actions.add_parser("import", help="restore an exported (purged) cycle")
    imported.add_argument("file", type=Path, help="the export file ('irpd cycle export')")
    retire = actions.add_parser(
        "retire",
        help="export then purge every cycle archived more than DAYS days ago, and purge the "
        "notification outbox's rows older than DAYS days",
    )
    retire.add_argument(
        "--older-than",
        type=non_negative,
        required=True,
        metavar="DAYS",
        help="retire the cycles archived more than DAYS days ago",
    )
    retire.add_argument("--out", type=Path, required=True, help="directory of the export files")
    for action in (export, purge, imported, retire):
        action.add_argument("--config", help="path to irpd.toml")
    for action in (purge, retire):
        action.add_argument(
            "--chunk",
            type=bounded_int(1, 100_000),
            default=retention.DEFAULT_CHUNK,
            help="jobs per transaction, 1 to 100,000",
        )
        action.add_argument(
            "--pause",
            type=non_negative,
            default=retention.DEFAULT_PAUSE,
            help="seconds between transactions",
        )


async def run(args: argparse.Namespace, config: Any) -> int:
    """Run one ``irpd cycle`` action; print what it did as JSON lines."""
    from irpd.db.bootstrap import open_database

    opened = await open_database(config.database, config.state.dir)
    db = opened.db
    try:
        action = args.cycle_command
        if action == "export":
            _print(await retention.export_cycle(db, args.name, args.out))
        elif action == "purge":
            export = None if args.without_export else args.export
            _print(
                await retention.purge_cycle(
                    db, args.name, export=export, chunk=args.chunk, pause=args.pause
                )
            )
        elif action == "import":
            _print(await retention.import_cycle(db, args.file))
        else:
            cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=args.older_than)
            for name in await retention.archived_before(db, cutoff):
                exported = await retention.export_cycle(db, name, args.out)
                _print(exported)
                _print(
                    await retention.purge_cycle(
                        db,
                        name,
                        export=Path(str(exported.path)),
                        chunk=args.chunk,
                        pause=args.pause,
                    )
                )
            _print(
                await retention.purge_notifications(
                    db, cutoff, chunk=args.chunk, pause=args.pause
                )
            )
    finally:
        await opened.close()
    return 0


def _print(outcome: retention.Outcome) -> None:
    print(json.dumps(outcome.as_dict()), flush=True)
