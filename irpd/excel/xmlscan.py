"""What openpyxl's read-only mode does not tell: read straight from the package's XML.

* which part holds which worksheet (``worksheet_parts``);
* per sheet (``scan_sheet``): the extent of the cells that hold something, the merged ranges,
  and the formula cells saved without a cached value. The scan streams the XML and stops at
  the first value beyond the size limits, so a huge sheet costs neither time nor memory.

Elements are matched by local name, so transitional and strict OOXML namespaces both work.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Final
from xml.etree.ElementTree import Element
from zipfile import ZipFile

from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.xml.functions import fromstring, iterparse

_OFFICE_DOCUMENT: Final = "/officeDocument"
_WORKSHEET: Final = "/worksheet"


class PackageError(Exception):
    """The zip package does not hold a spreadsheet workbook."""


@dataclass(frozen=True, slots=True)
class SheetScan:
    """The facts of one worksheet found by streaming its XML."""

    last_row: int
    last_column: int
    merged_ranges: tuple[str, ...]
    uncached_formulas: frozenset[tuple[int, int]]
    #: where the sheet first exceeded the limits (e.g. "row 20001"), or None
    overflow: str | None = None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attribute(element: Element, local_name: str) -> str | None:
    for key, value in element.attrib.items():
        if _local(key) == local_name:
            return value
    return None


def _rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def _relationships(archive: ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, resolved part path) of ``part``."""
    base = posixpath.dirname(part) if part != "" else ""
    try:
        root = fromstring(archive.read(_rels_path(part)))
    except KeyError as exc:
        raise PackageError(f"missing relationships of {part or 'the package'}") from exc
    found: dict[str, tuple[str, str]] = {}
    for rel in root:
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.join(base, target)
        found[rel.get("Id", "")] = (rel.get("Type", ""), posixpath.normpath(path))
    return found


def worksheet_parts(archive: ZipFile) -> dict[str, str]:
    """Sheet name -> zip part of every worksheet (chartsheets and dialogs are left out)."""
    documents = [
        path
        for kind, path in _relationships(archive, "").values()
        if kind.endswith(_OFFICE_DOCUMENT)
    ]
    if not documents:
        raise PackageError("the package has no main document")
    workbook = documents[0]
    relations = _relationships(archive, workbook)
    try:
        root = fromstring(archive.read(workbook))
    except KeyError as exc:
        raise PackageError(f"the package lacks its workbook part {workbook}") from exc
    parts: dict[str, str] = {}
    for element in root.iter():
        if _local(element.tag) != "sheet":
            continue
        kind, path = relations.get(_attribute(element, "id") or "", ("", ""))
        if kind.endswith(_WORKSHEET):
            parts[element.get("name", "")] = path
    return parts


@dataclass(slots=True)
class _ScanState:
    max_rows: int
    max_columns: int
    row: int = 0
    column: int = 0
    last_row: int = 0
    last_column: int = 0
    overflow: str | None = None

    def start_row(self, element: Element) -> None:
        number = element.get("r")
        self.row = int(number) if number else self.row + 1
        self.column = 0

    def cell(self, element: Element) -> tuple[int, int, bool, bool]:
        """Position of a cell element, whether it holds something, whether it is uncached."""
        reference = element.get("r")
        if reference:
            self.row, self.column = coordinate_to_tuple(reference)
        else:
            self.column += 1
        has_formula = has_value = False
        for child in element:
            name = _local(child.tag)
            if name == "f":
                has_formula = True
            elif (name == "v" and child.text) or name == "is":
                has_value = True
        uncached = has_formula and not has_value and element.get("t") != "str"
        return self.row, self.column, has_formula or has_value, uncached

    def note_content(self, row: int, column: int) -> None:
        if row > self.max_rows:
            self.overflow = f"row {row} (the limit is {self.max_rows} rows)"
        elif column > self.max_columns:
            self.overflow = f"column {column} (the limit is {self.max_columns} columns)"
        self.last_row = max(self.last_row, row)
        self.last_column = max(self.last_column, column)


def scan_sheet(archive: ZipFile, part: str, max_rows: int, max_columns: int) -> SheetScan:
    """Stream one worksheet part; stop early at the first value beyond the limits."""
    state = _ScanState(max_rows, max_columns)
    merged: list[str] = []
    uncached: set[tuple[int, int]] = set()
    parent: Element | None = None
    with archive.open(part) as source:
        for event, element in iterparse(source, events=("start", "end")):
            name = _local(element.tag)
            if event == "start":
                if name == "sheetData":
                    parent = element
                elif name == "row":
                    state.start_row(element)
                continue
            if name == "c":
                row, column, has_content, is_uncached = state.cell(element)
                if has_content:
                    state.note_content(row, column)
                if is_uncached:
                    uncached.add((row, column))
                if state.overflow:
                    break
            elif name == "row" and parent is not None:
                parent.remove(element)
            elif name == "mergeCell":
                merged.append(element.get("ref", ""))
    return SheetScan(
        state.last_row, state.last_column, tuple(merged), frozenset(uncached), state.overflow
    )
