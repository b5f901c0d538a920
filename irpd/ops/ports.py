"""What the operations need from the workbook loader and the transformer registry.

Both are injected (see :class:`irpd.ops.facade.Operations`): the composition root passes
``irpd.excel.load_workbook`` and ``irpd.transformers.builtin_registry()``; nothing here holds
a module-level registry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol


class TransformerRegistry(Protocol):
    """Batch types: configuration data → job configurations (``irpd.transformers``)."""

    def names(self) -> Iterable[str]:
        """The registered batch types."""
        ...

    def transform(
        self, batch_type: str, configuration_data: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """One dict per job configuration; ``BatchError`` for an unknown batch type."""
        ...

    def check(
        self,
        batch_type: str,
        job_configuration: Mapping[str, Any],
        configuration_data: Mapping[str, Any],
    ) -> list[dict[str, str]]:
        """The bad keys (``{key, message}``) of an operator's edited job configuration."""
        ...


class WorkbookProblem(Protocol):
    """One problem found in a workbook (sheet, row, column, code, message)."""

    def as_dict(self) -> dict[str, Any]:
        """The problem as a JSON-able dict."""
        ...


class WorkbookOutcome(Protocol):
    """The loader's answer: the configuration data, or the problems that refuse it."""

    @property
    def configuration_data(self) -> dict[str, Any] | None: ...

    @property
    def problems(self) -> Sequence[WorkbookProblem]: ...


class WorkbookLoader(Protocol):
    """Reads and validates a workbook (``irpd.excel.load_workbook``)."""

    def __call__(self, source: Path | bytes) -> WorkbookOutcome:
        """Load and validate ``source`` (a path or the workbook's bytes)."""
        ...


class ReferenceChecker(Protocol):
    """What a batch's jobs need at Moody's and is not there (``irpd.moodys.preflight``)."""

    async def missing(
        self, jobs: Sequence[tuple[int, Mapping[str, Any]]]
    ) -> dict[int, list[str]]:
        """Job id → the missing references, in words; jobs with none are left out."""
        ...
