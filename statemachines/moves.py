"""A move: one status change decided by a machine, ready for the store to write.

Every status write of the daemon and of the operator commands is a :class:`Move` built by a
lifecycle (:meth:`statemachines.lifecycle.Lifecycle.move` on the hot path, through the
lookup derived from the ``transitions`` machine; :meth:`~statemachines.lifecycle.Lifecycle.
fire_move` for one object, through the machine itself; :func:`statemachines.job.report_move`
for a status reported by Moody's). The store applies a list of moves in one statement:
compare-and-set on ``expected``, ``target`` written, and the audit row (``trigger`` and
``data``) inserted in the same statement. A move is a named tuple: the tracker builds
thousands per sweep and the store transposes them into column arrays with one ``zip``.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Move(NamedTuple):
    """Entity ``id`` goes from ``expected`` to ``target`` by ``trigger``; ``data`` is the
    audit row's JSON (or ``None``). ``expected`` and ``target`` are status values (a
    ``StrEnum`` member or its string)."""

    id: int
    expected: str
    target: str
    trigger: str
    data: dict[str, Any] | None = None
