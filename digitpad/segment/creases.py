"""Creases and scanner streaks: a long straight oblique line cut into digit-sized sticks.

A fold across a scanned page, or a streak, is a faint straight line. On squared paper the grid's
removal cuts it at every ruling it crosses, and a broken or faint one falls apart by itself:
what is left is a row of thin straight sticks, each of which reads as a "1". Sticks on one
oblique straight line, each lying along that line, are no digits: handwritten 1s in a column
stand one under the other (their centres line up vertically even when each one leans), and a
1's flag or foot leaves its ink off a straight line.
"""

from __future__ import annotations

import numpy as np

from digitpad.types import Box

CREASE_MIN_STICKS = 3  # at least this many sticks on one line make a crease
CREASE_MIN_SLOPE = 0.15  # |dx/dy| of a crease: oblique, unlike a column of 1s
CREASE_MIN_SPAN = 3.0  # ...spanning at least this many typical digit heights
STICK_MAX_RESIDUAL = 1.0  # a stick's ink lies within this (pixels, RMS) of its straight line
SLOPE_TOLERANCE = 0.08  # sticks of one crease agree in slope within this
OFFSET_TOLERANCE = 0.1  # ...and each one's line passes this close (of its height) to the others
STROKE_PX = 3.0  # about a stroke's width: a thin box's width less this is its lean
CHUNK = 256  # boxes compared with every other at once: 256 x 5,000 pairs is a few megabytes


def drop_crease_sticks(mask: np.ndarray, boxes: list[Box], typical: float) -> list[Box]:
    """``boxes`` (in ``mask`` pixels) without the sticks of oblique straight lines.

    A stick is a box whose ink fits a straight line ``x = slope * y + offset`` (with
    ``|slope| >= CREASE_MIN_SLOPE``) within ``STICK_MAX_RESIDUAL``. At least
    ``CREASE_MIN_STICKS`` sticks that agree on one such line, spanning ``CREASE_MIN_SPAN``
    times the page's ``typical`` digit height from the first to the last, are dropped. Pure;
    keeps the order of ``boxes``.
    """
    thin = [b for b in boxes if b.width <= 0.7 * b.height]
    if len(thin) < CREASE_MIN_STICKS:
        return boxes
    # this runs on every page: the boxes' geometry rules most pages out before any pixel is
    # read (a row of digits spans no three digit heights; sticks must line up obliquely)
    if max(b.y1 for b in thin) - min(b.y0 for b in thin) < CREASE_MIN_SPAN * typical:
        return boxes
    thin = _lined_up(thin)
    if len(thin) < CREASE_MIN_STICKS:
        return boxes
    sticks = [(b, line) for b in thin if (line := _stick_line(mask, b)) is not None]
    if len(sticks) < CREASE_MIN_STICKS:
        return boxes
    drop = _crease_members(sticks, typical)
    return [b for b in boxes if b not in drop] if drop else boxes


def _crease_members(sticks: list[tuple[Box, tuple[float, float]]], typical: float) -> set[Box]:
    """The sticks lying on some stick's line with enough others to be a crease. A stick lies
    on a line when its slope is within ``SLOPE_TOLERANCE`` of the line's and its centre within
    ``OFFSET_TOLERANCE`` of its height (2 px at least) of it. Every line is held against every
    stick at once, ``CHUNK`` lines at a time: a page of thousands of marks (hatching, a
    texture) took 14 s one pair at a time."""
    xy = np.array([(b.x0, b.y0, b.x1, b.y1) for b, _ in sticks], np.float64)
    lines = np.array([line for _, line in sticks], np.float64)
    cx, cy = (xy[:, 0] + xy[:, 2]) / 2, (xy[:, 1] + xy[:, 3]) / 2
    reach = np.maximum(2.0, OFFSET_TOLERANCE * (xy[:, 3] - xy[:, 1]))
    crease = np.zeros(len(sticks), bool)
    for lo in range(0, len(sticks), CHUNK):
        slope, offset = lines[lo : lo + CHUNK, :1], lines[lo : lo + CHUNK, 1:]
        on = (np.abs(lines[None, :, 0] - slope) <= SLOPE_TOLERANCE) & (
            np.abs(slope * cy[None, :] + offset - cx[None, :]) <= reach[None, :]
        )
        top = np.where(on, xy[None, :, 1], np.inf).min(axis=1)
        bottom = np.where(on, xy[None, :, 3], -np.inf).max(axis=1)
        found = (on.sum(axis=1) >= CREASE_MIN_STICKS) & (bottom - top >= CREASE_MIN_SPAN * typical)
        crease |= on[found].any(axis=0)
    return {b for (b, _), c in zip(sticks, crease, strict=True) if c}


def _lined_up(thin: list[Box]) -> list[Box]:
    """The boxes of ``thin`` with at least ``CREASE_MIN_STICKS - 1`` others whose centres lie
    on an oblique line through their own centre as steep as the box itself (its lean, without
    its sign)."""
    xy = np.array([((b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2, b.width, b.height) for b in thin])
    cx, cy, w, h = xy.T
    lean = np.maximum(w - STROKE_PX, 0.0) / h
    partners = np.zeros(len(thin), np.intp)
    for lo in range(0, len(thin), CHUNK):
        rows = slice(lo, lo + CHUNK)
        dx = np.abs(cx[None, :] - cx[rows, None])
        dy = np.abs(cy[None, :] - cy[rows, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = dx / dy
        apart = dy >= 0.5 * h[rows, None]
        steep = (slope >= CREASE_MIN_SLOPE) & (
            np.abs(slope - lean[rows, None]) <= 2 * SLOPE_TOLERANCE
        )
        partners[rows] = np.count_nonzero(apart & steep, axis=1)
    return [b for b, n in zip(thin, partners, strict=True) if n >= CREASE_MIN_STICKS - 1]


def _stick_line(mask: np.ndarray, b: Box) -> tuple[float, float] | None:
    """``(slope, offset)`` of the straight oblique line the ink of a thin box ``b`` lies on, in
    ``mask`` pixels, or None when it is no straight oblique stick."""
    ys, xs = np.nonzero(mask[b.y0 : b.y1, b.x0 : b.x1])
    if ys.size < b.height:
        return None
    # least squares x = slope * y + offset, in closed form (np.polyfit costs far more here)
    yf, xf = ys - ys.mean(), xs - xs.mean()
    slope = float(np.dot(yf, xf) / max(float(np.dot(yf, yf)), 1e-9))
    if abs(slope) < CREASE_MIN_SLOPE:
        return None
    residual = float(np.sqrt(np.mean((xf - slope * yf) ** 2)))
    if residual > STICK_MAX_RESIDUAL:
        return None
    return slope, float(xs.mean() + b.x0 - slope * (ys.mean() + b.y0))
