"""``X-RMS-RequestId`` de-duplication: one outcome per key for 24 simulated hours.

A key is *claimed* when its first request starts. While that request is in flight a repeat
gets ``409 REQUEST-409``. A 2xx answer is stored and replayed (status, ``Location``, body)
to every repeat until the key expires; any other answer frees the key, as Moody's asks for
a new key after a 400.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """The answer to replay for a key."""

    status: int
    location: str | None
    content_type: str | None
    body: bytes
    ledger_seq: int


@dataclass(slots=True)
class _Claim:
    first_seen: float
    answer: StoredAnswer | None = None


class IdempotencyStore:
    """Keys by first-seen simulated time."""

    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._claims: dict[str, _Claim] = {}

    def lookup(self, key: str, now: float) -> StoredAnswer | bool | None:
        """``None``: unseen or expired (claim it); ``True``: in flight; else the answer."""
        claim = self._claims.get(key)
        if claim is None or now - claim.first_seen >= self._ttl:
            return None
        return True if claim.answer is None else claim.answer

    def claim(self, key: str, now: float) -> None:
        """Mark the key as in flight from *now*."""
        self._claims[key] = _Claim(now)

    def complete(self, key: str, answer: StoredAnswer) -> None:
        """Store the answer of a successful first request."""
        claim = self._claims.get(key)
        if claim is not None:
            claim.answer = answer

    def release(self, key: str) -> None:
        """Forget a key whose first request did not succeed."""
        self._claims.pop(key, None)

    def __len__(self) -> int:
        return len(self._claims)
