"""The ink map: how dark each pixel is compared with the paper under it, in 8 bits."""

from __future__ import annotations

import cv2
import numpy as np

from digitpad.segment.stats import percentile_of_counts, percentile_sorted

MASK_LEVEL = 0.25  # ink map value above which a pixel surely is ink
LOW_LEVEL = 0.1  # ...and above which it is ink when near sure ink (hysteresis)
UNIFORM_SPREAD = 15  # paper levels of a page's blocks within this: evenly lit
HYSTERESIS_REACH = 7  # "near": within this window (pixels)
MASK_U8 = round(MASK_LEVEL * 255)
LOW_U8 = round(LOW_LEVEL * 255)


def ink_map(rgb: np.ndarray) -> tuple[np.ndarray, bool]:
    """Float32 ink in [0, 1] for an RGB page, and whether the page was light-on-dark."""
    ink, inverted = ink_map_u8(rgb)
    return ink.astype(np.float32) * np.float32(1.0 / 255.0), inverted


def ink_map_u8(rgb: np.ndarray, *, grey_ink: bool = False) -> tuple[np.ndarray, bool]:
    """Ink as uint8 (255 = solid ink, 0 = paper) for an RGB page, and whether it was inverted.

    Darkness is read in each pixel's darkest channel, where coloured ink is dark. With
    ``grey_ink`` (ignored for light-on-dark pages) it is read in the lightest channel instead:
    grey ink (pencil, black) is as dark there, while light coloured printed rulings (a blue
    grid) almost vanish. All in 8-bit OpenCV operations: this runs on every pixel of every page.
    """
    inverted = is_inverted(rgb)
    # coloured ink is dark in at least one channel; light ink is bright in one, so flip it
    lightest_or_darkest = channel_extreme(rgb, lightest=inverted or grey_ink)
    dark = cv2.bitwise_not(lightest_or_darkest) if inverted else lightest_or_darkest
    background = estimate_background(dark)
    # relative darkness 255 * (bg - dark) / bg: 0 on paper, ~255 for black ink, in any light
    diff = cv2.subtract(background, dark)
    darkness = cv2.divide(diff, cv2.add(background, 1), scale=255.0)
    lo, hi = _stretch_levels(darkness)
    # stretch [lo, hi] to [0, 255] with a lookup table
    levels = (np.arange(256, dtype=np.float32) - lo) * (255.0 / max(hi - lo, 1.0))
    lut = np.clip(levels, 0, 255).astype(np.uint8)
    return cv2.LUT(darkness, lut), inverted


_ACROSS_CHANNELS = np.ones((1, 3), np.uint8)


def channel_extreme(rgb: np.ndarray, *, lightest: bool) -> np.ndarray:
    """Per pixel, the darkest (or with ``lightest`` the lightest) of its three channels.

    One 1x3 erosion (dilation) along the interleaved rows, read at each pixel's middle channel,
    whose window is exactly that pixel's three channels: the same values as the minimum (maximum)
    of the split channels, several times faster than ``cv2.split`` on large pages.
    """
    h, w = rgb.shape[:2]
    flat = np.ascontiguousarray(rgb).reshape(h, w * 3)
    extreme = (cv2.dilate if lightest else cv2.erode)(flat, _ACROSS_CHANNELS)
    return np.ascontiguousarray(extreme[:, 1::3])


def is_inverted(rgb: np.ndarray) -> bool:
    """True when the page is light ink on a dark background (most pixels are dark)."""
    small = cv2.resize(rgb, (64, 64), interpolation=cv2.INTER_NEAREST)
    return float(np.median(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))) < 100.0


