"""Fault decisions: which fault (if any) a request gets, from seeded per-rule RNGs.

Each :class:`~irpd.moodys.fake.settings.Faults` rule that matches the request draws its
rolls in a fixed order, so a seeded rule gives the same sequence of faults for the same
sequence of matching requests. The first rule that picks an exclusive fault wins; latency
from every matching rule adds up.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from irpd.moodys.fake.settings import EXCLUSIVE_FAULTS, Faults

HANG = "hang"
HTML_ERROR = "html_error"
ERROR = "error"
RATE_LIMIT = "rate_limit"
RATE_LIMIT_BARE = "rate_limit_bare"
DROP_AFTER_RECORD = "drop_after_record"
MALFORMED_JSON = "malformed_json"
TRUNCATED_JSON = "truncated_json"
NOT_READY = "not_ready"

_KIND_OF_RATE = {rate: rate.removesuffix("_rate") for rate in EXCLUSIVE_FAULTS}

#: faults answered before the request reaches idempotency and the handler
BEFORE_HANDLER = frozenset({HANG, HTML_ERROR, ERROR, RATE_LIMIT, RATE_LIMIT_BARE})


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What happens to one request."""

    kind: str | None
    rule: Faults | None
    latency: float
    error_status: int

    @property
    def label(self) -> str | None:
        """Name for the request log (``latency`` alone is reported too)."""
        if self.kind is not None:
            return self.kind if self.kind != ERROR else f"error_{self.error_status}"
        return "latency" if self.latency > 0 else None


class FaultEngine:
    """The active fault rules and their RNGs."""

    def __init__(self, rules: Sequence[Faults], default_seed: int) -> None:
        self._default_seed = default_seed
        self._rules: tuple[Faults, ...] = ()
        self._rngs: list[random.Random] = []
        self.replace(rules)

    @property
    def rules(self) -> tuple[Faults, ...]:
        """Active rules, in evaluation order."""
        return self._rules

    def replace(self, rules: Sequence[Faults]) -> None:
        """Install new rules (their RNGs restart from their seeds)."""
        self._rules = tuple(rules)
        self._rngs = [
            random.Random(f"faults|{self._default_seed if r.seed is None else r.seed}|{i}")
            for i, r in enumerate(self._rules)
        ]

    def decide(self, method: str, path: str) -> FaultDecision | None:
        """Roll the dice for one request; None when no rule matches or nothing fires."""
        kind: str | None = None
        chosen: Faults | None = None
        latency = 0.0
        status = 0
        for rule, rng in zip(self._rules, self._rngs, strict=True):
            if not rule.matches(method, path):
                continue
            latency_roll, kind_roll, status_roll = rng.random(), rng.random(), rng.random()
            if rule.latency_seconds > 0 and latency_roll < rule.latency_rate:
                latency += rule.latency_seconds
            if kind is not None:
                continue
            picked = _pick(rule, kind_roll)
            if picked is not None:
                kind, chosen = picked, rule
                statuses = rule.error_statuses or (500,)
                status = statuses[int(status_roll * len(statuses)) % len(statuses)]
        if kind is None and latency <= 0:
            return None
        return FaultDecision(kind, chosen, latency, status)


def _pick(rule: Faults, roll: float) -> str | None:
    threshold = 0.0
    for rate_name in EXCLUSIVE_FAULTS:
        threshold += getattr(rule, rate_name)
        if roll < threshold:
            return _KIND_OF_RATE[rate_name]
    return None


def malformed(body: bytes) -> bytes:
    """A JSON body made syntactically invalid (but not obviously empty)."""
    return b'{"code": "FAKE", "broken": [1, 2,, }' + body[:16]


def truncated(body: bytes) -> bytes:
    """The first half of a JSON body."""
    return body[: max(1, len(body) // 2)]


HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>{status} {reason}</title></head>"
    "<body><h1>{status} {reason}</h1><p>The gateway could not reach the upstream service."
    "</p><hr><center>fake-moodys</center></body></html>"
)
