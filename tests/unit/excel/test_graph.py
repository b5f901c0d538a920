"""Dependency order of nested groups, and the cycles that prevent one."""

from __future__ import annotations

from irpd.excel.graph import dependency_order


def test_children_come_before_their_parents() -> None:
    order, cycles = dependency_order({
        "all": ["east", "west", "analysis_1"],
        "east": ["analysis_2"],
        "west": ["east", "analysis_3"],
    })

    assert cycles == []
    assert order.index("east") < order.index("west") < order.index("all")


def test_cycles_are_found_once_and_downstream_groups_are_left_out() -> None:
    order, cycles = dependency_order({
        "a": ["b"], "b": ["c"], "c": ["a"], "self": ["self"], "top": ["a"], "ok": ["x"],
    })

    assert order == ["ok"]
    assert sorted(sorted(cycle) for cycle in cycles) == [["a", "b", "c"], ["self"]]


def test_a_long_chain_needs_no_recursion() -> None:
    chain = {f"g{i}": [f"g{i + 1}"] for i in range(50_000)}

    order, cycles = dependency_order(chain)

    assert cycles == []
    assert order[0] == "g49999"
    assert order[-1] == "g0"
