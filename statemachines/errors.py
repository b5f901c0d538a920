"""The one error the state machines raise: a trigger that is not legal from a status.

``statemachines`` must not import ``irpd``, so this error does not derive from
``irpd.errors.IrpdError``; the daemon and the ops layer translate it at their boundary
(typically into ``JobError`` / ``BatchError`` / ``ConfigurationError``) keeping the message.
"""

from __future__ import annotations


class IllegalTransition(Exception):
    """``attempted`` (a trigger, or a reported status) is not legal from ``current``.

    The message names the entity kind and id, its status, what was attempted and, when
    known, the statuses from which it would have been legal::

        Job 42 is RUNNING; cannot force_ok (allowed from: INITIATED, FAILED, ERROR, CANCELLED)
    """

    #: stable machine-readable name, same convention as ``irpd.errors`` (``{type, message}``)
    kind = "IllegalTransition"

    def __init__(
        self,
        entity: str,
        entity_id: int | str,
        current: str,
        attempted: str,
        allowed_from: tuple[str, ...] = (),
    ) -> None:
        self.entity = entity
        self.entity_id = entity_id
        self.current = str(current)
        self.attempted = attempted
        self.allowed_from = tuple(str(status) for status in allowed_from)
        if self.allowed_from:
            hint = f" (allowed from: {', '.join(self.allowed_from)})"
        else:
            hint = f" (not a {entity.lower()} trigger)"
        super().__init__(f"{entity} {entity_id} is {self.current}; cannot {attempted}{hint}")
