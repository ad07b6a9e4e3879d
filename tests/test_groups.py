"""digitpad.groups: connected groups of an adjacency matrix, in a fixed order."""

from __future__ import annotations

import numpy as np

from digitpad.groups import connected_groups


def _reference(adjacent: np.ndarray) -> list[list[int]]:
    """Breadth first from each lowest unseen index, one node at a time."""
    seen: set[int] = set()
    out = []
    for start in range(len(adjacent)):
        if start in seen:
            continue
        members, frontier = [start], [start]
        seen.add(start)
        while frontier:
            nxt = sorted({int(j) for i in frontier for j in np.flatnonzero(adjacent[i])} - seen)
            seen.update(nxt)
            members += nxt
            frontier = nxt
        out.append(members)
    return out


def test_groups_match_a_plain_search_with_lone_nodes_and_chains() -> None:
    rng = np.random.default_rng(3)
    for n, density in ((0, 0.0), (1, 0.0), (7, 0.0), (30, 0.03), (60, 0.08), (40, 0.3)):
        upper = np.triu(rng.random((n, n)) < density, 1)
        adjacent = upper | upper.T
        got = [g.tolist() for g in connected_groups(adjacent)]
        assert got == _reference(adjacent)
        assert sorted(i for g in got for i in g) == list(range(n))
