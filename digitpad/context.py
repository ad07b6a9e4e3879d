"""What a crop cannot show: where its box sits among the other boxes of the page.

The classifier sees every box scaled into the same 28x28 square, so a dot, a comma, a fragment
of a cut and a digit all fill it alike, and a faint pencil digit looks as dark as marker. The
context stage of a model (see :class:`~digitpad.classifier.Classifier`) reads the classifier's
probabilities again together with the features computed here: the box's size against the sure
digits of its page and its row, its shape, how much ink it holds and how strong, where it sits
in its row's band, and its nearest neighbour on the line.

Training (``digitpad.training.context``) and the recogniser build the stage's input with the
same :func:`context_input`, so both see the same numbers. Pure numpy and OpenCV.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from digitpad.preprocess import U8_INK_MIN
from digitpad.segment.boxes import SMALL_DIGIT_PX
from digitpad.types import CLASSES, CONTEXT_WIDTH, NOT_DIGIT_INDEX, NOT_DIGIT_LEVEL, Box

# a whole box whose best digit reaches SURE (and that is more digit than not) sets the scale
# of its page and row: letters, marks and fragments must not
SURE = 0.9
FAR = 10.0  # neighbour gaps are capped here (in box heights); no neighbour counts as this far
FEATURES = (
    "log_height_vs_page",
    "log_height_vs_row",
    "log_aspect",
    "ink_fill",
    "ink_strength",
    "neighbour_gap",
    "neighbour_height",
    "log_height_px",
    "top_vs_row",
    "bottom_vs_row",
    "row_band",
    "sure_share",
    "is_part",
)
N_FEATURES = len(FEATURES)
WIDTH = CONTEXT_WIDTH  # one row of the context stage's input
FEATURE_CHUNK = 512  # boxes whose features are computed at once (see box_features)
# A small digit written beside big ones ("2026" at 300 px and a "5" at 48): generated pages keep
# one size within a row, so the stage reads a digit far smaller than its row's as "not a digit".
# The classifier's sure reading (SURE) stands for a whole box of at least SMALL_DIGIT_PX and
# under SMALL_SHARE of its row's height, clear of its nearest neighbour by SMALL_GAP of its own
# height and standing on the row's baseline: its bottom at most SMALL_ABOVE of the row's height
# above the row's bottom and SMALL_BELOW below it. A letter in a word has a neighbour close by,
# a quote mark hangs at the top, a comma below the line (benchmarks/HISTORY.md: small digits
# beside big ones read, marks hanging from the top not).
SMALL_SHARE = 0.5
SMALL_GAP = 0.3
SMALL_ABOVE = 0.15
SMALL_BELOW = 0.05
# A mark under HANG_SHARE of its row's height whose bottom stands more than HANG_ABOVE of the
# row's height above the row's baseline, beside a neighbour on the line at least 1 / HANG_SHARE
# times its height and within HANG_NEAR of its own height, hangs from the top of that
# neighbour's line: a quote mark, an apostrophe (a thousands separator: 1'250), a tick. The
# stage reads a straight one as a "1" (generated pages hang few quote marks, and no digit); it
# is "not a digit". The neighbour test spares a smaller number written higher than a bigger
# one further along: a box's row is every sure digit level with it, however far.
HANG_SHARE = 0.5
HANG_ABOVE = 0.5
HANG_NEAR = 1.5


def _xyxy(boxes: Sequence[Box]) -> np.ndarray:
    return np.array([(b.x0, b.y0, b.x1, b.y1) for b in boxes], np.float32).reshape(-1, 4)


def _masked_median(
    values: np.ndarray, mask: np.ndarray, fallback: np.ndarray | float
) -> np.ndarray:
    """Per row of ``mask`` (N, M): the median of ``values`` (M,) where it is true, else
    ``fallback``. The same numbers as ``np.nanmedian`` over the masked values, whose small-array
    path (masked arrays) took a sixth of the time of reading a row of ten digits."""
    n, m = mask.shape
    count = mask.sum(axis=1)
    if m == 0:
        # no column: every row falls back, in the float64 np.nanmedian's NaNs would give
        return np.where(count > 0, np.full(n, np.nan), fallback)
    # masked-out values sort last; the middle one or two of each row's count are its median
    v = np.sort(np.where(mask, values[None, :], np.inf), axis=1)
    rows = np.arange(n)
    lo, hi = np.maximum((count - 1) // 2, 0), np.minimum(count // 2, m - 1)
    med = (v[rows, lo] + v[rows, hi]) / 2
    return np.where(count > 0, med, fallback)


def ink_integrals(ink_u8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The integral images of an ink map that :func:`box_features` sums boxes with: of its
    inky pixels (at least ``U8_INK_MIN``) and of its ink. Computed once per page by a reader."""
    return cv2.integral((ink_u8 >= U8_INK_MIN).view(np.uint8)), cv2.integral(ink_u8)


