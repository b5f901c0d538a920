"""irpctl's paged listings: one page (``--limit``, ``--after``) or every page (``--all``),
written row by row as pages arrive so that a 100,000-job listing never sits in memory."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from irpd.cli.common import bounded_int
from irpd.cli.render import cell, fit_widths, table, table_lines, width_for

#: the daemon's largest page (irpd.ops.listings.MAX_PAGE_SIZE; the CLI must not import ops)
MAX_PAGE_SIZE = 5000


def cursor(text: str) -> str:
    """An argparse ``type``: a page cursor as the daemon prints it (digits)."""
    if not (text.isascii() and text.isdigit() and 0 < len(text) <= 19):
        raise argparse.ArgumentTypeError(
            f"not a cursor: {text!r} (pass the 'next' value the previous page printed)"
        )
    return text


def add_paging(parser: argparse.ArgumentParser) -> None:
    """``--limit``, ``--after`` and ``--all`` on a listing command."""
    parser.add_argument(
        "--limit",
        type=bounded_int(1, MAX_PAGE_SIZE),
        metavar="N",
        help=f"rows per page, 1 to {MAX_PAGE_SIZE:,} (default: the daemon's, 500)",
    )
    parser.add_argument(
        "--after",
        type=cursor,
        metavar="CURSOR",
        help="start after this cursor: the 'next' printed after the previous page",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        dest="all_pages",
        help="every page, rows written as they arrive (--json: one JSON object per line)",
    )


def pages(session: Any, command: str, key: str, **args: Any) -> Iterator[list[Mapping[str, Any]]]:
    """The rows of every page of a listing, page by page, from ``args['after']`` on."""
    after = args.pop("after", None)
    while True:
        result = session.call(command, **args, after=after)
        rows = result.get(key, []) if isinstance(result, dict) else []
        yield rows
        after = result.get("next") if isinstance(result, dict) else None
        if not after:
            return


def all_rows(session: Any, command: str, key: str, **args: Any) -> list[Mapping[str, Any]]:
    """Every row of a listing (for commands that need them all, e.g. waiting for a batch)."""
    return [row for page in pages(session, command, key, **args) for row in page]


def listing(
    session: Any,
    a: argparse.Namespace,
    command: str,
    key: str,
    columns: Sequence[str],
    shape: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
    **args: Any,
) -> None:
    """Run a paged listing command as irpctl's options ask; ``shape`` turns a row into what a
    person reads (never applied to ``--json``)."""
    args = {**args, "limit": a.limit, "after": a.after}
    shaped = (lambda rows: rows) if shape is None else (lambda rows: [shape(r) for r in rows])
    if not a.all_pages:
        result = session.call(command, **args)
        session.emit(result, lambda r: table(shaped(r.get(key, [])), columns))  # wraps
        cursor = result.get("next") if isinstance(result, dict) else None
        if cursor and not session.json:
            print(f"(more: --after {cursor}, or --all)", file=sys.stderr)
        return
    writer = _JsonLines() if session.json else _StreamedTable(columns)
    for rows in pages(session, command, key, **args):
        writer.write(rows if session.json else shaped(rows))
        sys.stdout.flush()
    writer.close()


class _JsonLines:
    def write(self, rows: Sequence[Mapping[str, Any]]) -> None:
        for row in rows:
            print(json.dumps(row, default=str, separators=(",", ":")))

    def close(self) -> None:
        pass


class _StreamedTable:
    """A table whose column widths are set by the first page; a later, longer cell wraps at
    word boundaries on a terminal (nothing is cut; piped output is never wrapped)."""

    def __init__(self, columns: Sequence[str]) -> None:
        self._columns = columns
        self._sizes: list[int] | None = None
        self._rows = 0

    def write(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        self._rows += len(rows)
        cells = [[cell(row.get(c)) for c in self._columns] for row in rows]
        titles = [c.upper() for c in self._columns]
        if self._sizes is None:
            sizes = [max(len(t), *(len(r[i]) for r in cells)) for i, t in enumerate(titles)]
            width = width_for(sys.stdout)
            self._sizes = sizes if width is None else fit_widths(sizes, titles, width)
            print(table_lines([titles], self._sizes)[0])
        wrap = width_for(sys.stdout) is not None
        for line in table_lines(cells, self._sizes, wrap=wrap):
            print(line)

    def close(self) -> None:
        if self._rows == 0:
            print("(none)")
