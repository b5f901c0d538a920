"""The degraded-state probe over the database's refusals (dbdays' DatabaseHealth.degraded)."""

from __future__ import annotations

from irpd.engine.health import Degradation
from irpd.notify.service import _refusals


def test_no_refusal_is_no_degradation() -> None:
    assert _refusals({}) is None


def test_refusals_name_the_first_statement_and_count_the_rest() -> None:
    first = Degradation("tracker_record", "42501", "permission denied for table irp_job", 0, 0)
    second = Degradation("lease_renew", "42501", "permission denied for table irp_shard", 0, 0)
    reason = _refusals({"tracker_record": first, "lease_renew": second})
    assert reason == (
        "PostgreSQL refuses tracker_record (42501): permission denied for table irp_job "
        "and 1 more"
    )
