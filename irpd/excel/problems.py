"""Workbook problems: the stable error codes, the frozen ``Problem`` and a capped collector."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class Code(StrEnum):
    """Stable problem codes. Operators alert on them; never rename one, only add."""

    # structure of the file, the sheets and their headers
    EMPTY_FILE = "STRUCT-EMPTY-FILE"
    NOT_XLSX = "STRUCT-NOT-XLSX"
    ENCRYPTED_OR_XLS = "STRUCT-ENCRYPTED-OR-XLS"
    CORRUPT = "STRUCT-CORRUPT"
    FILE_TOO_LARGE = "STRUCT-FILE-TOO-LARGE"
    SHEET_TOO_LARGE = "STRUCT-SHEET-TOO-LARGE"
    MISSING_SHEET = "STRUCT-MISSING-SHEET"
    MISSING_HEADER = "STRUCT-MISSING-HEADER"
    MISSING_COLUMN = "STRUCT-MISSING-COLUMN"
    MISSING_KEY = "STRUCT-MISSING-KEY"
    EMPTY_HEADER = "STRUCT-EMPTY-HEADER"
    DUPLICATE_HEADER = "STRUCT-DUPLICATE-HEADER"
    MERGED = "STRUCT-MERGED"
    TOO_MANY_ITEMS = "STRUCT-TOO-MANY-ITEMS"
    TOO_MANY_PROBLEMS = "STRUCT-TOO-MANY-PROBLEMS"
    # types of cell values
    TYPE_TEXT = "TYPE-TEXT"
    TYPE_INTEGER = "TYPE-INTEGER"
    TYPE_NUMBER = "TYPE-NUMBER"
    TYPE_DATE = "TYPE-DATE"
    TYPE_FORMULA = "TYPE-FORMULA"
    TYPE_CELL_ERROR = "TYPE-CELL-ERROR"
    # required values
    NULL_REQUIRED = "NULL-REQUIRED"
    # references
    REF_UNKNOWN_DATABASE = "REF-UNKNOWN-DATABASE"
    REF_UNKNOWN_PORTFOLIO = "REF-UNKNOWN-PORTFOLIO"
    REF_PORTFOLIO_DATABASE = "REF-PORTFOLIO-DATABASE"
    REF_UNKNOWN_TREATY = "REF-UNKNOWN-TREATY"
    REF_UNKNOWN_IMPORT_FILE = "REF-UNKNOWN-IMPORT-FILE"
    REF_UNKNOWN_GROUP_ITEM = "REF-UNKNOWN-GROUP-ITEM"
    REF_UNKNOWN_ANALYSIS = "REF-UNKNOWN-ANALYSIS"
    REF_UNKNOWN_MODEL_PROFILE = "REF-UNKNOWN-MODEL-PROFILE"
    REF_UNKNOWN_OUTPUT_PROFILE = "REF-UNKNOWN-OUTPUT-PROFILE"
    REF_UNKNOWN_EVENT_RATE = "REF-UNKNOWN-EVENT-RATE"
    # uniqueness
    UNIQUE_DUPLICATE = "UNIQUE-DUPLICATE"
    UNIQUE_METADATA_KEY = "UNIQUE-METADATA-KEY"
    UNIQUE_GROUP_ITEM = "UNIQUE-GROUP-ITEM"
    UNIQUE_NAME_CLASH = "UNIQUE-NAME-CLASH"
    # ranges
    RANGE_NEGATIVE = "RANGE-NEGATIVE"
    RANGE_PERCENT = "RANGE-PERCENT"
    # patterns and enumerations
    FMT_DATABASE_NAME = "FMT-DATABASE-NAME"
    FMT_VERSION = "FMT-VERSION"
    FMT_FLAG = "FMT-FLAG"
    FMT_TREATY_TYPE = "FMT-TREATY-TYPE"
    FMT_CURRENCY = "FMT-CURRENCY"
    # business rules
    BUS_TREATY_DATES = "BUS-TREATY-DATES"
    BUS_NO_BASE_PORTFOLIO = "BUS-NO-BASE-PORTFOLIO"
    BUS_EMPTY_GROUP = "BUS-EMPTY-GROUP"
    BUS_CIRCULAR_GROUP = "BUS-CIRCULAR-GROUP"
    BUS_CYCLE_MISMATCH = "BUS-CYCLE-MISMATCH"


#: one line per code: what it means (the operator documentation repeats it with an example)
MEANINGS: Final = MappingProxyType(
    {
        Code.EMPTY_FILE: "the uploaded file is empty",
        Code.NOT_XLSX: "the file is not an .xlsx workbook (not a zip package with a workbook)",
        Code.ENCRYPTED_OR_XLS: "the file is a legacy .xls or a password-protected workbook",
        Code.CORRUPT: "the .xlsx package is damaged and cannot be read",
        Code.FILE_TOO_LARGE: "the file or its uncompressed content exceeds the configured limit",
        Code.SHEET_TOO_LARGE: "a sheet has data beyond the configured row or column limit",
        Code.MISSING_SHEET: "a required sheet is absent",
        Code.MISSING_HEADER: "a table sheet has no header row (it is empty)",
        Code.MISSING_COLUMN: "a required column is absent from a sheet's header row",
        Code.MISSING_KEY: "a required Metadata key is absent",
        Code.EMPTY_HEADER: "a column holds data but its header cell is empty",
        Code.DUPLICATE_HEADER: "two header cells of one sheet name the same column",
        Code.MERGED: "merged cells in a sheet that is read",
        Code.TOO_MANY_ITEMS: "a Groupings row names more than 50 items",
        Code.TOO_MANY_PROBLEMS: "more problems than the report cap; the rest are counted only",
        Code.TYPE_TEXT: "a text value was expected",
        Code.TYPE_INTEGER: "a whole number was expected",
        Code.TYPE_NUMBER: "a number was expected",
        Code.TYPE_DATE: "a date was expected (an Excel date or ISO text YYYY-MM-DD)",
        Code.TYPE_FORMULA: "a formula cell has no cached value (file saved without calculation)",
        Code.TYPE_CELL_ERROR: "the cell holds an Excel error value such as #N/A or #REF!",
        Code.NULL_REQUIRED: "a required value is empty",
        Code.REF_UNKNOWN_DATABASE: "the database is not listed in Databases",
        Code.REF_UNKNOWN_PORTFOLIO: "the portfolio is not listed in Portfolios",
        Code.REF_PORTFOLIO_DATABASE: "the portfolio belongs to another database",
        Code.REF_UNKNOWN_TREATY: "the treaty is not listed in Reinsurance Treaties",
        Code.REF_UNKNOWN_IMPORT_FILE: "the import file is not any portfolio's Import File",
        Code.REF_UNKNOWN_GROUP_ITEM: "a group item is neither an analysis nor a group",
        Code.REF_UNKNOWN_ANALYSIS: "the name is neither an analysis nor a group",
        Code.REF_UNKNOWN_MODEL_PROFILE: "the analysis profile is not in Moody's Reference Data",
        Code.REF_UNKNOWN_OUTPUT_PROFILE: "the output profile is not in Moody's Reference Data",
        Code.REF_UNKNOWN_EVENT_RATE: "the event rate scheme is not in Moody's Reference Data",
        Code.UNIQUE_DUPLICATE: "a value that must be unique in its column repeats",
        Code.UNIQUE_METADATA_KEY: "a Metadata key appears twice",
        Code.UNIQUE_GROUP_ITEM: "a group names the same item twice",
        Code.UNIQUE_NAME_CLASH: "a group has the same name as an analysis",
        Code.RANGE_NEGATIVE: "an amount or count is negative",
        Code.RANGE_PERCENT: "a percentage is outside 0-100",
        Code.FMT_DATABASE_NAME: "a database name does not match (RM_|RMS_|TEST_)EDM_<6 digits>_…",
        Code.FMT_VERSION: r"a version does not match \d+(\.\d+)?(\.\d+)?",
        Code.FMT_FLAG: "a Y/N flag holds something else",
        Code.FMT_TREATY_TYPE: "a treaty type is neither Working Excess nor Quota Share",
        Code.FMT_CURRENCY: "a currency is not a three-letter ISO code",
        Code.BUS_TREATY_DATES: "a treaty's inception date is not before its expiration date",
        Code.BUS_NO_BASE_PORTFOLIO: "a database has no base portfolio",
        Code.BUS_EMPTY_GROUP: "a group names no items",
        Code.BUS_CIRCULAR_GROUP: "groups contain each other in a cycle",
        Code.BUS_CYCLE_MISMATCH: "the workbook's Cycle Type is not the cycle's type",
    }
)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a workbook, located as precisely as the problem allows.

    ``row`` is the 1-based Excel row; ``column`` is the column's header (for Metadata: the key;
    for a Groupings item column without a header: its column letter).
    """

    sheet: str | None
    row: int | None
    column: str | None
    code: str
    message: str

    def as_dict(self) -> dict[str, str | int | None]:
        """The JSON form, as the control socket and the CLI show it."""
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "code": str(self.code),
            "message": self.message,
        }


