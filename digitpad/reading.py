"""Turning recognised boxes into reading text: rows top to bottom, digits left to right.

Pure functions on boxes; no images, no model.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence

from digitpad.types import Box, Digit

# A row takes a digit when they overlap vertically by at least this share of the smaller height.
ROW_OVERLAP = 0.5
# A horizontal gap wider than this share of the row's typical digit height becomes a space.
SPACE_GAP = 0.8
# Upright printed lines part fields unless they run through the middle of more than this share
# of the page's digits: a squared page's grid, which handwriting ignores.
WALL_THROUGH_SHARE = 0.1


def group_rows(boxes: Sequence[Box]) -> list[list[int]]:
    """Indices of ``boxes`` grouped into rows (top to bottom), each row left to right.

    A box joins the row whose average top and bottom it overlaps most, by at least
    ``ROW_OVERLAP`` of the smaller height (the average keeps a tall "1" or a digit written a
    little high from pulling the row below into it). Failing that, it joins the row of its
    nearest neighbour in x when each of the two boxes' middles lies within the other's
    height (see :meth:`_Row.beside`): a line written or photographed at a slant, whose far
    end the average no longer reaches, stays one row. Otherwise it starts a new row.
    """
    order = sorted(range(len(boxes)), key=lambda i: (boxes[i].centre[1], boxes[i].x0))
    rows: list[_Row] = []
    for i in order:
        b = boxes[i]
        best, best_ov = None, 0.0
        for row in rows:
            if b.y1 <= row.top or b.y0 >= row.bottom:  # no member is level with it at all
                continue
            top, bottom = row.mean_span()
            ov = min(b.y1, bottom) - max(b.y0, top)
            if ov >= ROW_OVERLAP * min(b.height, bottom - top) and ov > best_ov:
                best, best_ov = row, ov
        if best is None:
            near = [(dx, k) for k, row in enumerate(rows) if (dx := row.beside(b)) is not None]
            best = rows[min(near)[1]] if near else None
        if best is None:
            best = _Row()
            rows.append(best)
        best.add(i, b)
    out = [sorted(row.members, key=lambda i: boxes[i].x0) for row in rows]
    out.sort(key=lambda row: min(boxes[i].y0 for i in row))
    return out


class _Row:
    """One row being grouped: its members, their spans in the order of their centres' x, the
    sums of their tops and bottoms, and how high and low they reach."""

    def __init__(self) -> None:
        self.members: list[int] = []
        self.top, self.bottom = math.inf, -math.inf  # the highest top, the lowest bottom
        self._xs: list[float] = []  # member centres' x, ascending
        self._spans: list[tuple[float, float]] = []  # their (top, bottom), in the same order
        self._sum_top = self._sum_bottom = 0.0

    def add(self, index: int, box: Box) -> None:
        """Take ``box`` (``boxes[index]``) into the row."""
        k = bisect.bisect(self._xs, box.centre[0])
        self._xs.insert(k, box.centre[0])
        self._spans.insert(k, (float(box.y0), float(box.y1)))
        self.members.append(index)
        self.top, self.bottom = min(self.top, box.y0), max(self.bottom, box.y1)
        self._sum_top += box.y0
        self._sum_bottom += box.y1

    def mean_span(self) -> tuple[float, float]:
        """The average top and bottom of the row's members."""
        n = len(self.members)
        return self._sum_top / n, self._sum_bottom / n

    def beside(self, box: Box) -> float | None:
        """How far in x the member nearest to ``box`` is, when that member and ``box`` sit
        side by side on one line: each one's middle within the other's height; else None."""
        xs, x = self._xs, box.centre[0]
        k = bisect.bisect(xs, x)
        near = k if k < len(xs) and (k == 0 or xs[k] - x < x - xs[k - 1]) else k - 1
        top, bottom = self._spans[near]
        if top < box.centre[1] < bottom and box.y0 < (top + bottom) / 2 < box.y1:
            return abs(x - xs[near])
        return None


def _neighbours_alone(
    row: list[int], boxes: Sequence[Box], frames: Sequence[Sequence[Box]]
) -> set[int]:
    """The positions k in ``row`` (indices of ``boxes``, left to right) whose box and the next
    one are each the only box of a cell, the two cells consecutive in one of ``frames``."""
    if not frames:
        return set()
    home = [_cell_of(boxes[i], frames) for i in row]
    alone = {c for c in home if c is not None and home.count(c) == 1}
    out = set()
    for k, (a, b) in enumerate(itertools.pairwise(home)):
        # the same frame, the next cell (alone holds no None)
        if a in alone and b in alone and (a[0], a[1] + 1) == b:  # type: ignore[index]
            out.add(k)
    return out


def _cell_of(box: Box, frames: Sequence[Sequence[Box]]) -> tuple[int, int] | None:
    """(frame, cell) indices of the cell holding ``box``'s centre, or None."""
    x, y = box.centre
    for f, frame in enumerate(frames):
        for c, cell in enumerate(frame):
            if cell.x0 <= x < cell.x1 and cell.y0 <= y < cell.y1:
                return f, c
    return None


def _fields_walls(boxes: Sequence[Box], walls: Sequence[Box]) -> list[Box]:
    """``walls`` that part fields: all of them, unless they run through the middle of more than
    ``WALL_THROUGH_SHARE`` of the digits ``boxes`` (a squared page's grid, written across)."""
    if not walls or not boxes:
        return []
    through = sum(any(_through(b, w) for w in walls) for b in boxes)
    return [] if through > WALL_THROUGH_SHARE * len(boxes) else list(walls)


def _through(box: Box, wall: Box) -> bool:
    """``wall`` runs through the middle of ``box`` (its middle three fifths), level with it."""
    inset = 0.2 * box.width
    return box.x0 + inset < wall.centre[0] < box.x1 - inset and wall.y0 <= box.centre[1] <= wall.y1


def _walled(prev: Box, cur: Box, walls: Sequence[Box]) -> bool:
    """A wall stands between ``prev`` and ``cur`` (left to right), level with both."""
    top, bottom = max(prev.centre[1], cur.centre[1]), min(prev.centre[1], cur.centre[1])
    return any(
        prev.centre[0] < w.centre[0] < cur.centre[0] and w.y0 <= bottom and w.y1 >= top
        for w in walls
    )


def reading_text(
    digits: Sequence[Digit], frames: Sequence[Sequence[Box]] = (), walls: Sequence[Box] = ()
) -> str:
    """The reading of ``digits``: rows separated by "\\n", wide gaps within a row as one space,
    but between two digits each alone in consecutive cells of one of ``frames`` (a form's row
    of boxes, its cells left to right: one number written a digit to a cell; a cell holding
    more is a field of its own, and so is another frame). Digits with one of the upright
    printed ``walls`` between them are in two fields (a table's cells), however close, unless
    the page's walls run through its digits (see :func:`_fields_walls`)."""
    boxes = [d.box for d in digits]
    walls = _fields_walls(boxes, walls)
    lines = []
    for row in group_rows(boxes):
        heights = sorted(boxes[i].height for i in row)
        typical = heights[len(heights) // 2]
        parts = [digits[row[0]].label]
        joined = _neighbours_alone(row, boxes, frames)
        for k, (prev, cur) in enumerate(itertools.pairwise(row)):
            gap = boxes[cur].x0 - boxes[prev].x1
            apart = gap > SPACE_GAP * typical or _walled(boxes[prev], boxes[cur], walls)
            if apart and k not in joined:
                parts.append(" ")
            parts.append(digits[cur].label)
        lines.append("".join(parts))
    return "\n".join(lines)
