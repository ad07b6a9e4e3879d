"""Faint digits broken into fragments, put back together when the classifier reads them whole.

Faint pencil fades along a stroke: the segmenter's mask keeps the darker stretches of a "2"
(its top arc, the foot) and loses the diagonal between them. Each fragment alone reads "not a
digit" and is dropped, and the digit is lost. Grouping them in the segmenter would need a
reach that also joins the digits of a row; here the classifier judges instead: neighbouring
fragments whose union is the size of the page's digits are read together once, and the union
replaces them only when it reads as one digit more than as anything else. Pure functions.
"""

from __future__ import annotations

import numpy as np

from digitpad.types import NOT_DIGIT_INDEX, NOT_DIGIT_LEVEL, Box

# A fragment: a box read "not a digit" (NOT_DIGIT_LEVEL) and shorter than this share of the
# page's typical digit (a whole letter is not one).
FRAGMENT_MAX_HEIGHT = 0.9
# Fragments within this share of the typical digit height of each other are neighbours.
FRAGMENT_REACH = 0.3
# A union is digit-sized: its height within these shares of the typical digit's, its width
# at most MAX_WIDTH of the typical height (a digit is taller than wide).
UNION_MIN_HEIGHT = 0.6
UNION_MAX_HEIGHT = 1.3
UNION_MAX_WIDTH = 1.0
# A union replaces its fragments when read as one digit at least this surely. Not 0.9: the
# union of a broken digit still holds its gaps and often reads about 0.7 (400 fresh pages: 0.9
# took 2 unions, 0.6 two more, read 0.71 and 0.76 as their true digits; on 800 pages 0.6 took
# 6, each on a true digit with its label).
UNION_SURE = 0.6


def typical_digit_height(boxes: list[Box], probs: np.ndarray) -> float | None:
    """The median height of the boxes read as a digit (``probs`` (N, 11) rows of ``boxes``),
    or None when none is."""
    digit = probs[:, NOT_DIGIT_INDEX] < NOT_DIGIT_LEVEL
    heights = [b.height for b, d in zip(boxes, digit, strict=True) if d]
    return float(np.median(heights)) if heights else None


def fragment_unions(boxes: list[Box], probs: np.ndarray) -> list[tuple[Box, tuple[int, ...]]]:
    """Digit-sized unions of neighbouring fragments, each with the indices of its fragments
    into ``boxes`` (see the module's constants); no box is in two unions."""
    typical = typical_digit_height(boxes, probs)
    if typical is None:
        return []
    frag = [
        i
        for i, (b, p) in enumerate(zip(boxes, probs, strict=True))
        if p[NOT_DIGIT_INDEX] >= NOT_DIGIT_LEVEL and b.height < FRAGMENT_MAX_HEIGHT * typical
    ]
    reach = FRAGMENT_REACH * typical
    out = []
    for group in _neighbour_groups([boxes[i] for i in frag], reach):
        if len(group) < 2:
            continue
        members = tuple(frag[k] for k in group)
        union = boxes[members[0]]
        for i in members[1:]:
            union = union.union(boxes[i])
        if (
            UNION_MIN_HEIGHT * typical <= union.height <= UNION_MAX_HEIGHT * typical
            and union.width <= UNION_MAX_WIDTH * typical
        ):
            out.append((union, members))
    return out


def sure_unions(unions: list[tuple[Box, tuple[int, ...]]], probs: np.ndarray) -> list[int]:
    """Indices of the ``unions`` whose reading (``probs`` (N, 11), one row each) is one digit
    at least ``UNION_SURE``."""
    return [k for k in range(len(unions)) if probs[k, :NOT_DIGIT_INDEX].max() >= UNION_SURE]


def _neighbour_groups(boxes: list[Box], reach: float) -> list[list[int]]:
    """Indices of ``boxes`` grouped by chains of neighbours: boxes whose gap, across and down,
    is at most ``reach``."""
    parent = list(range(len(boxes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            b = boxes[j]
            gap_x = max(a.x0 - b.x1, b.x0 - a.x1)
            gap_y = max(a.y0 - b.y1, b.y0 - a.y1)
            if gap_x <= reach and gap_y <= reach:
                parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(boxes)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())
