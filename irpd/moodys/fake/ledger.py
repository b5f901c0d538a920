"""What the fake saw: the submission ledger and the HTTP request log.

The ledger holds every POST/PATCH the fake received on a Moody's route (accepted,
rejected or replayed), so a test can prove no job was submitted twice. The request log
holds every Moody's request with its answer, so a test can count requests and prove none
arrived inside a ``Retry-After`` window.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One submission as received."""

    seq: int
    request_id: str | None
    operation: str
    method: str
    path: str
    name: str | None
    type: str | None
    workflow_id: str | None
    location: str | None
    status: int
    replay: bool
    sim_time: str
    wall_time: float
    body_text: str

    @property
    def body(self) -> Any:
        """The request body parsed as JSON (the raw text when it is not JSON)."""
        try:
            return json.loads(self.body_text) if self.body_text else None
        except ValueError:
            return self.body_text

    @property
    def accepted(self) -> bool:
        """Whether it was answered with a 2xx."""
        return 200 <= self.status < 300

    def to_json(self) -> dict[str, Any]:
        """The admin endpoint's view."""
        return {
            "seq": self.seq,
            "requestId": self.request_id,
            "operation": self.operation,
            "method": self.method,
            "path": self.path,
            "name": self.name,
            "type": self.type,
            "workflowId": self.workflow_id,
            "location": self.location,
            "status": self.status,
            "replay": self.replay,
            "simTime": self.sim_time,
            "wallTime": self.wall_time,
            "body": self.body,
        }


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One HTTP request on a Moody's route and how it was answered.

    ``status`` is 0 when no response was sent (dropped or abandoned by the client);
    ``outcome`` says which: ``ok``, ``dropped``, ``cancelled`` or ``error``.
    """

    seq: int
    method: str
    path: str
    query: str
    status: int
    outcome: str
    fault: str | None
    request_id: str | None
    inside_retry_after: bool
    wall_time: float
    monotonic: float
    duration: float
    sim_time: str
    #: the client's User-Agent (irpd sends its worker id there)
    user_agent: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The admin endpoint's view."""
        return {
            "user_agent": self.user_agent,
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "outcome": self.outcome,
            "fault": self.fault,
            "requestId": self.request_id,
            "insideRetryAfter": self.inside_retry_after,
            "wallTime": self.wall_time,
            "monotonic": self.monotonic,
            "duration": self.duration,
            "simTime": self.sim_time,
        }


class Ledger:
    """Append-only list of submissions."""

    def __init__(self) -> None:
        self._entries: list[LedgerEntry] = []

    def next_seq(self) -> int:
        """Sequence number the next entry gets."""
        return len(self._entries) + 1

    def append(self, entry: LedgerEntry) -> None:
        """Record a submission."""
        self._entries.append(entry)

    def get(self, seq: int) -> LedgerEntry | None:
        """The entry with this sequence number."""
        return self._entries[seq - 1] if 0 < seq <= len(self._entries) else None

    def entries(self) -> list[LedgerEntry]:
        """A copy of all entries, oldest first."""
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


class RequestLog:
    """Bounded log of requests plus totals that are never truncated."""

    def __init__(self, limit: int) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=limit)
        self._seq = 0
        self.total = 0
        self.inside_retry_after_total = 0
        self._window = (0.0, 0.0)

    def next_seq(self) -> int:
        """Allocate a sequence number (in arrival order)."""
        self._seq += 1
        return self._seq

    def append(self, record: RequestRecord) -> None:
        """Record an answered (or abandoned) request."""
        self._records.append(record)
        self.total += 1
        if record.inside_retry_after:
            self.inside_retry_after_total += 1

    def records(self) -> list[RequestRecord]:
        """A copy of the retained records, oldest first."""
        return sorted(self._records, key=lambda r: r.seq)

    def open_retry_after_window(self, start: float, until: float) -> None:
        """A 429 with ``Retry-After`` was sent: arrivals in [start, until) ignored it."""
        current_start, current_end = self._window
        if start <= current_end:
            self._window = (current_start, max(current_end, until))
        else:
            self._window = (start, until)

    def inside_retry_after(self, monotonic: float) -> bool:
        """Whether a request arriving at *monotonic* ignored an active Retry-After."""
        start, end = self._window
        return start <= monotonic < end

    @property
    def retry_after_window(self) -> tuple[float, float]:
        """Monotonic [start, end) of the latest Retry-After window ((0, 0) when none)."""
        return self._window
