"""Percentiles of the small arrays segmentation looks at, exactly as ``np.percentile`` computes
them (linear interpolation, same rounding), without its general machinery: on tens of box
heights or 16 rows of paper levels, numpy's call overhead is many times the work, and these run
on every page."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def percentile_sorted(values: np.ndarray, q: float) -> np.ndarray:
    """``np.percentile(values, q, axis=-1)`` for one ``q`` of ``values`` already sorted along
    the last axis (non-empty): a scalar for 1-D input, one value per row for 2-D."""
    lo, hi, t = _position(values.shape[-1], q)
    a, b = _as_float(values[..., lo]), _as_float(values[..., hi])
    return _lerp(a, b, t)  # a Python float t: numpy's rounding for a single q


def percentile_of_counts(
    values: np.ndarray, counts: np.ndarray, qs: Sequence[float]
) -> list[float]:
    """``np.percentile(arr, qs)`` (a list of ``qs``) of the array ``arr`` holding ``values[i]``
    ``counts[i]`` times (``values`` ascending, ``counts.sum() > 0``), without building it."""
    ends = np.cumsum(counts)
    out = []
    for q in qs:
        lo, hi, t = _position(int(ends[-1]), q)
        # the element at sorted position k is values[first i with ends[i] > k]
        a, b = _as_float(values[np.searchsorted(ends, [lo, hi], side="right")])
        out.append(float(_lerp(a, b, np.float64(t))))  # numpy's float64 weights for a list
    return out


def _position(n: int, q: float) -> tuple[int, int, float]:
    """The two sorted positions around the ``q``-th percentile of ``n`` values, and the weight
    of the upper one (numpy's "linear" method)."""
    pos = (n - 1) * (q / 100.0)
    lo = int(pos)
    return lo, min(lo + 1, n - 1), pos - lo


def _as_float(x: np.ndarray) -> np.ndarray:
    """Floats stay in their precision; integers become float64 (numpy does the same)."""
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def _lerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """numpy's interpolation: from the nearer end, so t = 0 and t = 1 give exactly a and b."""
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t
