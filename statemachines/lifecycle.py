"""A lifecycle as data: one transition table, two ways to run it.

Each machine (configuration, batch, job) is a :class:`Lifecycle`: a tuple of
:class:`Transition` rows ``(trigger, sources, dest)``. From that one table we derive

* ``lookup``: a frozen ``{(source, trigger): dest}`` mapping, built once at import. It is
  the hot path (the daemon applies ~100,000 facts per sweep): a dict probe, no per-entity
  object, no ``transitions`` model.
* :meth:`Lifecycle.build_machine`: a ``transitions.Machine`` built from the same rows, for
  the single-object path (an operator command on one entity) and for validation. Unit tests
  prove both agree on every ``(state, trigger)`` pair.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Generic, TypeVar

from transitions import Machine, MachineError

from statemachines.errors import IllegalTransition

S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class Transition(Generic[S]):
    """One row of a table: ``trigger`` moves an entity from any of ``sources`` to ``dest``."""

    trigger: str
    sources: tuple[S, ...]
    dest: S


class _StatusHolder:
    """The throw-away model object the single-object path attaches to a Machine."""

    def __init__(self) -> None:
        self.state: StrEnum | None = None


@dataclass(frozen=True)
class Lifecycle(Generic[S]):
    """A named state machine defined by its transition table (see module docstring)."""

    entity: str
    states: type[S]
    initial: S
    final: frozenset[S]
    transitions: tuple[Transition[S], ...]
    lookup: Mapping[tuple[S, str], S] = field(init=False, repr=False, compare=False)
    allowed_from: Mapping[str, tuple[S, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lookup: dict[tuple[S, str], S] = {}
        allowed: dict[str, list[S]] = {}
        for row in self.transitions:
            self._check_row(row)
            for source in row.sources:
                if (source, row.trigger) in lookup:
                    msg = f"{self.entity}: {row.trigger} from {source} is defined twice"
                    raise ValueError(msg)
                lookup[(source, row.trigger)] = row.dest
                allowed.setdefault(row.trigger, []).append(source)
        object.__setattr__(self, "lookup", MappingProxyType(lookup))
        frozen_allowed = {trigger: tuple(sources) for trigger, sources in allowed.items()}
        object.__setattr__(self, "allowed_from", MappingProxyType(frozen_allowed))

    def _check_row(self, row: Transition[S]) -> None:
        if not row.trigger.isidentifier():
            raise ValueError(f"{self.entity}: trigger {row.trigger!r} is not an identifier")
        if not row.sources:
            raise ValueError(f"{self.entity}: {row.trigger} has no source status")
        for status in (*row.sources, row.dest):
            if not isinstance(status, self.states):
                raise ValueError(f"{self.entity}: {status!r} is not a {self.states.__name__}")

    @property
    def triggers(self) -> tuple[str, ...]:
        """Every trigger, in table order."""
        return tuple(self.allowed_from)

    def next(self, entity_id: int | str, current: S, trigger: str) -> S:
        """The status ``trigger`` leads to from ``current``; O(1).

        Raises :class:`IllegalTransition` when the trigger is not legal from ``current``.
        """
        dest = self.lookup.get((current, trigger))
        if dest is None:
            raise self.illegal(entity_id, current, trigger)
        return dest

    def illegal(self, entity_id: int | str, current: S, attempted: str) -> IllegalTransition:
        """The error for ``attempted`` from ``current``, naming the legal sources."""
        allowed = tuple(str(status) for status in self.allowed_from.get(attempted, ()))
        return IllegalTransition(self.entity, entity_id, current, attempted, allowed)

    def build_machine(self, model: object, current: S) -> Machine:
        """A ``transitions.Machine`` from this table, with ``model`` attached in ``current``.

        No auto transitions (``to_X``) and invalid triggers raise ``MachineError``: the
        Machine allows exactly what the table allows.
        """
        return Machine(
            model=model,
            states=self.states,
            initial=current,
            transitions=[
                {"trigger": row.trigger, "source": list(row.sources), "dest": row.dest}
                for row in self.transitions
            ],
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )

    def fire(self, entity_id: int | str, current: S, trigger: str) -> S:
        """Run ``trigger`` through a ``transitions.Machine`` (the single-object path).

        Same result as :meth:`next` (tests prove it); slower, for one-off operator commands.
        """
        holder = _StatusHolder()
        machine = self.build_machine(holder, current)
        if trigger not in machine.events:
            raise self.illegal(entity_id, current, trigger)
        try:
            machine.events[trigger].trigger(holder)
        except MachineError as error:
            raise self.illegal(entity_id, current, trigger) from error
        state = holder.state
        if not isinstance(state, self.states):  # transitions broke its contract
            raise TypeError(f"{self.entity} machine left {state!r}, not a {self.states.__name__}")
        return state
