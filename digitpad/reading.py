"""Turning recognised boxes into reading text: rows top to bottom, digits left to right.

Pure functions on boxes; no images, no model.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from digitpad.types import Box, Digit

# A row takes a digit when they overlap vertically by at least this share of the smaller height.
ROW_OVERLAP = 0.5
# A horizontal gap wider than this share of the row's typical digit height becomes a space.
SPACE_GAP = 0.8


def group_rows(boxes: Sequence[Box]) -> list[list[int]]:
    """Indices of ``boxes`` grouped into rows (top to bottom), each row left to right.

    A box joins the row it overlaps most vertically (by the row's average top and bottom, so a
    slanted line of digits does not swallow the next row), if that overlap is at least
    ``ROW_OVERLAP`` of the smaller height; otherwise it starts a new row.
    """
    order = sorted(range(len(boxes)), key=lambda i: (boxes[i].centre[1], boxes[i].x0))
    rows: list[list[int]] = []
    spans: list[tuple[float, float]] = []  # running mean top and bottom of each row
    for i in order:
        b = boxes[i]
        best, best_ov = -1, 0.0
        for r, (top, bottom) in enumerate(spans):
            ov = min(b.y1, bottom) - max(b.y0, top)
            need = ROW_OVERLAP * min(b.height, bottom - top)
            if ov >= need and ov > best_ov:
                best, best_ov = r, ov
        if best < 0:
            rows.append([i])
            spans.append((float(b.y0), float(b.y1)))
        else:
            row = rows[best]
            n = len(row)
            top, bottom = spans[best]
            spans[best] = ((top * n + b.y0) / (n + 1), (bottom * n + b.y1) / (n + 1))
            row.append(i)
    rows = [sorted(row, key=lambda i: boxes[i].x0) for row in rows]
    rows.sort(key=lambda row: min(boxes[i].y0 for i in row))
    return rows


def _framed_together(a: Box, b: Box, frames: Sequence[Box]) -> bool:
    """Both boxes' centres lie inside one of ``frames``."""
    return any(_inside(a, f) and _inside(b, f) for f in frames)


def _inside(box: Box, frame: Box) -> bool:
    x, y = box.centre
    return frame.x0 <= x < frame.x1 and frame.y0 <= y < frame.y1


def reading_text(digits: Sequence[Digit], frames: Sequence[Box] = ()) -> str:
    """The reading of ``digits``: rows separated by "\\n", wide gaps within a row as one space,
    but between two digits inside one of ``frames`` (a form's row of boxes: one number)."""
    boxes = [d.box for d in digits]
    lines = []
    for row in group_rows(boxes):
        heights = sorted(boxes[i].height for i in row)
        typical = heights[len(heights) // 2]
        parts = [digits[row[0]].label]
        for prev, cur in itertools.pairwise(row):
            gap = boxes[cur].x0 - boxes[prev].x1
            if gap > SPACE_GAP * typical and not _framed_together(boxes[prev], boxes[cur], frames):
                parts.append(" ")
            parts.append(digits[cur].label)
        lines.append("".join(parts))
    return "\n".join(lines)
