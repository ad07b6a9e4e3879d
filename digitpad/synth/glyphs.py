"""Public glyph API: one digit or non-digit as an ink crop, and balanced training samples.

Ink crops are float32 in [0, 1] (1 = full ink, 0 = paper) with a small blank margin, the same
convention as :mod:`digitpad.preprocess`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from digitpad.synth import nondigits
from digitpad.synth.nondigits import KINDS as NONDIGIT_KINDS
from digitpad.synth.skeletons import DIGIT_SKELETONS
from digitpad.synth.strokes import rasterise
from digitpad.synth.style import (
    FAMILIES,
    finish_ink,
    fitting_height,
    sample_style,
    skeleton_polylines,
)
from digitpad.types import NOT_DIGIT_INDEX

__all__ = ["FAMILIES", "NONDIGIT_KINDS", "glyph_samples", "render_digit", "render_nondigit"]

# Glyph heights for free-standing samples: the range digits are written at on a page scan.
MIN_HEIGHT = 18
MAX_HEIGHT = 64

_ALLOGRAPHS = {
    label: (
        [skel for _, _, skel in entries],
        np.array([w for _, w, _ in entries]) / sum(w for _, w, _ in entries),
    )
    for label, entries in DIGIT_SKELETONS.items()
}


def _check_families(families: Sequence[str] | None) -> tuple[str, ...]:
    if families is None:
        return FAMILIES
    chosen = tuple(families)
    bad = [f for f in chosen if f not in FAMILIES]
    if not chosen or bad:
        raise ValueError(f"families must be a non-empty subset of {FAMILIES}, got {chosen}")
    return chosen


def _height(rng: np.random.Generator, height: int | None) -> int:
    if height is not None:
        if height < 4:
            raise ValueError(f"glyph height must be at least 4 pixels, got {height}")
        return int(height)
    # Log-uniform: as many small glyphs as big ones, relative to their size.
    return int(np.exp(rng.uniform(np.log(MIN_HEIGHT), np.log(MAX_HEIGHT))))


def render_digit(
    label: str,
    rng: np.random.Generator,
    *,
    height: int | None = None,
    families: Sequence[str] | None = None,
) -> np.ndarray:
    """A handwritten ``label`` ("0".."9") as float32 ink in [0, 1] with a 2-pixel margin.

    The digit is about ``height`` pixels tall (random when None). ``families`` restricts the
    writing styles (default: all of FAMILIES). Raises ValueError for an unknown label or family.
    """
    if label not in _ALLOGRAPHS:
        raise ValueError(f"label must be one of '0'..'9', got {label!r}")
    fams = _check_families(families)
    style = sample_style(fams[int(rng.integers(len(fams)))], rng)
    h = _height(rng, height)
    if height is None:
        h = fitting_height(style, h)
    skeletons, weights = _ALLOGRAPHS[label]
    skeleton = skeletons[int(rng.choice(len(skeletons), p=weights))]
    ink, _ = rasterise(skeleton_polylines(skeleton, style, h, rng))
    return finish_ink(ink, style.intensity, style.grain, rng, style.rough)


def render_nondigit(
    rng: np.random.Generator, *, kind: str | None = None, height: int | None = None
) -> tuple[np.ndarray, str]:
    """A non-digit mark as (float32 ink in [0, 1], its kind). See ``NONDIGIT_KINDS``.

    ``height`` is the height of the digits it stands next to (the mark itself may be much
    smaller, like a dot). Raises ValueError for an unknown kind.
    """
    h = _height(rng, height)
    return nondigits.render(rng, kind, h)


def glyph_samples(
    n: int,
    seed: int,
    *,
    negatives: float = 0.1,
    families: Sequence[str] | None = None,
) -> tuple[list[np.ndarray], np.ndarray]:
    """``n`` ink crops and int labels (0..9 digits, 10 = not a digit), class-balanced.

    A fraction ``negatives`` of the samples are non-digits; the digits are spread evenly over
    0..9; ``families`` restricts the writing styles of both. The order is shuffled. Sample
    ``i`` depends only on (seed, i), so the result is deterministic.

    Raises ValueError for n < 0, negatives outside [0, 1] or an unknown family.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 0.0 <= negatives <= 1.0:
        raise ValueError(f"negatives must be in [0, 1], got {negatives}")
    fams = _check_families(families)
    n_neg = round(n * negatives)
    labels = np.concatenate([np.arange(n - n_neg) % 10, np.full(n_neg, NOT_DIGIT_INDEX)])
    labels = np.random.default_rng([seed, 0x5EED]).permutation(labels).astype(np.int64)
    crops = []
    for i, lab in enumerate(labels):
        rng = np.random.default_rng([seed, i])
        if lab == NOT_DIGIT_INDEX:
            fam = fams[int(rng.integers(len(fams)))]
            crops.append(nondigits.render(rng, None, _height(rng, None), fam)[0])
        else:
            crops.append(render_digit(str(lab), rng, families=fams))
    return crops, labels
