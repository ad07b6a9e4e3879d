"""Creases: an oblique straight line cut into sticks is no column of 1s."""

from __future__ import annotations

import cv2
import numpy as np

from digitpad.segment import segment
from digitpad.segment.creases import drop_crease_sticks
from digitpad.types import Box


def _squared_page(h: int = 600, w: int = 500, cell: int = 45) -> np.ndarray:
    img = np.full((h, w, 3), 250, np.uint8)
    for x in range(10, w, cell):
        cv2.line(img, (x, 0), (x, h - 1), (160, 180, 235), 2)
    for y in range(10, h, cell):
        cv2.line(img, (0, y), (w - 1, y), (160, 180, 235), 2)
    return img


def _fold_x(y: int) -> int:
    return round(150 + 110 * y / 599)


def test_fold_across_squared_paper_gives_no_digits_digits_beside_it_stay() -> None:
    img = _squared_page()
    # a faint fold, broken where it crossed each ruling (as the grid's removal leaves it)
    for y in range(14, 590, 45):
        top, bottom = y + 3, y + 40
        cv2.line(img, (_fold_x(top), top), (_fold_x(bottom), bottom), (150, 150, 150), 2)
    for i, x in enumerate((330, 375, 420)):  # a number drawn in the cells beside it
        cv2.putText(img, "347"[i], (x, 330), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (30, 30, 30), 3)
    boxes = segment(img).boxes
    assert len(boxes) == 3
    assert all(b.x0 >= 320 for b in boxes)


def test_a_column_of_ones_stays_even_when_each_one_leans() -> None:
    img = _squared_page()
    for row in range(5):  # a thin 1 in each cell of a column, all leaning the same way
        y = 58 + 45 * row
        cv2.line(img, (208, y), (200, y + 32), (30, 30, 30), 2)
        cv2.line(img, (308, y), (308, y + 32), (30, 30, 30), 2)  # and upright ones beside
    boxes = segment(img).boxes
    assert len(boxes) == 10


def test_drop_crease_sticks_needs_three_sticks_on_one_oblique_line() -> None:
    mask = np.zeros((300, 300), bool)
    boxes = []
    for k, (y0, y1) in enumerate(((10, 50), (60, 100), (110, 150))):
        for y in range(y0, y1):
            mask[y, 40 + int(0.3 * y)] = True
        xs = [40 + int(0.3 * y) for y in range(y0, y1)]
        boxes.append(Box(min(xs), y0, max(xs) + 1, y1))
        if k == 1:
            two = list(boxes)
    others = [Box(200, 10, 230, 50), Box(240, 10, 270, 50), Box(200, 60, 230, 100)]
    assert drop_crease_sticks(mask, two + others[:1], 40.0) == two + others[:1]
    assert drop_crease_sticks(mask, boxes + others, 40.0) == others
