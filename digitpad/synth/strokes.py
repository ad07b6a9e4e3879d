"""Stroke skeleton geometry: splines, arcs, elastic perturbation and rasterising.

A *glyph skeleton* is a list of strokes (pen-down to pen-up). A stroke is a list of *pieces*;
each piece is a sequence of control points in a unit box (x right, y down, both roughly in
[0, 1]) through which a smooth Catmull-Rom curve passes. Consecutive pieces of one stroke share
their end point, which gives a sharp corner without lifting the pen (the top of a 7). Gaps can
only appear between strokes, which is how a broken, two-stroke 4 or 5 is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

Point = tuple[float, float]
Piece = Sequence[Point]
Stroke = Sequence[Piece]
Skeleton = Sequence[Stroke]


def arc(
    cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 0
) -> list[Point]:
    """Points on an ellipse from angle ``a0`` to ``a1`` degrees (0 = right, 90 = down).

    ``n`` points including both ends; by default one point per 45 degrees (at least 3).
    """
    if n <= 0:
        n = max(3, int(abs(a1 - a0) / 45.0) + 2)
    t = np.radians(np.linspace(a0, a1, n))
    return [(float(cx + rx * np.cos(a)), float(cy + ry * np.sin(a))) for a in t]


def catmull_rom(points: np.ndarray, samples_per_span: int) -> np.ndarray:
    """A smooth curve through ``points`` (K, 2): (M, 2) with the ends kept exactly.

    Two points give a straight line; the end tangents reuse the end points (no overshoot).
    """
    k = len(points)
    if k < 2:
        return points.copy()
    p = np.concatenate([points[:1], points, points[-1:]], axis=0)
    t = np.linspace(0.0, 1.0, samples_per_span, endpoint=False)[:, None]
    t2, t3 = t * t, t * t * t
    # Uniform Catmull-Rom basis for every span at once: (spans, samples, 2).
    p0, p1, p2, p3 = p[:-3, None], p[1:-2, None], p[2:-1, None], p[3:, None]
    seg = 0.5 * (
        2.0 * p1
        + (p2 - p0) * t
        + (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3) * t2
        + (3.0 * p1 - p0 - 3.0 * p2 + p3) * t3
    )
    return np.concatenate([seg.reshape(-1, 2), points[-1:]], axis=0)


@dataclass(frozen=True)
class Warp:
    """A smooth random displacement field (elastic perturbation) over the unit box.

    Being a function of position, it moves the shared end points of two pieces identically,
    so corners stay joined while the whole shape bends.
    """

    freqs: np.ndarray  # (K, 2, 2): per term, a 2-D frequency for the x and the y displacement
    phases: np.ndarray  # (K, 2)
    amps: np.ndarray  # (K, 2)

    @classmethod
    def random(cls, rng: np.random.Generator, strength: float, terms: int = 3) -> Warp:
        """A field whose displacements are roughly ``strength`` unit-box widths."""
        freqs = rng.uniform(-1.6, 1.6, size=(terms, 2, 2))
        phases = rng.uniform(0.0, 2.0 * np.pi, size=(terms, 2))
        amps = rng.normal(0.0, strength / np.sqrt(terms), size=(terms, 2))
        return cls(freqs, phases, amps)

    def __call__(self, pts: np.ndarray) -> np.ndarray:
        # arg[n, k, c] = 2*pi * (pts[n] . freqs[k, c]) + phase[k, c]
        arg = 2.0 * np.pi * np.einsum("nd,kcd->nkc", pts, self.freqs) + self.phases[None]
        return pts + np.einsum("nkc,kc->nc", np.sin(arg), self.amps)


def affine(
    *, scale_x: float, scale_y: float, slant: float, rotation: float, centre: Point = (0.5, 0.5)
) -> np.ndarray:
    """A 2x3 matrix: scale, then shear by ``slant`` (x += slant * (centre_y - y)), then rotate.

    A positive slant leans the top to the right, like most right-handed writing.
    """
    cx, cy = centre
    s = np.array([[scale_x, 0.0], [0.0, scale_y]])
    sh = np.array([[1.0, -slant], [0.0, 1.0]])
    c, si = np.cos(rotation), np.sin(rotation)
    r = np.array([[c, -si], [si, c]])
    m = r @ sh @ s
    t = np.array([cx, cy]) - m @ np.array([cx, cy])
    return np.concatenate([m, t[:, None]], axis=1)


def apply_affine(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """``pts`` (N, 2) mapped by the 2x3 matrix ``m``."""
    return pts @ m[:, :2].T + m[:, 2]


@dataclass(frozen=True)
class Polyline:
    """A dense stroke ready to draw: points in pixels and a width in pixels per point."""

    points: np.ndarray  # (N, 2) float
    widths: np.ndarray  # (N,) float


def rasterise(
    lines: Sequence[Polyline], *, margin: int = 2, supersample: int = 4
) -> tuple[np.ndarray, tuple[float, float]]:
    """Draw ``lines`` (pixel coordinates) as anti-aliased ink with round caps.

    Returns the float32 ink image in [0, 1] and the pixel offset (ox, oy) that was subtracted
    from the input coordinates (so a point p lands at p - offset in the image). The image has
    ``margin`` blank pixels around the ink. Anti-aliasing comes from drawing at ``supersample``
    times the resolution and averaging down.
    """
    pts_all = np.concatenate([pl.points for pl in lines], axis=0)
    wmax = max(float(pl.widths.max()) for pl in lines)
    lo = np.floor(pts_all.min(axis=0) - wmax / 2.0) - margin
    hi = np.ceil(pts_all.max(axis=0) + wmax / 2.0) + margin
    w = int(hi[0] - lo[0]) + 1
    h = int(hi[1] - lo[1]) + 1
    ss = supersample
    canvas = np.zeros((h * ss, w * ss), np.uint8)
    for pl in lines:
        _draw_polyline(canvas, (pl.points - lo) * ss, pl.widths * ss)
    ink = cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    ink *= 1.0 / 255.0
    return ink, (float(lo[0]), float(lo[1]))


def _draw_polyline(canvas: np.ndarray, pts: np.ndarray, widths: np.ndarray) -> None:
    """Draw one stroke; runs of equal (integer) thickness go in one cv2.polylines call."""
    thick = np.maximum(1, np.rint(widths).astype(np.int32))
    ipts = np.rint(pts).astype(np.int32)
    n = len(ipts)
    if n == 1:
        cv2.circle(canvas, (int(ipts[0, 0]), int(ipts[0, 1])), max(1, int(thick[0]) // 2), 255, -1)
        return
    # Segment i joins point i and i+1 and gets the mean thickness of its ends.
    seg_t = np.maximum(1, np.rint((widths[:-1] + widths[1:]) / 2.0).astype(np.int32))
    change = np.flatnonzero(np.diff(seg_t)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [n - 1]])
    for s, e in zip(starts, ends, strict=True):
        cv2.polylines(canvas, [ipts[s : e + 1]], False, 255, int(seg_t[s]), cv2.LINE_8)
