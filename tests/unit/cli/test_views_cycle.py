"""``irpctl cycle create`` says which ACTIVE cycle it archived, by name."""

from __future__ import annotations

from irpd.cli.views import View, cycle_created


def test_a_new_cycle_names_the_cycle_it_archived() -> None:
    archived = {"id": 1, "cycle_name": "2026Q3", "status": "ARCHIVED", "created_ts": "t0"}
    text = cycle_created({"id": 2, "cycle_name": "2026Q4", "archived_cycle": archived}, View())
    assert "archived_cycle  2026Q3 (id 1): it was the ACTIVE cycle" in text
    assert "{" not in text


def test_a_first_cycle_archived_none() -> None:
    text = cycle_created({"id": 1, "cycle_name": "2026Q4", "archived_cycle": None}, View())
    assert "archived_cycle  -" in text
