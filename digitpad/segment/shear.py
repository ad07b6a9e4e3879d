"""Levelling a slightly tilted box of ink by a vertical shear, and back.

A form photographed a degree or three off level has tilted lines; shifting each column up or
down by its share of the tilt makes them level again, so the level line finder can read them,
and the pixels it finds are shifted back. A shear, not a rotation: every pixel moves along its
own column only, so nothing is resampled and the way back is exact.
"""

from __future__ import annotations

import numpy as np

MAX_TILT = 0.09  # slopes beyond this (about 5°) are no tilt of a level line on a page
TILT_INLIERS = 0.6  # share of columns whose edge lies on the fitted line for it to be a line
_NEAR_LINE = 2.0  # an edge within this (pixels) of the fitted line lies on it


def edge_slope(sub: np.ndarray) -> float | None:
    """The slope (rows per column) of the straight top or bottom edge of the bool mask ``sub``
    (the first or last ink of each column), whichever more columns follow; None when neither
    is straight along ``TILT_INLIERS`` of the columns or it is steeper than ``MAX_TILT``. Digits
    crossing a frame's line hide part of it; the fit is made again on the columns near the
    first fit, so they do not pull it."""
    cols = np.flatnonzero(sub.any(axis=0))
    if cols.size < 8:
        return None
    h = sub.shape[0]
    part = sub[:, cols]
    edges = (np.argmax(part, axis=0), h - 1 - np.argmax(part[::-1], axis=0))
    best: tuple[int, float] | None = None
    for edge in edges:
        fit = _robust_fit(cols.astype(np.float64), edge.astype(np.float64))
        if fit is not None and (best is None or fit[0] > best[0]):
            best = fit
    if best is None or best[0] < TILT_INLIERS * cols.size or abs(best[1]) > MAX_TILT:
        return None
    return best[1]


def _robust_fit(x: np.ndarray, y: np.ndarray) -> tuple[int, float] | None:
    """How many points lie near the line fitted through them (fitted twice: again through the
    points near the first fit), and its slope."""
    keep = np.ones(x.size, bool)
    for _ in range(2):
        if np.count_nonzero(keep) < 2 or np.ptp(x[keep]) == 0:
            return None
        slope, offset = line_fit(x[keep], y[keep])
        keep = np.abs(y - (slope * x + offset)) <= _NEAR_LINE
    return int(np.count_nonzero(keep)), float(slope)


def line_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and offset of the least-squares line through points (``x`` not all equal): by
    hand, as np.polyfit's checks cost more than the fit on a few hundred points."""
    dx = x - x.mean()
    slope = float((dx * (y - y.mean())).sum() / (dx * dx).sum())
    return slope, float(y.mean() - slope * x.mean())


def shear_offsets(width: int, slope: float) -> np.ndarray:
    """Per column, the rows (int) its pixels move up to level a line of ``slope``: none at the
    middle column."""
    return np.round(slope * (np.arange(width) - (width - 1) / 2)).astype(np.intp)


def sheared(a: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``a`` (H, W) with column x moved up by ``offsets[x]`` rows, in a taller array (padded by
    the largest offset above and below, zeros/False where nothing maps)."""
    h, w = a.shape
    pad = int(np.abs(offsets).max()) if offsets.size else 0
    rows = np.arange(h + 2 * pad)[:, None] - pad + offsets[None, :]
    cols = np.broadcast_to(np.arange(w)[None, :], rows.shape)
    inside = (rows >= 0) & (rows < h)
    out = np.zeros((h + 2 * pad, w), a.dtype)
    out[inside] = a[rows[inside], cols[inside]]
    return out


def unsheared(a: np.ndarray, offsets: np.ndarray, height: int) -> np.ndarray:
    """The inverse of :func:`sheared` for an array ``a`` it gave from one ``height`` rows high."""
    pad = (a.shape[0] - height) // 2
    rows = np.arange(a.shape[0])[:, None] - pad + offsets[None, :]
    cols = np.broadcast_to(np.arange(a.shape[1])[None, :], rows.shape)
    inside = (rows >= 0) & (rows < height)
    out = np.zeros((height, a.shape[1]), a.dtype)
    out[rows[inside], cols[inside]] = a[inside]
    return out
