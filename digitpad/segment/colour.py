"""Is the page grey ink on coloured rulings? Then the rulings can be told apart by colour.

Light blue squared or ruled paper is darker than pencil in the pixels' darkest (red) channel, so
the usual ink map sees the grid as the strongest ink on the page. Grey ink darkens all three
channels alike and the grid mostly the red one, so in the lightest channel the order flips.
"""

from __future__ import annotations

import numpy as np

# Spread of a pixel's three channels divided by the paper's (0 = the paper's hue, only darker).
COLOURED_SPREAD = 0.15  # printed rulings' median spread at least this: coloured (blue, green)
GREY_SPREAD = 0.08  # the ink's median spread below this: grey (pencil, black, graphite)
MIN_PIXELS = 50  # fewer ruling or ink pixels than this: too few to judge
SAMPLE = 4000  # pixels of each kind looked at (evenly spaced): plenty for a median


def grey_ink_on_coloured_rulings(rgb: np.ndarray, lines: np.ndarray, ink: np.ndarray) -> bool:
    """True when the ruling pixels ``lines`` are coloured and the other ``ink`` pixels are grey.

    ``rgb`` is the (H, W, 3) uint8 page; ``lines`` and ``ink`` are boolean masks of its shape.
    Colour is measured relative to the paper (its median colour), so beige or grey paper, whose
    own hue tints every stroke on it, does not make grey ink look coloured.
    """
    ink_only = ink & ~lines
    ruling_px = _sample(rgb, lines)
    ink_px = _sample(rgb, ink_only)
    if ruling_px is None or ink_px is None:
        return False
    paper = np.median(
        rgb[:: max(1, rgb.shape[0] // 64), :: max(1, rgb.shape[1] // 64)].reshape(-1, 3), axis=0
    )
    paper = np.maximum(paper.astype(np.float32), 1.0)
    return bool(
        np.median(_spread(ruling_px, paper)) >= COLOURED_SPREAD
        and np.median(_spread(ink_px, paper)) < GREY_SPREAD
    )


def _sample(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """Up to ``SAMPLE`` evenly spaced pixels of ``rgb`` under ``mask`` (N, 3) float32, or None."""
    ys, xs = np.nonzero(mask)
    if ys.size < MIN_PIXELS:
        return None
    step = max(1, ys.size // SAMPLE)
    return rgb[ys[::step], xs[::step]].astype(np.float32)


def _spread(pixels: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """Per pixel: max minus min over channels of the pixel divided by the paper colour."""
    ratio = np.minimum(pixels / paper, 1.0)
    return ratio.max(axis=1) - ratio.min(axis=1)
