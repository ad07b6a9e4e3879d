"""Connected groups of a symmetric boolean adjacency matrix (pure numpy)."""

from __future__ import annotations

import numpy as np


def connected_groups(adjacent: np.ndarray) -> list[np.ndarray]:
    """The connected groups of ``adjacent`` (N, N, symmetric), as index arrays: each starts at
    its lowest index, then follows breadth first; groups come in the order of their first index.
    Each step looks at a whole frontier at once, so a page's hundreds of boxes cost a few numpy
    calls per group, not a Python loop over every pair."""
    seen = np.zeros(len(adjacent), bool)
    # most boxes of a page stand alone: their groups need no search
    alone = (~adjacent.any(axis=1)).tolist()
    groups = []
    for start in range(len(adjacent)):
        if alone[start]:
            groups.append(np.array([start]))
            continue
        if seen[start]:
            continue
        members, frontier = [start], [start]
        seen[start] = True
        while frontier:
            nxt = np.flatnonzero(adjacent[frontier].any(axis=0) & ~seen)
            seen[nxt] = True
            members.extend(nxt.tolist())
            frontier = nxt.tolist()
        groups.append(np.array(members))
    return groups