def estimate_background(dark: np.ndarray) -> np.ndarray:
    """A smooth estimate of the paper's brightness under the ink (uint8, same shape).

    Evenly lit paper (a scan, a canvas) gets one level for the whole page, so strokes of any
    width stay whole. Otherwise, on a small copy, a max filter (grey dilation) wipes out dark
    strokes narrower than the kernel, and a median smooths paper texture; scaled back up.
    """
    h, w = dark.shape
    factor = max(1, round(max(h, w) / 160))
    if factor == 1 and max(h, w) <= 64:
        return np.full_like(dark, int(np.percentile(dark, 90)))
    sw, sh = max(1, w // factor), max(1, h // factor)
    # shrink a whole multiple of the factor: OpenCV's area resize has a fast path for integer
    # ratios (8x faster on a 940x160 row); the few right and bottom pixels left out do not
    # change a smooth background
    whole = dark[: sh * factor, : sw * factor] if min(h, w) >= factor else dark
    small = cv2.resize(whole, (sw, sh), interpolation=cv2.INTER_AREA)
    level = _uniform_paper(small)
    if level is not None:
        return np.full_like(dark, level)
    # strokes of a digit half the page tall are about 1/25 of the page; the kernel must be wider
    k = max(3, (max(small.shape) // 18) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    closed = cv2.dilate(small, kernel)
    closed = cv2.medianBlur(closed, min(k, 5) | 1)
    return cv2.resize(closed, (w, h), interpolation=cv2.INTER_LINEAR)


def _uniform_paper(small: np.ndarray) -> int | None:
    """The paper level when the page is evenly lit, else None.

    The 95th percentile of each of 4x4 blocks is its paper (a block is never all ink: the
    widest stroke of a digit half the page tall is narrower than a block). Even light means
    these agree within ``UNIFORM_SPREAD`` levels.
    """
    h, w = small.shape
    if h < 8 or w < 8:
        return None
    bh, bw = h // 4, w // 4
    blocks = small[: 4 * bh, : 4 * bw].reshape(4, bh, 4, bw).transpose(0, 2, 1, 3)
    levels = percentile_sorted(np.sort(blocks.reshape(16, bh * bw), axis=1), 95.0)
    if float(levels.max() - levels.min()) > UNIFORM_SPREAD:
        return None
    return int(np.median(levels))


def _stretch_levels(darkness: np.ndarray) -> tuple[float, float]:
    """The darkness (0..255) of plain paper (noise floor) and of solid ink on this page."""
    step_y, step_x = max(1, darkness.shape[0] // 150), max(1, darkness.shape[1] // 150)
    sample = darkness[::step_y, ::step_x]
    # a uint8 sample has at most 256 values: its histogram gives the same medians and
    # percentile as the float array would (same float32 values, same order statistics),
    # without sorting every pixel
    counts = np.bincount(sample.ravel(), minlength=256)
    flat_levels = _LEVELS  # the float32 value of each uint8 level, as the float array holds it
    med = float(_median_of(flat_levels, counts))
    dev = np.abs(flat_levels - med)
    order = np.argsort(dev, kind="stable")
    mad = float(_median_of(dev[order], counts[order])) + 1e-3
    lo = min(0.25, max(0.06, med + 6.0 * mad))
    inky_levels = flat_levels > lo + 0.05
    n_inky = int(counts[inky_levels].sum())
    if n_inky < 20:
        hi = 0.6
    else:
        p90, p999 = percentile_of_counts(flat_levels[inky_levels], counts[inky_levels], (90, 99.9))
        # most inky pixels may be faint printed rulings (squared paper): then the 90th
        # percentile is the rulings' level, and stretching it to solid ink would make ink
        # and rulings alike; the darkest ink on the page keeps them apart
        hi = max(float(p90), 0.8 * float(p999))
    hi = float(np.clip(hi, lo + 0.12, 0.75))
    return lo * 255.0, hi * 255.0


_LEVELS = np.arange(256, dtype=np.uint8).astype(np.float32) * (1.0 / 255.0)


def _median_of(values: np.ndarray, counts: np.ndarray) -> np.floating:
    """``np.median`` of the array holding ``values[i]`` ``counts[i]`` times (``values``
    ascending), computed like numpy does: the mean of the one or two middle elements."""
    n = int(counts.sum())
    ends = np.cumsum(counts)
    mid = n // 2
    # the element at sorted position k is values[first i with ends[i] > k]
    pick = values[np.searchsorted(ends, [mid - 1, mid] if n % 2 == 0 else [mid], side="right")]
    return pick.mean()  # what np.median returns for one or two elements, without its overhead


def hysteresis(weak: np.ndarray, strong: np.ndarray) -> np.ndarray:
    """``strong`` plus the ``weak`` pixels within a few pixels of a strong one.

    Thin pencil strokes dip below ``MASK_LEVEL`` along their length; a single threshold would
    break one digit into many pieces, a low one alone would keep paper noise and the remains
    of faint rulings. Growing only a short way bridges the dips without following a ruling.
    """
    near = cv2.dilate(
        strong.astype(np.uint8), np.ones((HYSTERESIS_REACH, HYSTERESIS_REACH), np.uint8)
    )
    return strong | (weak & near.astype(bool))
