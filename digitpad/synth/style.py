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


def sample_style(family: str, rng: np.random.Generator) -> Style:
    """A random style of ``family`` (one of FAMILIES)."""
    slant = float(rng.normal(0.12, 0.15))
    rotation = float(rng.normal(0.0, 0.06))
    aspect = float(rng.uniform(0.5, 0.95))
    warp = float(rng.uniform(0.015, 0.06))
    if family == "pen":
        return Style(
            family,
            slant,
            rotation,
            aspect,
            warp,
            float(rng.uniform(0.04, 0.12)),
            float(rng.uniform(0.05, 0.3)),
            bool(rng.random() < 0.6),
            0.0,
            0.0,
            float(rng.uniform(0.0, 0.03)),
            float(rng.uniform(0.75, 1.0)),
            0.0,
        )
    if family == "mouse":
        return Style(
            family,
            slant * 0.6,
            rotation,
            aspect,
            warp * 1.3,
            float(rng.uniform(0.04, 0.13)),
            float(rng.uniform(0.0, 0.1)),
            False,
            float(rng.uniform(0.1, 0.7)),
            float(rng.uniform(2.0, 6.0)),
            float(rng.uniform(0.0, 0.06)),
            1.0,
            0.0,
        )
    if family == "marker":
        return Style(
            family,
            slant,
            rotation,
            float(rng.uniform(0.6, 1.05)),
            warp,
            float(rng.uniform(0.12, 0.24)),
            float(rng.uniform(0.0, 0.15)),
            False,
            0.0,
            0.0,
            float(rng.uniform(0.0, 0.02)),
            1.0,
            0.0,
        )
    if family == "pencil":
        return Style(
            family,
            slant,
            rotation,
            aspect,
            warp,
            float(rng.uniform(0.03, 0.08)),
            float(rng.uniform(0.1, 0.35)),
            bool(rng.random() < 0.5),
            0.0,
            0.0,
            float(rng.uniform(0.0, 0.03)),
            float(rng.uniform(0.45, 0.85)),
            float(rng.uniform(0.2, 0.5)),
        )
    raise ValueError(f"unknown style family {family!r}; expected one of {FAMILIES}")


def skeleton_polylines(
    skeleton: Skeleton, style: Style, height: float, rng: np.random.Generator
) -> list[Polyline]:
    """The strokes of ``skeleton`` written in ``style`` at ``height`` pixels, in pixels."""
    warp = Warp.random(rng, style.warp)
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
        pts = _stroke_points(stroke, warp, samples)
        if k > 0 and style.offset > 0:
            pts = pts + rng.normal(0.0, style.offset, size=2)
        px = apply_affine(m, pts)
        if style.sparse > 0:
            px = _mouse(px, style, rng)
        out.append(Polyline(px, _widths(len(px), base_w, style, rng)))
    return out


def _stroke_points(stroke, warp: Warp, samples: int) -> np.ndarray:
    """The dense unit-box points of one stroke: each piece splined, pieces joined."""
    parts = []
    for i, piece in enumerate(stroke):
        ctrl = warp(np.asarray(piece, dtype=np.float64))
        dense = catmull_rom(ctrl, samples)
        parts.append(dense if i == 0 else dense[1:])
    return np.concatenate(parts, axis=0)


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
    ink: np.ndarray, intensity: float, grain: float, rng: np.random.Generator
) -> np.ndarray:
    """Scale ink to ``intensity`` and, for pencil, break it up with a paper-grain texture."""
    if grain > 0:
        ink = ink * (1.0 - grain * rng.random(ink.shape, dtype=np.float32))
    if intensity != 1.0:
        ink = ink * np.float32(intensity)
    return ink.astype(np.float32, copy=False)
