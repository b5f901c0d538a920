"""The batch-type registry: name -> transformer, with the checks every output must pass.

A transformer is a pure function from ``configuration_data`` to a list of job configurations.
The registry hands it a deep copy (it cannot alter the caller's data) and finishes each job
configuration: ``batch_type`` is set to the registered name, ``job_key`` defaults to
``job-<n>`` and must be unique within the list, and everything must be JSON-serialisable.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Final, TypeVar

from irpd.errors import BatchError
from irpd.transformers.contracts import Contract, check_job_configuration

Transformer = Callable[[Mapping[str, Any]], list[dict[str, Any]]]
T = TypeVar("T", bound=Transformer)

ENTRY_POINT_GROUP: Final = "irpd.transformers"
_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True, slots=True)
class RegisteredTransformer:
    name: str
    function: Transformer
    description: str
    #: the fields of its job configurations (None: not declared; only the common checks)
    contract: Contract | None = None


@dataclass(frozen=True, slots=True)
class EntryPointReport:
    """What ``load_entry_points`` registered, and what it could not (name, reason)."""

    loaded: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = field(default=())


def _summary(function: Callable[..., object]) -> str:
    """The docstring's first paragraph on one line: its first line alone may end mid-sentence
    (``irpctl types`` showed "…: create the treaty,")."""
    paragraph = (function.__doc__ or "").strip().split("\n\n", 1)[0]
    return " ".join(paragraph.split())


class TransformerRegistry:
    """Batch types by name. Build one per application (see ``builtin_registry``)."""

    def __init__(self) -> None:
        self._entries: dict[str, RegisteredTransformer] = {}

    def add(
        self,
        name: str,
        function: Transformer,
        *,
        description: str | None = None,
        replace: bool = False,
        contract: Contract | None = None,
    ) -> None:
        """Register ``function`` as the batch type ``name`` (``contract``: the fields of its
        job configurations, which judge an operator's override; see ``contracts``)."""
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise BatchError(f"Invalid batch_type name: {name!r}.")
        if name in self._entries and not replace:
            raise BatchError(f"batch_type {name!r} is already registered.")
        if not callable(function):
            raise BatchError(f"The transformer for batch_type {name!r} is not callable.")
        text = description if description is not None else _summary(function)
        self._entries[name] = RegisteredTransformer(name, function, text, contract)

    def register(
        self, name: str, *, description: str | None = None, replace: bool = False
    ) -> Callable[[T], T]:
        """Decorator form of :meth:`add`: ``@registry.register("my_type")``."""

        def decorate(function: T) -> T:
            self.add(name, function, description=description, replace=replace)
            return function

        return decorate

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def names(self) -> list[str]:
        """The registered batch types, sorted."""
        return sorted(self._entries)

    def describe(self) -> dict[str, str]:
        """Batch type -> one-line description, sorted by name (for ``irpctl types``)."""
        return {name: self._entries[name].description for name in self.names()}

    def transform(
        self, batch_type: str, configuration_data: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """The job configurations of ``batch_type`` for ``configuration_data``.

        Raises BatchError for an unknown batch type, for configuration data the transformer
        cannot use, and for output that breaks the rules above.
        """
        entry = self._entries.get(batch_type) if isinstance(batch_type, str) else None
        if entry is None:
            raise BatchError(
                f"Unknown batch_type {batch_type!r}. Registered types: {self.names()!r}"
            )
        if not isinstance(configuration_data, Mapping):
            raise BatchError(
                f"configuration_data for batch_type {batch_type!r} must be a JSON object."
            )
        produced = entry.function(copy.deepcopy(dict(configuration_data)))
        return _finish(batch_type, produced)

    def check(
        self,
        batch_type: str,
        job_configuration: Mapping[str, Any],
        configuration_data: Mapping[str, Any],
    ) -> list[dict[str, str]]:
        """The bad keys (``{key, message}``) of an edited job configuration of ``batch_type``
        whose batch was created from ``configuration_data``; empty when it is valid."""
        entry = self._entries.get(batch_type)
        contract = entry.contract if entry is not None else None
        return check_job_configuration(batch_type, job_configuration, configuration_data, contract)


def _finish(batch_type: str, produced: object) -> list[dict[str, Any]]:
    if not isinstance(produced, list):
        raise BatchError(f"batch_type {batch_type!r} did not produce a list of job configurations.")
    jobs: list[dict[str, Any]] = []
    keys: set[str] = set()
    for index, item in enumerate(produced):
        if not isinstance(item, dict):
            raise BatchError(
                f"batch_type {batch_type!r} produced a non-object job configuration at {index}."
            )
        key = item.get("job_key")
        key = f"job-{index + 1}" if key is None or key == "" else str(key)
        if key in keys:
            raise BatchError(f"batch_type {batch_type!r} produced the job_key {key!r} twice.")
        keys.add(key)
        job = {**item, "batch_type": batch_type, "job_key": key}
        try:
            json.dumps(job, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise BatchError(
                f"batch_type {batch_type!r} produced a job configuration that is not JSON "
                f"({key!r}): {exc}"
            ) from exc
        jobs.append(job)
    return jobs


def load_entry_points(
    registry: TransformerRegistry, group: str = ENTRY_POINT_GROUP
) -> EntryPointReport:
    """Register the transformers installed packages declare in the entry point ``group``.

    The entry point's name is the batch type; its object is the transformer. A plugin that
    fails to load, is not callable, or reuses a registered name is reported, not raised, so
    one broken plugin cannot stop the daemon.
    """
    loaded: list[str] = []
    failed: list[tuple[str, str]] = []
    for point in sorted(entry_points(group=group), key=lambda p: p.name):
        try:
            function = point.load()
            registry.add(point.name, function)
        except BatchError as exc:
            failed.append((point.name, str(exc)))
        except Exception as exc:  # a plugin's import can fail in any way
            failed.append((point.name, f"{type(exc).__name__}: {exc}"))
        else:
            loaded.append(point.name)
    return EntryPointReport(tuple(loaded), tuple(failed))
