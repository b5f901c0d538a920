"""Workbooks the end-to-end tests load: a generic ``jobs`` workbook of any size, and a sample
cycle workbook broken on purpose."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from irpd.samples.build import sample_sheets, set_value, workbook_bytes


def generic_jobs_workbook(directory: Path, count: int, key_prefix: str) -> Path:
    """A generic workbook whose ``jobs`` sheet has ``count`` rows (one ``multi_job`` job each).

    Job keys are ``<key_prefix>-<n>``, so the workflow names (``irpd-<job id>-<key>``) of one
    test never collide with another test's on the same fake Moody's."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "jobs"
    sheet.append(["job_key", "operation", "target", "priority"])
    for n in range(1, count + 1):
        sheet.append([f"{key_prefix}-{n}", "refresh", f"target-{n % 7}", n % 3 + 1])
    path = directory / f"jobs-{key_prefix}.xlsx"
    book.save(path)
    return path


def invalid_cycle_workbook(directory: Path) -> Path:
    """The sample cycle workbook with a blank required cell and an unknown database."""
    sheets = sample_sheets()
    set_value(sheets, "Portfolios", 3, "Portfolio", None)
    set_value(sheets, "Analysis Table", 2, "Database", "RM_EDM_NO_SUCH_DB")
    path = directory / "broken-cycle.xlsx"
    path.write_bytes(workbook_bytes(sheets))
    return path
