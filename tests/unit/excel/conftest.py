"""Fixtures for the workbook loader tests: build sample variants in memory and load them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from irpd.excel import WorkbookResult, load_workbook
from irpd.samples.build import Mutation, Sheets, sample_sheets, workbook_bytes

Load = Callable[..., WorkbookResult]


@pytest.fixture
def sheets() -> Sheets:
    """A fresh, editable copy of the sample cycle's sheets."""
    return sample_sheets()


@pytest.fixture
def load() -> Load:
    """``load(sheets, mutate=None, **load_workbook_kwargs)`` -> WorkbookResult."""

    def run(sheets: Sheets, mutate: Mutation | None = None, **kwargs: Any) -> WorkbookResult:
        return load_workbook(workbook_bytes(sheets, mutate), **kwargs)

    return run
