"""Levelling a tilted box of ink by a vertical shear: the slope of its edge, and an exact way
back."""

from __future__ import annotations

import cv2
import numpy as np

from digitpad.segment.shear import edge_slope, shear_offsets, sheared, unsheared


def _tilted_frame(slope: float, w: int = 240, h: int = 50) -> np.ndarray:
    m = np.zeros((h + 20, w), np.uint8)
    for y in (10, 10 + h - 12):
        cv2.line(m, (0, y), (w - 1, round(y + slope * (w - 1))), 1, 1)
    return m.astype(bool)


def test_the_slope_of_a_tilted_frame_is_found_and_levelled() -> None:
    m = _tilted_frame(0.035)  # 2 degrees
    slope = edge_slope(m)
    assert slope is not None and abs(slope - 0.035) < 0.004
    level = sheared(m, shear_offsets(m.shape[1], slope))
    # each line lies in at most three rows once levelled (two roundings)
    rows = np.flatnonzero(level.any(axis=1))
    assert len(rows) <= 6


def test_digits_crossing_the_top_line_do_not_pull_the_fit() -> None:
    m = _tilted_frame(-0.03)
    for x in range(20, 220, 40):  # strokes rising above the top line
        m[0:14, x : x + 3] = True
    slope = edge_slope(m)
    assert slope is not None and abs(slope + 0.03) < 0.004


def test_no_slope_for_a_blob_or_a_steep_line() -> None:
    blob = np.zeros((60, 60), np.uint8)
    cv2.circle(blob, (30, 30), 20, 1, 3)
    assert edge_slope(blob.astype(bool)) is None
    assert edge_slope(_tilted_frame(0.2)) is None  # 11 degrees: no form line on a page
    assert edge_slope(np.zeros((5, 3), bool)) is None


def test_shear_and_back_is_exact() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, (40, 90)).astype(np.uint8)
    off = shear_offsets(90, -0.05)
    assert (unsheared(sheared(a, off), off, 40) == a).all()
