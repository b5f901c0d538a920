"""Cycle configurations: load a workbook (dry run or register), read, list."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, cast

from irpd.db.conflicts import conflicts_retried
from irpd.db.database import Database, Row, Tx
from irpd.errors import ConfigurationError
from irpd.ops import validate
from irpd.ops.cycles import CycleRef, cycle_ref, find_cycle
from irpd.ops.machines import configuration_move
from irpd.ops.ports import WorkbookLoader, WorkbookOutcome
from irpd.ops.results import (
    Configuration,
    ConfigurationRow,
    LoadedConfiguration,
    RegisteredConfiguration,
    WorkbookRead,
    shaped,
    shaped_rows,
)
from statemachines.configuration import ConfigurationStatus

CONFIGURATION_STATUSES: Final = tuple(str(status) for status in ConfigurationStatus)
MAX_FILE_NAME_LENGTH: Final = 1000


class WorkbookRejectedError(ConfigurationError):
    """The workbook has problems; nothing was written. ``problems`` lists every one."""

    def __init__(self, message: str, problems: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.problems = problems


def _rejection_message(file_name: str, problems: list[dict[str, Any]]) -> str:
    codes = Counter(str(problem.get("code")) for problem in problems)
    by_code = ", ".join(f"{code} x{count}" for code, count in sorted(codes.items()))
    first = problems[0]
    where = ", ".join(
        f"{key} {first[key]}" for key in ("sheet", "row", "column") if first.get(key) is not None
    )
    return (
        f"Workbook '{file_name}' has {len(problems)} problem(s) ({by_code}); nothing was "
        f"registered. First: {where + ': ' if where else ''}{first.get('message')}"
    )


def _source_and_name(source: object, file_name: object) -> tuple[Path | bytes, str]:
    """The workbook source (a path or its bytes) and the file name to record."""
    name = (
        None
        if file_name is None
        else validate.text(
            "file_name", file_name, ConfigurationError, max_length=MAX_FILE_NAME_LENGTH
        )
    )
    if isinstance(source, bytes):
        if name is None:
            raise ConfigurationError(
                "Invalid file_name: required when the workbook is given as bytes."
            )
        return source, name
    if isinstance(source, str | Path) and str(source).strip():
        path = Path(source)
        return path, name or path.name
    raise ConfigurationError(
        f"Invalid source: {validate.shown(source)}. Must be a file path or the workbook's bytes."
    )


def _read_bytes(source: Path | bytes) -> bytes:
    if isinstance(source, bytes):
        return source
    try:
        return source.read_bytes()
    except FileNotFoundError:
        raise ConfigurationError(f"Configuration file not found: {source}") from None
    except OSError as error:
        raise ConfigurationError(
            f"Cannot read configuration file {source}: {error.strerror}"
        ) from None


class Configurations:
    """Configuration operations."""

    def __init__(self, db: Database, load_workbook: WorkbookLoader) -> None:
        self._db = db
        self._load_workbook = load_workbook

    async def load_configuration(
        self,
        cycle: CycleRef,
        source: Path | str | bytes,
        *,
        register: bool = True,
        file_name: str | None = None,
    ) -> LoadedConfiguration:
        """Validate a workbook and, with ``register``, make it the cycle's VALID configuration.

        Refused (``ConfigurationError``) when the cycle is not the ACTIVE one, when the cycle
        has an ACTIVE configuration, or when a configuration to be replaced already has
        batches. A workbook with problems raises :class:`WorkbookRejectedError` (register)
        or is answered with ``valid: false`` and the problems (dry run); nothing is written.
        """
        ref = cycle_ref(cycle, ConfigurationError)
        if not isinstance(register, bool):
            raise ConfigurationError(
                f"Invalid register: {validate.shown(register)}. Must be true or false."
            )
        workbook, name = _source_and_name(source, file_name)
        cycle_row = await find_cycle(self._db, ref, ConfigurationError)
        self._require_active_cycle(cycle_row)
        data = await asyncio.to_thread(_read_bytes, workbook)
        outcome = await asyncio.to_thread(self._load_workbook, data)
        problems = [problem.as_dict() for problem in outcome.problems]
        base: WorkbookRead = {
            "cycle_id": cycle_row["id"],
            "cycle_name": cycle_row["cycle_name"],
            "configuration_file_name": name,
            "file_sha256": hashlib.sha256(data).hexdigest(),
            "dry_run": not register,
        }
        if problems or outcome.configuration_data is None:
            problems = problems or [
                {"code": "STRUCT-EMPTY-FILE", "message": "no configuration data"}
            ]
            if register:
                raise WorkbookRejectedError(_rejection_message(name, problems), problems)
            return _loaded({**base, "valid": False, "problems": problems})
        if not register:
            return _loaded({**base, "valid": True, "problems": [], "sheets": _sheet_names(outcome)})
        registered = await self._register(cycle_row["id"], name, base["file_sha256"], outcome)
        return _loaded({**base, **registered})

    async def read_configuration(self, configuration_id: int) -> Configuration:
        """One configuration, with its ``configuration_data``."""
        config_id = validate.positive_id("configuration_id", configuration_id, ConfigurationError)
        row = await self._db.fetchrow("configuration_read", config_id)
        if row is None:
            raise ConfigurationError(f"Configuration {config_id} not found.")
        return shaped(Configuration, row)

    async def list_configurations(
        self, cycle: CycleRef | None = None, status: str | None = None
    ) -> list[ConfigurationRow]:
        """Configurations (without their data), optionally of one cycle and/or one status."""
        ref = None if cycle is None else cycle_ref(cycle, ConfigurationError)
        wanted = validate.optional_choice(
            "status", status, CONFIGURATION_STATUSES, ConfigurationError
        )
        cycle_id = (
            None if ref is None else (await find_cycle(self._db, ref, ConfigurationError))["id"]
        )
        rows = await self._db.fetch("configuration_list", cycle_id, wanted)
        return shaped_rows(ConfigurationRow, rows)

    @staticmethod
    def _require_active_cycle(cycle: Row) -> None:
        if cycle["status"] != "ACTIVE":
            raise ConfigurationError(
                f"Cycle '{cycle['cycle_name']}' is {cycle['status']}; configurations can only "
                "be loaded into the ACTIVE cycle."
            )

    @conflicts_retried
    async def _register(
        self, cycle_id: int, file_name: str, sha256: str, outcome: WorkbookOutcome
    ) -> RegisteredConfiguration:
        status = configuration_move("new", ConfigurationStatus.NEW, "validate_ok")
        async with self._db.transaction() as tx:
            locked = await tx.fetchrow("configuration_lock_cycle", cycle_id)
            assert locked is not None  # cycles are never deleted
            self._require_active_cycle(locked)
            await tx.execute("configuration_lock_siblings", cycle_id)
            await self._refuse_unreplaceable(tx, locked)
            replaced = [
                row["id"] for row in await tx.fetch("configuration_delete_replaced", cycle_id)
            ]
            row = await tx.fetchrow(
                "configuration_insert",
                cycle_id,
                file_name,
                outcome.configuration_data,
                status,
                sha256,
            )
        assert row is not None
        return {
            "valid": True,
            "problems": [],
            "configuration_id": row["id"],
            "status": row["status"],
            "created_ts": row["created_ts"].isoformat(),
            "replaced_configuration_ids": replaced,
        }

    @staticmethod
    async def _refuse_unreplaceable(tx: Tx, cycle: Row) -> None:
        for row in await tx.fetch("configuration_replaceable_check", cycle["id"]):
            if row["status"] == ConfigurationStatus.ACTIVE:
                raise ConfigurationError(
                    f"Cycle '{cycle['cycle_name']}' has ACTIVE configuration {row['id']}; "
                    "it cannot be replaced."
                )
            if row["has_batches"]:
                raise ConfigurationError(
                    f"Configuration {row['id']} of cycle '{cycle['cycle_name']}' already has "
                    "batches; it cannot be replaced."
                )


def _loaded(verdict: Mapping[str, Any]) -> LoadedConfiguration:
    """One of the three verdicts (rejected, checked, registered): a TypedDict built with
    ``**`` must name its optional keys, so the verdict's keys are checked by
    tests/integration/ops/test_result_shapes.py instead."""
    return cast(LoadedConfiguration, dict(verdict))


def _sheet_names(outcome: WorkbookOutcome) -> list[str]:
    data = outcome.configuration_data or {}
    return [key for key in data if not key.startswith("_")]
