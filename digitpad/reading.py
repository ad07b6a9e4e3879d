"""Turning recognised boxes into reading text: rows top to bottom, digits left to right.

Pure functions on boxes; no images, no model.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from digitpad.types import Box, Digit

# A row takes a digit when they overlap vertically by at least this share of the smaller height.
ROW_OVERLAP = 0.5
# A row's slant is taken as at most this (tan 19 degrees): steeper, a few boxes' centres are
# more likely digits written higher and lower than a line at that angle.
MAX_SLANT = 0.35
# A horizontal gap wider than this share of the row's typical digit height becomes a space.
SPACE_GAP = 0.8
# Upright printed lines part fields unless they run through the middle of more than this share
# of the page's digits: a squared page's grid, which handwriting ignores.
WALL_THROUGH_SHARE = 0.1


def group_rows(boxes: Sequence[Box]) -> list[list[int]]:
    """Indices of ``boxes`` grouped into rows (top to bottom), each row left to right.

    A box joins the row it overlaps most vertically, if that overlap is at least
    ``ROW_OVERLAP`` of the smaller height; otherwise it starts a new row. A row's span at the
    box is its member nearest in x, level or moved along the row's slant (see
    :func:`_span_at`): a line written or photographed at a slant stays one row, and its far
    end does not reach into the next one. Ties go to the row whose nearest member is nearer.
    """
    order = sorted(range(len(boxes)), key=lambda i: (boxes[i].centre[1], boxes[i].x0))
    rows: list[list[int]] = []
    for i in order:
        b = boxes[i]
        best, best_key = -1, (0.0, 0.0)
        for r, row in enumerate(rows):
            members = [boxes[j] for j in row]
            for slanted in (True, False):
                top, bottom, dx = _span_at(members, b.centre[0], slanted=slanted)
                ov = min(b.y1, bottom) - max(b.y0, top)
                if ov >= ROW_OVERLAP * min(b.height, bottom - top) and (ov, -dx) > best_key:
                    best, best_key = r, (ov, -dx)
        if best < 0:
            rows.append([i])
        else:
            rows[best].append(i)
    rows = [sorted(row, key=lambda i: boxes[i].x0) for row in rows]
    rows.sort(key=lambda row: min(boxes[i].y0 for i in row))
    return rows


def _span_at(row: Sequence[Box], x: float, *, slanted: bool) -> tuple[float, float, float]:
    """(top, bottom) of ``row`` at ``x``, and how far in x its nearest member is: that
    member's span, with the row's mean height, moved ``slanted`` by the row's slant (the
    least-squares slope of its centres, at most ``MAX_SLANT``; none for one box) over the
    distance. Two or three boxes give a slope that is mostly where each digit sat, so the
    row is also tried level."""
    near = min(row, key=lambda b: abs(b.centre[0] - x))
    dx = x - near.centre[0]
    slope = 0.0
    if slanted and len(row) > 1:
        xs = [b.centre[0] for b in row]
        ys = [b.centre[1] for b in row]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        sxx = sum((v - mx) ** 2 for v in xs)
        if sxx > 0:
            sxy = sum((u - mx) * (v - my) for u, v in zip(xs, ys, strict=True))
            slope = max(-MAX_SLANT, min(MAX_SLANT, sxy / sxx))
    centre = near.centre[1] + slope * dx
    half = sum(b.height for b in row) / len(row) / 2
    return centre - half, centre + half, abs(dx)


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
