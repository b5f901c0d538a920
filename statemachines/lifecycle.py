"""A lifecycle as data: one transition table, one ``transitions`` machine, two ways to run it.

Each machine (configuration, batch, job) is a :class:`Lifecycle`: a tuple of
:class:`Transition` rows ``(trigger, sources, dest)``. At import each lifecycle builds its
``transitions.Machine`` from the rows (:attr:`Lifecycle.machine`, no model attached), and
derives from that machine

* ``lookup``: a frozen ``{(source, trigger): dest}`` mapping. It is the daemon's hot path
  (the tracker applies ~100,000 reports per sweep, the dispatcher thousands of outcomes): a
  dict probe, no per-entity object, no ``transitions`` model.
* ``pairs``: every ``(expected, target)`` status pair the lifecycle can write, which is
  what the SQL and the code are checked against (``tests/unit/test_moves.py``).

The single-object path (an operator command on one job, batch or configuration) fires the
machine itself: :meth:`Lifecycle.fire` attaches one transient model in the current status,
triggers the event, reads the new status and detaches the model. Unit tests prove both
paths agree on every ``(status, trigger)`` pair; changing a row changes both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from transitions import Machine, MachineError

from statemachines.errors import IllegalTransition
from statemachines.moves import Move

_new_tuple = tuple.__new__

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
    machine: Machine = field(init=False, repr=False, compare=False)
    lookup: Mapping[tuple[S, str], S] = field(init=False, repr=False, compare=False)
    allowed_from: Mapping[str, tuple[S, ...]] = field(init=False, repr=False, compare=False)
    pairs: frozenset[tuple[S, S]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        seen: set[tuple[S, str]] = set()
        for row in self.transitions:
            self._check_row(row)
            for source in row.sources:
                if (source, row.trigger) in seen:
                    msg = f"{self.entity}: {row.trigger} from {source} is defined twice"
                    raise ValueError(msg)
                seen.add((source, row.trigger))
        machine = Machine(
            model=None,
            states=self.states,
            initial=self.initial,
            transitions=[
                {"trigger": row.trigger, "source": list(row.sources), "dest": row.dest}
                for row in self.transitions
            ],
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )
        object.__setattr__(self, "machine", machine)
        lookup = self._lookup_of(machine)
        allowed: dict[str, list[S]] = {}
        for source, trigger in lookup:
            allowed.setdefault(trigger, []).append(source)
        object.__setattr__(self, "lookup", MappingProxyType(lookup))
        frozen_allowed = {trigger: tuple(sources) for trigger, sources in allowed.items()}
        object.__setattr__(self, "allowed_from", MappingProxyType(frozen_allowed))
        object.__setattr__(self, "pairs", frozenset((src, dst) for (src, _), dst in lookup.items()))

    def _lookup_of(self, machine: Machine) -> dict[tuple[S, str], S]:
        """``{(source, trigger): dest}`` read back from the machine's events (table order)."""
        lookup: dict[tuple[S, str], S] = {}
        for trigger, event in machine.events.items():
            for source_name, candidates in event.transitions.items():
                (transition,) = candidates  # one transition per (source, trigger): no guards
                dest = transition.dest  # None only for internal transitions (none here)
                assert dest is not None, (self.entity, trigger, source_name)
                lookup[(self.states[source_name], trigger)] = self.states[dest]
        return lookup

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

    def move(
        self, entity_id: int, current: S | str, trigger: str, data: dict[str, Any] | None = None
    ) -> Move:
        """The :class:`Move` ``trigger`` makes from ``current`` (lookup: the hot path).

        Raises :class:`IllegalTransition` when the trigger is not legal from ``current``."""
        # a status string finds its StrEnum key (same hash, equal): no conversion per move
        dest = self.lookup.get((current, trigger))  # type: ignore[arg-type]
        if dest is None:
            raise self.illegal(entity_id, self.states(current), trigger)
        # the tuple built directly: a named tuple's generated __new__ is a Python call that
        # cost as much again (0.8 µs here, once per transition of a 100,000-job burst)
        return _new_tuple(Move, (entity_id, current, dest, trigger, data))

    def fire_move(
        self, entity_id: int, current: S | str, trigger: str, data: dict[str, Any] | None = None
    ) -> Move:
        """The :class:`Move` ``trigger`` makes from ``current``, decided by firing the
        ``transitions`` machine (:meth:`fire`): the single-object path."""
        status = self.states(current)
        return Move(entity_id, status, self.fire(entity_id, status, trigger), trigger, data)

    def fire(self, entity_id: int | str, current: S, trigger: str) -> S:
        """Run ``trigger`` through :attr:`machine` (the single-object path).

        One transient model is attached in ``current`` for the call and detached after it.
        Same result as :meth:`next` (tests prove it); slower, for one-off operator commands.
        """
        if trigger not in self.machine.events:
            raise self.illegal(entity_id, current, trigger)
        holder = _StatusHolder()
        self.machine.add_model(holder, initial=current)
        try:
            self.machine.events[trigger].trigger(holder)
        except MachineError as error:
            raise self.illegal(entity_id, current, trigger) from error
        finally:
            self.machine.remove_model(holder)
        state = holder.state
        if not isinstance(state, self.states):  # transitions broke its contract
            raise TypeError(f"{self.entity} machine left {state!r}, not a {self.states.__name__}")
        return state
