"""Ordering groups that contain groups: dependency order and the cycles that prevent one.

Pure and iterative (no recursion), so a long chain of nested groups cannot overflow the stack.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence


def dependency_order(
    edges: Mapping[str, Sequence[str]],
) -> tuple[list[str], list[list[str]]]:
    """Order the keys of ``edges`` so that each comes after the keys it names.

    Names that are not keys (e.g. analyses) are ignored. Returns the ordered keys that are not
    caught in a cycle, and each cycle as the list of its members in walking order (a
    self-reference is a cycle of one). Keys downstream of a cycle are in neither list.
    """
    needs = {node: {d for d in deps if d in edges} for node, deps in edges.items()}
    needed_by: dict[str, list[str]] = {node: [] for node in edges}
    for node, deps in needs.items():
        for dep in deps:
            needed_by[dep].append(node)
    waiting = {node: len(deps) for node, deps in needs.items()}
    ready = deque(node for node in edges if waiting[node] == 0)
    order: list[str] = []
    while ready:
        node = ready.popleft()
        order.append(node)
        for user in needed_by[node]:
            waiting[user] -= 1
            if waiting[user] == 0:
                ready.append(user)
    blocked = [node for node in edges if waiting[node] > 0]
    return order, _cycles(blocked, needs, set(order))


def _cycles(blocked: list[str], needs: Mapping[str, set[str]], done: set[str]) -> list[list[str]]:
    """Each node left blocked needs another blocked node, so walking always meets a cycle."""
    cycles: list[list[str]] = []
    visited: set[str] = set()
    for start in blocked:
        path: list[str] = []
        position: dict[str, int] = {}
        node = start
        while node not in visited:
            visited.add(node)
            position[node] = len(path)
            path.append(node)
            node = min(dep for dep in needs[node] if dep not in done)
        if node in position:
            cycles.append(path[position[node] :])
    return cycles
