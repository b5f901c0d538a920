"""The precomputed lookups and the transitions Machines agree; tables are validated."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import pytest

from statemachines.batch import BATCH_LIFECYCLE
from statemachines.configuration import CONFIGURATION_LIFECYCLE
from statemachines.errors import IllegalTransition
from statemachines.job import JOB_LIFECYCLE, JOB_REPORT_LIFECYCLE
from statemachines.lifecycle import Lifecycle, Transition

LIFECYCLES: list[Lifecycle[Any]] = [
    CONFIGURATION_LIFECYCLE,
    BATCH_LIFECYCLE,
    JOB_LIFECYCLE,
    JOB_REPORT_LIFECYCLE,
]


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: f"{lc.entity}-{lc.initial}")
def test_lookup_and_machine_agree_on_every_state_and_trigger(
    lifecycle: Lifecycle[Any],
) -> None:
    for state in lifecycle.states:
        for trigger in (*lifecycle.triggers, "no_such_trigger"):
            try:
                by_lookup: StrEnum | str = lifecycle.next(7, state, trigger)
            except IllegalTransition as error:
                by_lookup = str(error)
            try:
                by_machine: StrEnum | str = lifecycle.fire(7, state, trigger)
            except IllegalTransition as error:
                by_machine = str(error)
            assert by_lookup == by_machine, (state, trigger)


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: f"{lc.entity}-{lc.initial}")
def test_machine_offers_exactly_the_lookup_triggers(lifecycle: Lifecycle[Any]) -> None:
    for state in lifecycle.states:
        from_lookup = {trigger for (source, trigger) in lifecycle.lookup if source == state}
        assert set(lifecycle.machine.get_triggers(state)) == from_lookup


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: f"{lc.entity}-{lc.initial}")
def test_the_lookup_is_read_from_the_machine_and_matches_the_table(
    lifecycle: Lifecycle[Any],
) -> None:
    rows = {(src, row.trigger): row.dest for row in lifecycle.transitions for src in row.sources}
    assert dict(lifecycle.lookup) == rows
    assert lifecycle.pairs == {(src, dst) for (src, _), dst in rows.items()}


def test_firing_leaves_no_model_attached() -> None:
    before = list(JOB_LIFECYCLE.machine.models)
    JOB_LIFECYCLE.fire(1, JOB_LIFECYCLE.initial, "begin_submit")
    with pytest.raises(IllegalTransition):
        JOB_LIFECYCLE.fire(1, JOB_LIFECYCLE.initial, "acknowledge")
    assert JOB_LIFECYCLE.machine.models == before


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: f"{lc.entity}-{lc.initial}")
def test_lookup_is_frozen(lifecycle: Lifecycle[Any]) -> None:
    state = lifecycle.initial
    with pytest.raises(TypeError):
        lifecycle.lookup[(state, "x")] = state  # type: ignore[index]


class Light(StrEnum):
    RED = "RED"
    GREEN = "GREEN"


class Other(StrEnum):
    BLUE = "BLUE"


def _lifecycle(*rows: Transition[Light]) -> Lifecycle[Light]:
    return Lifecycle("Light", Light, Light.RED, frozenset(), rows)


def test_duplicate_source_and_trigger_is_rejected() -> None:
    with pytest.raises(ValueError, match="go from GREEN is defined twice"):
        _lifecycle(
            Transition("go", (Light.RED, Light.GREEN), Light.GREEN),
            Transition("go", (Light.GREEN,), Light.RED),
        )


def test_trigger_must_be_an_identifier() -> None:
    with pytest.raises(ValueError, match="not an identifier"):
        _lifecycle(Transition("go now", (Light.RED,), Light.GREEN))


def test_transition_needs_a_source() -> None:
    with pytest.raises(ValueError, match="has no source"):
        _lifecycle(Transition("go", (), Light.GREEN))


def test_statuses_must_belong_to_the_machine() -> None:
    with pytest.raises(ValueError, match="is not a Light"):
        _lifecycle(Transition("go", (Light.RED,), Other.BLUE))  # type: ignore[arg-type]


def test_lookup_accepts_plain_strings_from_the_database() -> None:
    light = _lifecycle(Transition("go", (Light.RED,), Light.GREEN))
    assert light.next(1, "RED", "go") is Light.GREEN  # type: ignore[arg-type]


def test_illegal_transition_carries_its_parts() -> None:
    light = _lifecycle(Transition("go", (Light.RED,), Light.GREEN))
    with pytest.raises(IllegalTransition) as caught:
        light.next(3, Light.GREEN, "go")
    error = caught.value
    assert (error.entity, error.entity_id, error.current, error.attempted) == (
        "Light",
        3,
        "GREEN",
        "go",
    )
    assert error.allowed_from == ("RED",)
    assert str(error) == "Light 3 is GREEN; cannot go (allowed from: RED)"
    assert error.kind == "IllegalTransition"


def test_unknown_trigger_message_says_so() -> None:
    light = _lifecycle(Transition("go", (Light.RED,), Light.GREEN))
    with pytest.raises(
        IllegalTransition, match=r"^Light 3 is RED; cannot fly \(not a light trigger\)$"
    ):
        light.next(3, Light.RED, "fly")
