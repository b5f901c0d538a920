"""Workbook loading and validation: ``load_workbook(source) -> WorkbookResult``.

See docs/workbook.md for the contract as operators see it, and every problem code.
"""

from irpd.excel.loader import ABSENT, ERROR, VALID, WorkbookResult, load_workbook
from irpd.excel.problems import MEANINGS, Code, Problem
from irpd.excel.reader import ReadLimits

__all__ = [
    "ABSENT",
    "ERROR",
    "MEANINGS",
    "VALID",
    "Code",
    "Problem",
    "ReadLimits",
    "WorkbookResult",
    "load_workbook",
]
