"""Writing styles: how a skeleton becomes pen strokes (family, slant, width, jitter...).

A family is a writing instrument and way of writing: ``pen`` (ballpoint on paper, tapered
ends, pressure), ``mouse`` (drawn on screen: thin, jittery, sparse polyline, broken strokes),
``marker`` (thick felt tip, like scanned forms) and ``pencil`` (light, grainy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitpad.synth.strokes import Polyline, Skeleton, Warp, affine, apply_affine, catmull_rom

FAMILIES: tuple[str, ...] = ("pen", "mouse", "marker", "pencil")
MIN_WIDTH_PX = 1.0
MAX_WIDTH_PX = 8.0


@dataclass(frozen=True)
class Style:
    """Every random choice about how one glyph is written, drawn once per glyph."""

    family: str
    slant: float  # shear, top to the right when positive
    rotation: float  # radians
    aspect: float  # width / height of the unit box
    warp: float  # elastic perturbation strength, unit-box widths
    width_rel: float  # pen width / glyph height
    pressure: float  # relative width variation along a stroke
    taper: bool  # thinner at both ends of a stroke (pen lifts)
    jitter: float  # random-walk wobble, pixels (mouse)
    sparse: float  # pixels between sampled points (mouse: straight segments between samples)
    offset: float  # displacement of later strokes, unit-box heights (broken joins)
    intensity: float  # peak ink darkness
    grain: float  # pencil texture strength
    rough: float  # marker: ragged, thresholded edges (0 = smooth anti-aliased)


def sample_style(family: str, rng: np.random.Generator) -> Style:
    """A random style of ``family`` (one of FAMILIES). Raises ValueError for another family."""
    if family not in FAMILIES:
        raise ValueError(f"unknown style family {family!r}; expected one of {FAMILIES}")
    u = rng.uniform
    common = dict(
        family=family,
        slant=float(rng.normal(0.07, 0.14)),
        rotation=float(rng.normal(0.0, 0.06)),
        aspect=float(u(0.4, 1.0)),
        warp=float(u(0.015, 0.06)),
        taper=False,
        jitter=0.0,
        sparse=0.0,
        intensity=1.0,
        grain=0.0,
        rough=0.0,
    )
    if family == "pen":
        specific = dict(
            width_rel=float(u(0.04, 0.12)),
            pressure=float(u(0.05, 0.3)),
            taper=bool(rng.random() < 0.6),
            offset=float(u(0.0, 0.03)),
            intensity=float(u(0.75, 1.0)),
        )
    elif family == "mouse":
        specific = dict(
            slant=common["slant"] * 0.6,
            warp=common["warp"] * 1.3,
            width_rel=float(u(0.04, 0.13)),
            pressure=float(u(0.0, 0.1)),
            jitter=float(u(0.1, 0.7)),
            sparse=float(u(2.0, 6.0)),
            offset=float(u(0.0, 0.06)),
        )
    elif family == "marker":
        # Felt tip on a form, scanned at 300 dpi and thresholded: thick, blunt, hard edges.
        specific = dict(
            aspect=float(u(0.45, 1.1)),
            width_rel=float(u(0.14, 0.45)),
            pressure=float(u(0.0, 0.15)),
            offset=float(u(0.0, 0.02)),
            rough=float(u(0.0, 0.5)) if rng.random() < 0.5 else 0.0,
        )
    else:  # pencil
        specific = dict(
            width_rel=float(u(0.03, 0.08)),
            pressure=float(u(0.1, 0.35)),
            taper=bool(rng.random() < 0.5),
            offset=float(u(0.0, 0.03)),
            intensity=float(u(0.55, 0.9)),
            grain=float(u(0.2, 0.5)),
        )
    return Style(**(common | specific))


def fitting_height(style: Style, height: int) -> int:
    """``height``, lowered if needed so the style's pen fits MAX_WIDTH_PX at its relative width
    (a thick marker digit is a small digit: the pen, not the digit, has a fixed width)."""
    return int(max(6, min(height, MAX_WIDTH_PX / style.width_rel)))


def skeleton_polylines(
    skeleton: Skeleton, style: Style, height: float, rng: np.random.Generator
) -> list[Polyline]:
    """The strokes of ``skeleton`` written in ``style`` at ``height`` pixels, in pixels."""
    warp = Warp.random(rng, style.warp)
    moved = _Moved(rng, style.warp * 0.8)
    m = affine(
        scale_x=style.aspect * height,
        scale_y=height,
        slant=style.slant,
        rotation=style.rotation,
        centre=(0.5, 0.5),
    )
    base_w = float(np.clip(style.width_rel * height, MIN_WIDTH_PX, MAX_WIDTH_PX))
    samples = int(np.clip(height / 5.0, 4, 16))
    out = []
    for k, stroke in enumerate(skeleton):
        pts = _stroke_points(stroke, warp, samples, moved)
        if k > 0 and style.offset > 0:
            pts = pts + rng.normal(0.0, style.offset, size=2)
        px = apply_affine(m, pts)
        if style.sparse > 0:
            px = _mouse(px, style, rng)
        out.append(Polyline(px, _widths(len(px), base_w, style, rng)))
    return out


def _stroke_points(stroke, warp: Warp, samples: int, moved: _Moved) -> np.ndarray:
    """The dense unit-box points of one stroke: each piece splined, pieces joined."""
    parts = []
    for i, piece in enumerate(stroke):
        ctrl = warp(moved(piece))
        dense = catmull_rom(ctrl, samples)
        parts.append(dense if i == 0 else dense[1:])
    return np.concatenate(parts, axis=0)


class _Moved:
    """Independent random displacement of every control point of one glyph (flag lengths, bar
    heights, loop sizes vary). A point shared by two pieces or strokes moves once, so joins
    and corners stay joined."""

    def __init__(self, rng: np.random.Generator, sigma: float) -> None:
        self.rng, self.sigma = rng, sigma
        self.cache: dict[tuple[float, float], np.ndarray] = {}

    def __call__(self, piece) -> np.ndarray:
        pts = np.asarray(piece, dtype=np.float64)
        if self.sigma <= 0:
            return pts
        out = np.empty_like(pts)
        for j, p in enumerate(piece):
            key = (float(p[0]), float(p[1]))
            d = self.cache.get(key)
            if d is None:
                d = self.cache[key] = self.rng.normal(0.0, self.sigma, 2)
            out[j] = pts[j] + d
        return out


def _mouse(px: np.ndarray, style: Style, rng: np.random.Generator) -> np.ndarray:
    """Resample every ``style.sparse`` pixels and add a wobbling random walk."""
    seg = np.linalg.norm(np.diff(px, axis=0), axis=1)
    dist = np.concatenate([[0.0], np.cumsum(seg)])
    n = max(2, int(dist[-1] / style.sparse) + 1)
    at = np.linspace(0.0, dist[-1], n)
    res = np.stack([np.interp(at, dist, px[:, 0]), np.interp(at, dist, px[:, 1])], axis=1)
    walk = np.cumsum(rng.normal(0.0, style.jitter, size=res.shape), axis=0)
    walk -= np.linspace(0.0, 1.0, n)[:, None] * walk[-1]  # pinned at both ends: no drift
    return res + walk * 0.5 + rng.normal(0.0, style.jitter * 0.5, size=res.shape)


def _widths(n: int, base: float, style: Style, rng: np.random.Generator) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)
    f = rng.uniform(0.5, 2.0)
    w = base * (1.0 + style.pressure * np.sin(2.0 * np.pi * f * t + rng.uniform(0, 2 * np.pi)))
    if style.taper and n > 4:
        w *= np.clip(np.minimum(t, 1.0 - t) / 0.12, 0.55, 1.0)
    return np.maximum(w, MIN_WIDTH_PX)


def finish_ink(
    ink: np.ndarray, intensity: float, grain: float, rng: np.random.Generator, rough: float = 0.0
) -> np.ndarray:
    """Scale ink to ``intensity``; for pencil, break it up with a paper-grain texture; for a
    rough marker, threshold it with a noisy level (ragged edges, like a bilevel scan)."""
    if rough > 0:
        noisy = ink + rough * (rng.random(ink.shape, dtype=np.float32) - 0.5)
        ink = (noisy > 0.5).astype(np.float32)
    if grain > 0:
        ink = ink * (1.0 - grain * rng.random(ink.shape, dtype=np.float32))
    if intensity != 1.0:
        ink = ink * np.float32(intensity)
    return ink.astype(np.float32, copy=False)