@dataclass(slots=True)
class ProblemLog:
    """Collects problems in detection order, keeping at most ``cap`` and counting the rest."""

    cap: int = 1000
    kept: list[Problem] = field(default_factory=list)
    dropped: int = 0
    #: every sheet named by a problem, kept or dropped
    sheets: set[str] = field(default_factory=set)

    def add(
        self,
        code: Code,
        message: str,
        *,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.append(Problem(sheet, row, column, str(code), message))

    def append(self, problem: Problem) -> None:
        if problem.sheet is not None:
            self.sheets.add(problem.sheet)
        if len(self.kept) < self.cap:
            self.kept.append(problem)
        else:
            self.dropped += 1

    def result(self, sheet_order: Sequence[str] = ()) -> list[Problem]:
        """The kept problems grouped by sheet (workbook-level first, then ``sheet_order``)
        and by row, detection order otherwise; plus a summary when some were dropped."""
        rank = {sheet: index for index, sheet in enumerate(sheet_order)}

        def key(problem: Problem) -> tuple[int, int]:
            if problem.sheet is None:
                return (-1, 0)
            return (rank.get(problem.sheet, len(rank)), problem.row or 0)

        kept = sorted(self.kept, key=key)
        if not self.dropped:
            return kept
        summary = Problem(
            None,
            None,
            None,
            str(Code.TOO_MANY_PROBLEMS),
            f"{self.dropped} more problems not listed (report capped at {self.cap})",
        )
        return [*kept, summary]

    def __len__(self) -> int:
        return len(self.kept) + self.dropped