def box_features(
    ink_u8: np.ndarray,
    boxes: Sequence[Box],
    whole: Sequence[Box],
    whole_probs: np.ndarray,
    whole_mask: np.ndarray | None = None,
    integrals: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """The :data:`FEATURES` (N, N_FEATURES) float32 of ink-map ``boxes`` on the page whose
    segmenter boxes are ``whole``, read by the classifier as ``whole_probs`` (M, 11).

    ``whole_mask`` (N,) says which ``boxes`` are segmenter boxes (None: all of them); the others
    are parts of cuts. ``integrals`` are :func:`ink_integrals` of ``ink_u8`` (None: computed
    here). Never raises for boxes inside ``ink_u8``; no boxes give (0, N_FEATURES).
    """
    n = len(boxes)
    if n == 0:
        return np.zeros((0, N_FEATURES), np.float32)
    if n > FEATURE_CHUNK and len(whole):
        # each box is compared with every whole box: in parts, a page of thousands of marks
        # needs megabytes, not gigabytes; given whole boxes, a box's features do not depend on
        # the other boxes (without any, the scale is the boxes' own median: one part at once)
        integrals = integrals or ink_integrals(ink_u8)
        return np.concatenate(
            [
                box_features(
                    ink_u8,
                    boxes[lo : lo + FEATURE_CHUNK],
                    whole,
                    whole_probs,
                    None if whole_mask is None else whole_mask[lo : lo + FEATURE_CHUNK],
                    integrals,
                )
                for lo in range(0, n, FEATURE_CHUNK)
            ]
        )
    b = _xyxy(boxes)
    w = _xyxy(whole)
    h = np.maximum(b[:, 3] - b[:, 1], 1.0)
    wd = np.maximum(b[:, 2] - b[:, 0], 1.0)
    wh = np.maximum(w[:, 3] - w[:, 1], 1.0)
    probs = np.asarray(whole_probs, np.float32).reshape(len(w), len(CLASSES))
    sure = (probs[:, :NOT_DIGIT_INDEX].max(axis=1) >= SURE) & (
        probs[:, NOT_DIGIT_INDEX] < NOT_DIGIT_LEVEL
    )
    ref = float(np.median(wh[sure] if sure.any() else wh)) if len(wh) else float(np.median(h))
    # the sure digits sharing each box's line set its row's height and band
    overlap = np.minimum(b[:, None, 3], w[None, :, 3]) - np.maximum(b[:, None, 1], w[None, :, 1])
    small = np.minimum(h[:, None], wh[None, :])
    same_row = (overlap >= 0.5 * small) & sure[None, :]
    row_h = _masked_median(wh, same_row, ref)
    row_y0 = _masked_median(w[:, 1], same_row, b[:, 1])
    row_y1 = _masked_median(w[:, 3], same_row, b[:, 3])
    fill, strength = _ink_in(integrals or ink_integrals(ink_u8), b, h * wd)
    gap, neighbour_h = _nearest_on_line(b, w, h, wh, overlap >= 0.3 * small)
    is_part = np.zeros(n, np.float32) if whole_mask is None else ~np.asarray(whole_mask, bool)
    return np.stack(
        [
            np.log(h / ref),
            np.log(h / row_h),
            np.log(wd / h),
            fill,
            strength,
            gap,
            neighbour_h,
            np.log(h),
            (b[:, 1] - row_y0) / row_h,
            (b[:, 3] - row_y1) / row_h,
            (row_y1 - row_y0) / row_h,
            np.full(n, sure.mean() if len(sure) else 0.0),
            is_part,
        ],
        axis=1,
    ).astype(np.float32)


def _ink_in(
    integrals: tuple[np.ndarray, np.ndarray], b: np.ndarray, area: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Share of inky pixels in each box, and the box's whole ink over its inky pixels (about
    their mean strength, 0-1; faint pixels below ``U8_INK_MIN`` add to it, so it can pass 1)."""
    inky, total = integrals
    x0, y0, x1, y1 = (b[:, k].astype(np.intp) for k in range(4))

    def box_sum(s: np.ndarray) -> np.ndarray:
        return (s[y1, x1] - s[y0, x1] - s[y1, x0] + s[y0, x0]).astype(np.float32)

    count = box_sum(inky)
    return count / area, box_sum(total) / np.maximum(count, 1.0) / 255.0


def _nearest_on_line(
    b: np.ndarray, w: np.ndarray, h: np.ndarray, wh: np.ndarray, on_line: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gap to the nearest other segmenter box on each box's line (in box heights, capped at
    FAR) and that neighbour's height over the box's (0 when there is none)."""
    itself = np.abs(b[:, None, :] - w[None, :, :]).sum(axis=2) == 0
    gaps = np.maximum(w[None, :, 0] - b[:, None, 2], b[:, None, 0] - w[None, :, 2])
    gaps = np.where(on_line & ~itself, gaps, np.inf)
    if gaps.shape[1] == 0:
        return np.full(len(b), FAR, np.float32), np.zeros(len(b), np.float32)
    k = gaps.argmin(axis=1)
    nearest = gaps[np.arange(len(b)), k]
    found = np.isfinite(nearest)
    gap = np.where(found, np.minimum(nearest / h, FAR), FAR)
    return gap, np.where(found, wh[k] / h, 0.0)


def context_input(probs: np.ndarray, features: np.ndarray) -> np.ndarray:
    """The context stage's input (N, WIDTH) float32: the classifier's probabilities (N, 11)
    beside the box features (N, N_FEATURES)."""
    return np.ascontiguousarray(np.hstack([probs, features]), dtype=np.float32)


def small_digits(rows: np.ndarray, staged: np.ndarray) -> np.ndarray:
    """Which of M boxes (a bool mask (M,)) are small digits beside big ones that the stage
    turned down (see ``SMALL_SHARE``): their classifier rows ``rows`` (M, WIDTH) of
    :func:`context_input` read a sure digit, the stage's readings ``staged`` (M, 11) read "not
    a digit". Pure; never raises for matching shapes.
    """
    k = len(CLASSES)
    col = FEATURES.index
    # the cheap tests first: most boxes the stage turns down are parts of cuts, and on most
    # pages it turns down none of the page's own boxes (the rule costs a row about 27 us)
    small = (staged[:, NOT_DIGIT_INDEX] >= NOT_DIGIT_LEVEL) & (rows[:, k + col("is_part")] == 0)
    if not small.any():
        return small
    probs, f = rows[:, :k], rows[:, k:]
    return (
        small
        & (probs[:, :NOT_DIGIT_INDEX].max(axis=1) >= SURE)
        & (probs[:, NOT_DIGIT_INDEX] < NOT_DIGIT_LEVEL)
        & (f[:, col("log_height_px")] >= np.log(SMALL_DIGIT_PX))
        & (f[:, col("log_height_vs_row")] < np.log(SMALL_SHARE))
        & (f[:, col("neighbour_gap")] >= SMALL_GAP)
        & (f[:, col("bottom_vs_row")] >= -SMALL_ABOVE)
        & (f[:, col("bottom_vs_row")] <= SMALL_BELOW)
    )


def hanging_marks(rows: np.ndarray, staged: np.ndarray) -> np.ndarray:
    """Which of M boxes (a bool mask (M,)) are marks hanging from the top of their row that the
    stage reads as digits (see ``HANG_SHARE``), from their classifier rows ``rows`` (M, WIDTH)
    of :func:`context_input` and the stage's readings ``staged`` (M, 11). Pure; never raises
    for matching shapes.
    """
    k = len(CLASSES)
    f = rows[:, k:]
    col = FEATURES.index
    return (
        (f[:, col("bottom_vs_row")] < -HANG_ABOVE)
        & (f[:, col("is_part")] == 0)
        & (f[:, col("log_height_vs_row")] < np.log(HANG_SHARE))
        & (f[:, col("neighbour_height")] >= 1 / HANG_SHARE)
        & (f[:, col("neighbour_gap")] <= HANG_NEAR)
        & (staged[:, :NOT_DIGIT_INDEX].max(axis=1) > staged[:, NOT_DIGIT_INDEX])
    )
