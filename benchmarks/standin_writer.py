"""Synthetic stand-in writers for the adaptation benchmark (``benchmarks.adaptation --writer
standin-N``): a writer made by the generator alone, so that retrain settings can be chosen
without looking at the real writer, which is kept for measuring.

What makes the real simulated writer (``optdigits32``) hard for the shipped model is style,
not noise: thick pen-on-form digits, normalised to fill their box, so a "1" becomes a fat bar.
A stand-in writer imitates that with no real data: it keeps one pen family and one allograph
per digit for all its digits (a person writes their 4 one way), draws each 64 px high,
thickens it by an eighth of its height, stretches narrow digits a third of the way towards a
square and fits it into a 32x32 box. The shipped model misreads 2-7 % of the digits of
writers 2-5 (the real writer: about 3.5 %). Used to choose the context stage's fit of
``digitpad.retrain.stage`` (``benchmarks/HISTORY.md``, 2026-12-07).
"""

from __future__ import annotations

import cv2
import numpy as np

from digitpad.synth.skeletons import DIGIT_SKELETONS
from digitpad.synth.strokes import rasterise
from digitpad.synth.style import FAMILIES, sample_style, skeleton_polylines

SIZE = 32  # the box the digits are fitted into, as the real writer's are
DRAW_HEIGHT = 64
THICKEN = 0.12  # of the height: the pen of a form filled in with a felt tip
STRETCH = 0.35  # of the gap between a narrow digit's width and its height
FIT = 28  # the longer side inside the box


def make_writer(writer: int, n: int = 2874) -> tuple[np.ndarray, np.ndarray]:
    """``n`` digits of stand-in writer ``writer`` as float ink (N, 32, 32) in [0, 1] and their
    labels (N,), the ten digits equally often, in a seeded random order. The same ``writer``
    gives the same digits.

    Raises:
        ValueError: ``n`` is negative.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = np.random.default_rng(writer)
    family = FAMILIES[int(rng.integers(len(FAMILIES)))]
    hand = {label: _allograph(entries, rng) for label, entries in DIGIT_SKELETONS.items()}
    images = np.zeros((n, SIZE, SIZE), np.float32)
    labels = np.arange(n) % 10
    for i in range(n):
        style = sample_style(family, rng)
        ink, _ = rasterise(skeleton_polylines(hand[str(labels[i])], style, DRAW_HEIGHT, rng))
        images[i] = _normalise(np.asarray(ink, np.float32))
    order = rng.permutation(n)
    return images[order], labels[order]


def _allograph(entries: list, rng: np.random.Generator):
    """The writer's one way of writing a digit, drawn by the allographs' weights."""
    weights = np.array([w for _, w, _ in entries]) / sum(w for _, w, _ in entries)
    return entries[int(rng.choice(len(entries), p=weights))][2]


def _normalise(ink: np.ndarray) -> np.ndarray:
    """Cropped to its ink, thickened, narrow digits widened, fitted into the box's middle."""
    ys, xs = np.nonzero(ink > 0.2)
    ink = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    k = max(1, round(THICKEN * ink.shape[0]))
    ink = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    h, w = ink.shape
    ink = cv2.resize(ink, (round(w + STRETCH * max(0, h - w)), h), interpolation=cv2.INTER_LINEAR)
    scale = FIT / max(ink.shape)
    size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    ink = cv2.resize(ink, size, interpolation=cv2.INTER_AREA)
    out = np.zeros((SIZE, SIZE), np.float32)
    y0, x0 = (SIZE - ink.shape[0]) // 2, (SIZE - ink.shape[1]) // 2
    out[y0 : y0 + ink.shape[0], x0 : x0 + ink.shape[1]] = np.clip(ink, 0.0, 1.0)
    return out
